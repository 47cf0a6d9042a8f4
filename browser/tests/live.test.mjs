// Live refresh in Chromium, with the demo world running 60× faster: a Space page's
// count changes without a reload, and polling stops once the Space ends (the 286).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEarshot, launchBrowser, cards, fetchText, waitFor } from '../lib/harness.mjs';

const LIVE_TTL = 1;
const TABS = 6; // Space pages watched at once, so that one of them ends soon.

let earshot;
let browser;

before(async () => {
  earshot = await startEarshot({ speed: 60, liveTtl: LIVE_TTL, cacheTtl: 5 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await earshot?.stop();
});

/** Opens a Space page and records every request to its live partial, in order. */
async function watchSpace(context, id) {
  const page = await context.newPage();
  const livePath = `/spaces/${id}/live`;
  const w = { id, page, requests: [], stopResponse: null, stoppedAt: null, navigations: [], errors: [] };
  page.on('pageerror', (e) => w.errors.push(e.message));
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) w.navigations.push(f.url());
  });
  page.on('request', (req) => {
    if (new URL(req.url()).pathname === livePath) w.requests.push({ at: Date.now(), req });
  });
  // Strict: from the moment the 286's headers arrive, no new request may start.
  page.on('response', (res) => {
    if (new URL(res.url()).pathname !== livePath) return;
    if (res.status() === 286 && !w.stopResponse) {
      w.stopResponse = res;
      w.stoppedAt = Date.now();
      w.requestsBeforeStop = w.requests.length;
    }
  });
  const res = await page.goto(`${earshot.url}/spaces/${id}`);
  assert.equal(res.status(), 200);
  // A marker that a reload would wipe out.
  await page.evaluate(() => {
    window.__earshotNoReload = true;
  });
  w.navigations = [];
  return w;
}

const statsText = (page) => page.locator('#live-status').evaluate((el) => el.querySelector('dl.stats')?.textContent ?? '');

test('a live Space page refreshes its count without a reload, and stops polling when it ends', { timeout: 300_000 }, async (t) => {
  const list = await fetchText(`${earshot.url}/live`);
  const ids = cards(list.text)
    .filter((c) => c.state === 'live')
    .map((c) => c.id);
  assert.ok(ids.length > 0, 'live Spaces on /live');
  const context = await browser.newContext();
  try {
    // At 60× a listed Space can end before its page opens: keep the ones still polling.
    const watched = [];
    for (const id of ids.slice(0, TABS)) {
      const w = await watchSpace(context, id);
      const trigger = await w.page.locator('#live-status').getAttribute('data-hx-trigger');
      if (trigger === null) {
        await w.page.close();
        continue;
      }
      assert.match(trigger, new RegExp(`every ${LIVE_TTL}s`), 'the live status polls every --live-ttl');
      watched.push(w);
    }
    assert.ok(watched.length > 0, 'at least one live Space page polling');

    await t.test('the count changes in place', async () => {
      // Whichever watched page changes first: each started with its own text.
      const initial = await Promise.all(watched.map((w) => statsText(w.page)));
      assert.ok(initial[0].trim().length > 0, 'counts shown on a live Space page');
      const changed = await waitFor(
        async () => {
          for (let i = 0; i < watched.length; i++) {
            if (watched[i].stopResponse) continue;
            const now = await statsText(watched[i].page);
            if (now && now !== initial[i]) return { w: watched[i], before: initial[i], now };
          }
          return null;
        },
        { timeout: 60_000, interval: 200, message: 'a live count to change' },
      );
      assert.notEqual(changed.now, changed.before);
      assert.equal(await changed.w.page.evaluate(() => window.__earshotNoReload), true, 'no reload happened');
      // framenavigated also reports same-document history updates (htmx 4 calls
      // history.replaceState on load), so the marker above is the reload check and
      // here only the address must stay put.
      assert.ok(changed.w.navigations.every((u) => u.endsWith(`/spaces/${changed.w.id}`)), `navigated: ${changed.w.navigations}`);
      assert.ok(changed.w.requests.length >= 1, 'the change came through the live partial');
    });

    await t.test('polling stops after the 286', async (st) => {
      const ended = await waitFor(() => watched.find((w) => w.stopResponse), {
        timeout: 240_000,
        interval: 250,
        message: `one of ${watched.length} live Spaces to end (status 286 from /spaces/{id}/live)`,
      });
      // Wait several polling periods and then count.
      await new Promise((r) => setTimeout(r, Math.max(6, LIVE_TTL * 5) * 1000));
      const after286 = ended.requests.slice(ended.requestsBeforeStop);
      st.diagnostic(`/spaces/${ended.id}/live: ${ended.requestsBeforeStop} request(s) up to the 286, ${after286.length} after`);
      assert.equal(
        after286.length,
        0,
        `${after286.length} request(s) to /spaces/${ended.id}/live after the 286 (of ${ended.requests.length})`,
      );
      const status = ended.page.locator('#live-status');
      assert.equal(await status.getAttribute('data-hx-trigger'), null, 'the swapped-in fragment has no trigger');
      assert.doesNotMatch(await status.locator('.badge').innerText(), /^\s*live\s*$/i, 'badge no longer says Live');
      assert.equal(await ended.page.evaluate(() => window.__earshotNoReload), true, 'no reload happened');
      assert.ok(ended.requestsBeforeStop >= 1);
      assert.ok(ended.navigations.every((u) => u.endsWith(`/spaces/${ended.id}`)), `navigated: ${ended.navigations}`);
      assert.deepEqual(ended.errors, []);
    });
  } finally {
    await context.close();
  }
});

test('the live list on / refreshes without a reload', { timeout: 120_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    const listRequests = [];
    page.on('request', (req) => {
      if (new URL(req.url()).pathname === '/live/list') listRequests.push(req.url());
    });
    await page.goto(`${earshot.url}/`);
    await page.evaluate(() => {
      window.__earshotNoReload = true;
    });
    const text = () => page.locator('#live-list').innerText();
    const before = await text();
    await waitFor(async () => (await text()) !== before, { timeout: 60_000, message: 'the live list on / to change' });
    assert.equal(await page.evaluate(() => window.__earshotNoReload), true);
    assert.ok(listRequests.length >= 1, 'the change came from /live/list');
  } finally {
    await context.close();
  }
});
