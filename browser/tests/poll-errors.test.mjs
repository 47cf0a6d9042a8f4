// A polled region keeps what it shows when a poll fails. htmx 4 swaps every answer
// but 204 and 304, error pages included: without `noSwap` for 4xx and 5xx, a 429
// from the rate limit or a 503 while the upstream is down would put a whole error
// page where the live count was. The embed has its own test (embed.test.mjs).
//
// The answers are decided by a Playwright route; the test waits on requests and
// responses, never on the clock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEarshot, launchBrowser, fetchText, cards, waitFor } from '../lib/harness.mjs';

let earshot;
let browser;
let liveId;

before(async () => {
  earshot = await startEarshot({ liveTtl: 1, cacheTtl: 30 });
  browser = await launchBrowser();
  const list = await fetchText(`${earshot.url}/live`);
  liveId = cards(list.text).find((c) => c.state === 'live')?.id;
});

after(async () => {
  await browser?.close();
  await earshot?.stop();
});

const MARKER = 'an error page, not a region';
const FAILURES = [
  { status: 429, headers: { 'retry-after': '1' } },
  { status: 503, headers: { 'retry-after': '1' } },
  { status: 404, headers: {} },
  { status: 500, headers: {} },
];

/**
 * Routes the partial polled at `path`: real answers until `ctl.fail` is set, then
 * each of FAILURES once (an HTML error page each), then real answers again.
 */
async function failPolls(page, path) {
  const ctl = { fail: false, failed: 0, passed: 0, passedAfter: 0 };
  await page.route(
    (url) => url.pathname === path,
    async (route) => {
      if (ctl.fail && ctl.failed < FAILURES.length) {
        const { status, headers } = FAILURES[ctl.failed];
        ctl.failed += 1;
        await route.fulfill({
          status,
          headers: { 'content-type': 'text/html; charset=utf-8', ...headers },
          body: `<!doctype html><html lang="en"><head><title>${status}</title></head><body><main><h1>${MARKER} (${status})</h1></main></body></html>`,
        });
        return;
      }
      // A whole answer each time, so that a region that went missing would come back.
      const headers = { ...route.request().headers() };
      delete headers['if-none-match'];
      delete headers['if-modified-since'];
      await route.continue({ headers });
      ctl.passed += 1;
      if (ctl.failed === FAILURES.length) ctl.passedAfter += 1;
    },
  );
  return ctl;
}

async function keepsRegion(path, regionId, pagePath) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    const ctl = await failPolls(page, path);
    await page.goto(`${earshot.url}${pagePath}`);
    const region = page.locator(`#${regionId}`);
    const polled = new URL(await region.getAttribute('data-hx-get'), earshot.url).pathname;
    assert.equal(polled, path, `#${regionId} polls ${path}`);
    await waitFor(() => ctl.passed >= 1, { message: 'a real poll first' });

    ctl.fail = true;
    await waitFor(() => ctl.failed === FAILURES.length, { message: 'every failure served', timeout: 30_000 });
    // The last failure is handled once the next request begins.
    await page.waitForRequest((r) => new URL(r.url()).pathname === path);
    assert.equal(await page.locator(`#${regionId}`).count(), 1, `#${regionId} is still there`);
    assert.equal(await page.getByText(MARKER).count(), 0, 'no error page was swapped in');
    assert.equal(await page.locator('main').count(), 1, 'one main landmark, the page’s own');
    assert.match(await region.innerText(), /\S/, 'the region still shows what it showed');

    // And polling carries on: the next real answer is taken again.
    await waitFor(() => ctl.passedAfter >= 2, { message: 'real polls after the failures', timeout: 30_000 });
    assert.equal(await page.locator(`#${regionId}[data-hx-get]`).count(), 1, 'still polling');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
}

test('the live list on / keeps its cards through 429, 503, 404 and 500', { timeout: 120_000 }, () =>
  keepsRegion('/live/list', 'live-list', '/'));

test("a live Space's status keeps its count through 429, 503, 404 and 500", { timeout: 120_000 }, async () => {
  assert.ok(liveId, 'a live Space');
  const page = await fetchText(`${earshot.url}/spaces/${liveId}`);
  const path = page.text.match(/id="live-status"[^>]*data-hx-get="([^"]+)"/)?.[1];
  assert.ok(path, 'the live Space page polls its status');
  await keepsRegion(new URL(path, earshot.url).pathname, 'live-status', `/spaces/${liveId}`);
});
