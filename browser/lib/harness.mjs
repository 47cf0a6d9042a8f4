// Shared plumbing for the browser suite: start earshot on a free loopback port,
// launch the local Chromium through playwright-core, serve a second origin, and
// find Space ids in each state by reading earshot's own pages.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..');
export const OUT = join(ROOT, 'out');

export const EARSHOT_BIN = process.env.EARSHOT_BIN
  ? resolve(process.env.EARSHOT_BIN)
  : resolve(ROOT, '..', 'target', 'release', 'earshot');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Headless Chromium on a closed network: without the background-networking flags it
// waits on requests that never answer.
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-default-apps',
  '--disable-extensions',
  '--metrics-recording-only',
  '--password-store=basic',
  '--use-mock-keychain',
];

export function outDir(...parts) {
  const dir = join(OUT, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Asks the kernel for a free loopback port. */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/**
 * Starts earshot with the demo upstream on a free port and resolves once it prints
 * its "earshot is running" line. Returns { url, port, stop, log }.
 */
export async function startEarshot({ speed, liveTtl = 2, cacheTtl = 30, seed = 7, extra = [] } = {}) {
  // A port picked by freePort can be taken before earshot binds it: try a few.
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await spawnEarshot(port, { speed, liveTtl, cacheTtl, seed, extra });
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}

function spawnEarshot(port, { speed, liveTtl, cacheTtl, seed, extra }) {
  const args = [
    '--bind', `127.0.0.1:${port}`,
    '--demo-seed', String(seed),
    '--live-ttl', String(liveTtl),
    '--cache-ttl', String(cacheTtl),
    // The suite stops earshot after each file: no readiness grace to wait out.
    '--shutdown-grace', '0',
    // One browser here opens dozens of new pages and searches a minute: more than a
    // visitor's share of cold upstream lookups (tested in tests/upstream_budget.rs).
    '--upstream-budget', '0',
  ];
  if (speed) args.push('--demo-speed', String(speed));
  args.push(...extra);
  const child = spawn(EARSHOT_BIN, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  let log = '';
  const onData = (chunk) => {
    log += chunk.toString();
    if (log.length > 200_000) log = log.slice(-100_000);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  const stop = () =>
    new Promise((res) => {
      if (child.exitCode !== null || child.signalCode !== null) return res();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        res();
      });
      child.kill('SIGTERM');
    });

  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      stop();
      rej(new Error(`earshot did not say it was running within 30 s:\n${log}`));
    }, 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      rej(new Error(`cannot start ${EARSHOT_BIN} (set EARSHOT_BIN): ${err.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`earshot exited with ${code} before it was ready:\n${log}`));
    });
    const watch = () => {
      const m = log.match(/earshot is running: open (http:\/\/127\.0\.0\.1:\d+)\/?/);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', watch);
        child.removeAllListeners('exit');
        res({ url: m[1], port, stop, log: () => log, child });
      }
    };
    child.stdout.on('data', watch);
  });
}

/** Launches the machine's Chromium headless with the flags a closed network needs. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    timeout: 60_000,
  });
}

/**
 * A tiny second origin: serves the given routes (path -> html string or function
 * returning one) on another loopback port.
 */
export async function startHostServer(routes) {
  const port = await freePort();
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const route = routes[path];
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const body = typeof route === 'function' ? route(req) : route;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body);
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Plain fetch of a page's HTML, with status. */
export async function fetchText(url, init) {
  const res = await fetch(url, { redirect: 'manual', ...init });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Space ids linked from an HTML page, in page order, de-duplicated. */
export function spaceIds(html) {
  const ids = [];
  for (const m of html.matchAll(/href="\/spaces\/([A-Za-z0-9]{1,32})"/g)) {
    if (!ids.includes(m[1])) ids.push(m[1]);
  }
  return ids;
}

/** The state badges of the cards on a page: [{ id, state }]. */
export function cards(html) {
  const out = [];
  const re = /<li class="card card-([a-z_-]+)"[\s\S]*?href="\/spaces\/([A-Za-z0-9]{1,32})"/g;
  for (const m of html.matchAll(re)) out.push({ state: m[1], id: m[2] });
  return out;
}

/**
 * Finds a Space in each state by reading earshot's pages, and a user id and a few
 * more URLs. States that cannot be found stay undefined.
 */
export async function discover(base) {
  const found = {};
  const home = await fetchText(`${base}/`);
  const live = cards(home.text).find((c) => c.state === 'live');
  if (live) found.live = live.id;
  const up = await fetchText(`${base}/upcoming`);
  // The furthest out, so that it is still scheduled when a test gets to it.
  const sched = cards(up.text).filter((c) => c.state === 'scheduled').at(-1);
  if (sched) found.scheduled = sched.id;
  for (const state of ['ended', 'all']) {
    const res = await fetchText(`${base}/search?q=a&state=${state}`);
    for (const c of cards(res.text)) {
      if (!found[c.state]) found[c.state] = c.id;
    }
  }
  // A few more words in case "a" missed a state (cancelled Spaces are rarer).
  for (const q of ['e', 'o', 'the']) {
    if (found.cancelled && found.ended && found.live && found.scheduled) break;
    const res = await fetchText(`${base}/search?q=${q}&state=all`);
    for (const c of cards(res.text)) if (!found[c.state]) found[c.state] = c.id;
  }
  // Search does not list cancelled Spaces; their hosts' pages do (?state=cancelled).
  if (!found.cancelled) {
    const users = [];
    for (const text of [home.text, up.text]) {
      for (const m of text.matchAll(/href="\/users\/(\d{1,20})"/g)) if (!users.includes(m[1])) users.push(m[1]);
    }
    for (const u of users.slice(0, 40)) {
      const res = await fetchText(`${base}/users/${u}?state=cancelled`);
      const c = cards(res.text).find((x) => x.state === 'cancelled');
      if (c) {
        found.cancelled = c.id;
        break;
      }
    }
  }
  if (found.live) {
    const page = await fetchText(`${base}/spaces/${found.live}`);
    const user = page.text.match(/href="\/users\/(\d{1,20})"/);
    if (user) found.user = user[1];
  }
  return found;
}

/** Polls `fn` until it returns a truthy value or the timeout passes. */
export async function waitFor(fn, { timeout = 30_000, interval = 250, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${message} (last: ${last})`);
}

export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
