// Listener history in the browser: /trending, /leaderboard and a live Space page with
// its sparkline. axe (zero violations, light and dark) and screenshots (desktop and
// phone, light and dark) to look at, in out/history/. The demo (seed 7) runs fast, so
// counts arrive as samples within seconds: the pages are polled until they show them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { startEarshot, launchBrowser, fetchText, cards, waitFor, outDir } from '../lib/harness.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

let earshot;
let browser;
let live;
const dir = outDir('history');

before(async () => {
  // 30× real time with a 2 s live TTL: a new sample per Space every ~70 ms of real time.
  earshot = await startEarshot({ speed: 30, liveTtl: 2, cacheTtl: 30 });
  browser = await launchBrowser();
  // A live Space from what the home page shows, viewed until its sparkline is drawn.
  live = await waitFor(async () => {
    const home = await fetchText(`${earshot.url}/`);
    const c = cards(home.text).find((x) => x.state === 'live');
    if (!c) return undefined;
    const page = await fetchText(`${earshot.url}/spaces/${c.id}`);
    return page.text.includes('class="sparkline"') ? c.id : undefined;
  }, { message: 'a live Space with a sparkline' });
  await waitFor(async () => {
    await fetchText(`${earshot.url}/live`);
    return (await fetchText(`${earshot.url}/trending`)).text.includes('class="rising-item"');
  }, { message: 'a ranked Space on /trending' });
  await waitFor(
    async () => (await fetchText(`${earshot.url}/leaderboard`)).text.includes('class="standing"'),
    { message: 'a host on /leaderboard' },
  );
});

after(async () => {
  await browser?.close();
  await earshot?.stop();
});

const pages = () => [
  { name: 'trending', path: '/trending' },
  { name: 'leaderboard', path: '/leaderboard' },
  { name: 'leaderboard-7d', path: '/leaderboard?period=7d' },
  { name: 'space-live', path: `/spaces/${live}` },
];

for (const scheme of ['light', 'dark']) {
  test(`axe-core on the history pages, ${scheme}`, async (t) => {
    const context = await browser.newContext({ colorScheme: scheme, bypassCSP: true });
    try {
      for (const p of pages()) {
        await t.test(p.path, async () => {
          const page = await context.newPage();
          try {
            const res = await page.goto(earshot.url + p.path, { waitUntil: 'load' });
            assert.equal(res.status(), 200, `status of ${p.path}`);
            await page.addScriptTag({ path: AXE });
            const violations = await page.evaluate(async () => {
              // eslint-disable-next-line no-undef
              const r = await axe.run(document, { resultTypes: ['violations'] });
              return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
            });
            assert.deepEqual(violations, [], `axe violations on ${p.path} (${scheme})`);
          } finally {
            await page.close();
          }
        });
      }
    } finally {
      await context.close();
    }
  });
}

test('the pages are in the navigation and work without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await page.goto(earshot.url + '/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trending' }).click();
    assert.match(page.url(), /\/trending$/);
    assert.ok(await page.locator('.rising-item').count() > 0);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Hosts' }).click();
    assert.match(page.url(), /\/leaderboard$/);
    await page.getByRole('link', { name: '7 days' }).click();
    assert.match(page.url(), /period=7d$/);
    assert.ok(await page.locator('.standing').count() > 0);
  } finally {
    await context.close();
  }
});

const shots = [
  ['desktop-light', { colorScheme: 'light', width: 1280, height: 800 }],
  ['desktop-dark', { colorScheme: 'dark', width: 1280, height: 800 }],
  ['phone-light', { colorScheme: 'light', width: 390, height: 844 }],
  ['phone-dark', { colorScheme: 'dark', width: 390, height: 844 }],
];

for (const [variant, { colorScheme, width, height }] of shots) {
  test(`screenshots, ${variant}`, async () => {
    const context = await browser.newContext({ colorScheme, viewport: { width, height } });
    try {
      for (const p of pages()) {
        const page = await context.newPage();
        const res = await page.goto(earshot.url + p.path, { waitUntil: 'load' });
        assert.equal(res.status(), 200, `status of ${p.path}`);
        await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => {});
        const file = join(dir, `${p.name}-${variant}.png`);
        await page.screenshot({ path: file, fullPage: false });
        assert.ok(statSync(file).size > 1000, `${file} written`);
        await page.close();
      }
    } finally {
      await context.close();
    }
  });
}
