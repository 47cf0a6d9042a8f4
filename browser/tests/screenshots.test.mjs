// Screenshots for people to look at: /, a Space page in light and dark, the embed.
// Written to out/screenshots/ (git-ignored).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { startEarshot, launchBrowser, discover, outDir } from '../lib/harness.mjs';

let earshot;
let browser;
let found;
const dir = outDir('screenshots');

before(async () => {
  earshot = await startEarshot({ liveTtl: 2, cacheTtl: 30 });
  browser = await launchBrowser();
  found = await discover(earshot.url);
});

after(async () => {
  await browser?.close();
  await earshot?.stop();
});

async function shoot(name, path, { colorScheme = 'light', width = 1280, height = 800, fullPage = true, status = 200 } = {}) {
  const context = await browser.newContext({ colorScheme, viewport: { width, height } });
  const page = await context.newPage();
  try {
    const res = await page.goto(earshot.url + path, { waitUntil: 'load' });
    assert.equal(res.status(), status, `status of ${path}`);
    // Avatars come from the upstream's host, which is unreachable here; their initials stay.
    await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => {});
    const file = join(dir, `${name}.png`);
    await page.screenshot({ path: file, fullPage });
    assert.ok(statSync(file).size > 1000, `${file} written`);
  } finally {
    await context.close();
  }
}

test('screenshot: home', () => shoot('home', '/'));
test('screenshot: home, phone, dark', () => shoot('home-phone-dark', '/', { colorScheme: 'dark', width: 390, height: 844, fullPage: false }));
test('screenshot: live Space, light', () => shoot('space-live-light', `/spaces/${found.live}`));
test('screenshot: live Space, dark', () => shoot('space-live-dark', `/spaces/${found.live}`, { colorScheme: 'dark' }));
test('screenshot: ended Space, light', (t) =>
  found.ended ? shoot('space-ended-light', `/spaces/${found.ended}`) : t.skip('no ended Space'),
);
test('screenshot: embed, light', () =>
  shoot('embed-light', `/embed/spaces/${found.live}?theme=light`, { width: 500, height: 300, fullPage: true }),
);
test('screenshot: embed, dark', () =>
  shoot('embed-dark', `/embed/spaces/${found.live}?theme=dark`, { width: 500, height: 300, fullPage: true }),
);
test('screenshot: 404', () => shoot('not-found', '/no/such/page', { status: 404 }));
