// Lighthouse on /, a live Space page and the embed, with the machine's Chromium and
// no network beyond loopback. Writes lighthouse-scores.json (tracked) and the full
// reports under out/lighthouse/ (ignored), and exits non-zero when a target is missed:
// accessibility, best practices and SEO 100; performance at least 95.
//
// Env: EARSHOT_BIN (default ../target/release/earshot), CHROMIUM_PATH (default
// /usr/bin/chromium), LIGHTHOUSE_FORM_FACTOR (mobile, the default, or desktop).
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import { startEarshot, discover, outDir, CHROMIUM, CHROMIUM_FLAGS, ROOT, tempDir, EARSHOT_BIN } from './lib/harness.mjs';

const TARGETS = { performance: 95, accessibility: 100, 'best-practices': 100, seo: 100 };
// Audits a page fails by design, and must: robots.txt keeps crawlers off the embed
// (DESIGN, "Feeds, calendars and search engines"), so Lighthouse's SEO finds it not
// crawlable. Its SEO target counts every other audit; this one must still fail,
// so a robots.txt that stopped covering the embed is caught too.
const BY_DESIGN = { embed: { seo: ['is-crawlable'] } };
const formFactor = process.env.LIGHTHOUSE_FORM_FACTOR === 'desktop' ? 'desktop' : 'mobile';
// Performance moves a point or two between runs on a busy 2-core machine: like LHCI,
// run each page several times and keep the median run (by performance score).
const RUNS = Math.max(1, Number(process.env.LIGHTHOUSE_RUNS ?? 3));

const started = Date.now();
const earshot = await startEarshot({ liveTtl: 2, cacheTtl: 30 });
const profile = tempDir('earshot-lh-');
let chrome;
let failed = false;
const results = {};
try {
  const found = await discover(earshot.url);
  if (!found.live) throw new Error('no live Space found on /');
  const pages = {
    home: '/',
    'space-live': `/spaces/${found.live}`,
    embed: `/embed/spaces/${found.live}`,
  };

  chrome = await chromeLauncher.launch({
    chromePath: CHROMIUM,
    chromeFlags: ['--headless=new', ...CHROMIUM_FLAGS],
    userDataDir: profile.dir,
    logLevel: 'error',
  });

  const config = {
    extends: 'lighthouse:default',
    settings: {
      formFactor,
      ...(formFactor === 'desktop'
        ? {
            screenEmulation: { mobile: false, width: 1350, height: 940, deviceScaleFactor: 1, disabled: false },
            throttling: { rttMs: 40, throughputKbps: 10240, cpuSlowdownMultiplier: 1, requestLatencyMs: 0, downloadThroughputKbps: 0, uploadThroughputKbps: 0 },
          }
        : {}),
      onlyCategories: Object.keys(TARGETS),
      disableFullPageScreenshot: true,
    },
  };

  const dir = outDir('lighthouse');
  for (const [name, path] of Object.entries(pages)) {
    const url = earshot.url + path;
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(await lighthouse(url, { port: chrome.port, output: ['html', 'json'], logLevel: 'error' }, config));
    }
    const perf = (r) => r.lhr.categories.performance?.score ?? 0;
    runs.sort((a, b) => perf(a) - perf(b));
    const runner = runs[Math.floor((runs.length - 1) / 2)];
    const lhr = runner.lhr;
    const allPerformance = runs.map((r) => Math.round(perf(r) * 100));
    writeFileSync(join(dir, `${name}.html`), runner.report[0]);
    writeFileSync(join(dir, `${name}.json`), runner.report[1]);
    const scores = {};
    const misses = [];
    for (const [cat, target] of Object.entries(TARGETS)) {
      const c = lhr.categories[cat];
      const score = c.score === null ? null : Math.round(c.score * 100);
      scores[cat] = score;
      const expected = BY_DESIGN[name]?.[cat] ?? [];
      for (const id of expected) {
        if (lhr.audits[id]?.score !== 0) misses.push({ category: cat, score, target, audits: [], error: `${id} was expected to fail by design` });
      }
      const failing = c.auditRefs
        .filter((r) => r.weight > 0)
        .map((r) => lhr.audits[r.id])
        .filter((a) => a.score !== null && a.score < 1 && !expected.includes(a.id));
      if (score === null || (score < target && (expected.length === 0 || failing.length > 0))) {
        // The audits that cost points in this category.
        const audits = failing
          .map((a) => ({
            id: a.id,
            title: a.title,
            score: a.score,
            displayValue: a.displayValue,
            items: (a.details?.items ?? []).slice(0, 5).map((i) => i.node?.snippet ?? i.url ?? i.source?.url ?? i.description ?? JSON.stringify(i).slice(0, 200)),
          }));
        misses.push({ category: cat, score, target, audits });
      }
    }
    const metrics = Object.fromEntries(
      ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time', 'cumulative-layout-shift', 'speed-index'].map((id) => [
        id,
        lhr.audits[id]?.displayValue ?? null,
      ]),
    );
    if (lhr.runtimeError) misses.push({ category: 'runtime', error: lhr.runtimeError });
    results[name] = { path, scores, metrics, misses, allPerformance, runWarnings: lhr.runWarnings };
    if (misses.length) failed = true;
    console.log(
      `${name.padEnd(12)} ${path.padEnd(40)} ${Object.entries(scores).map(([k, v]) => `${k} ${v}`).join(', ')} (performance per run: ${allPerformance.join(', ')})`,
    );
    for (const [cat, ids] of Object.entries(BY_DESIGN[name] ?? {})) {
      console.log(`  by design: ${cat} ${ids.join(', ')} fails (robots.txt keeps crawlers off this page); the rest of ${cat} is held to its target`);
    }
    for (const m of misses) {
      console.log(`  MISSED ${m.category}: ${m.score} < ${m.target}`);
      for (const a of m.audits ?? []) console.log(`    - ${a.id}: ${a.title}${a.displayValue ? ` (${a.displayValue})` : ''}${a.items.length ? '\n        ' + a.items.join('\n        ') : ''}`);
      if (m.error) console.log(`    ${JSON.stringify(m.error)}`);
    }
  }

  let chromiumVersion = null;
  try {
    chromiumVersion = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {}
  let earshotVersion = null;
  try {
    earshotVersion = execFileSync(EARSHOT_BIN, ['--version'], { encoding: 'utf8' }).trim();
  } catch {}
  let commit = null;
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {}
  const lhVersion = JSON.parse(readFileSync(new URL('./node_modules/lighthouse/package.json', import.meta.url))).version;
  const out = {
    date: new Date().toISOString(),
    lighthouse: lhVersion,
    chromium: chromiumVersion,
    earshot: earshotVersion,
    commit,
    formFactor,
    runsPerPage: RUNS,
    targets: TARGETS,
    pass: !failed,
    pages: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { path: v.path, scores: v.scores, performancePerRun: v.allPerformance, metrics: v.metrics, misses: v.misses.map((m) => ({ category: m.category, score: m.score, audits: (m.audits ?? []).map((a) => a.id) })) }])),
  };
  writeFileSync(join(ROOT, 'lighthouse-scores.json'), JSON.stringify(out, null, 2) + '\n');
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await chrome?.kill();
  await earshot.stop();
  profile.remove();
}
const secs = ((Date.now() - started) / 1000).toFixed(1);
// A closing line that CI logs read as a count.
const total = Object.keys(results).length;
const bad = Object.values(results).filter((r) => r.misses.length).length;
console.log(`lighthouse took ${secs} s`);
console.log(`lighthouse: ${total - bad} passed, ${bad + (total === 0 ? 1 : 0)} failed`);
process.exit(failed ? 1 : 0);
