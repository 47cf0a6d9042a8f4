// What a new user tripped over, in Chromium: the search field's height at desktop and
// phone widths, cards that open on a click anywhere, titles' direction and language,
// and the demo's one quiet line. Screenshots (light and dark) go to out/search/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startEarshot, launchBrowser, outDir } from '../lib/harness.mjs';

let earshot;
let browser;
const dir = outDir('search');

const WIDTHS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

before(async () => {
  earshot = await startEarshot({ liveTtl: 2, cacheTtl: 30 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await earshot?.stop();
});

async function open(path, { width = 1280, height = 800, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ colorScheme, viewport: { width, height } });
  const page = await context.newPage();
  const res = await page.goto(earshot.url + path, { waitUntil: 'load' });
  return { context, page, res };
}

for (const { name, width, height } of WIDTHS) {
  for (const colorScheme of ['light', 'dark']) {
    test(`the search field is one line tall: ${name}, ${colorScheme}`, async () => {
      const { context, page, res } = await open('/search?q=music', { width, height, colorScheme });
      try {
        assert.equal(res.status(), 200);
        const field = await page.locator('#q').boundingBox();
        const select = await page.locator('#state').boundingBox();
        assert.ok(field.height < 60, `#q is ${field.height}px tall`);
        assert.ok(Math.abs(field.height - select.height) < 4, 'as tall as the state choice');
        assert.ok(field.width > 200, `#q is ${field.width}px wide`);
        await page.screenshot({ path: join(dir, `search-${name}-${colorScheme}.png`) });
      } finally {
        await context.close();
      }
    });
  }
  test(`the home page's box has the state choice: ${name}`, async () => {
    const { context, page } = await open('/', { width, height });
    try {
      const field = await page.locator('#home-q').boundingBox();
      assert.ok(field.height < 60, `#home-q is ${field.height}px tall`);
      assert.equal(await page.locator('#home-state').inputValue(), 'all');
      await page.locator('.hero').screenshot({ path: join(dir, `home-search-${name}.png`) });
    } finally {
      await context.close();
    }
  });
}

test('a click anywhere on a card opens its Space, through its one link', async () => {
  const { context, page } = await open('/live');
  try {
    const card = page.locator('.card').first();
    const href = await card.locator('.card-title a').getAttribute('href');
    assert.match(href, /^\/spaces\/[A-Za-z0-9]+$/);
    const links = await card.locator('a[href^="/spaces/"]').count();
    assert.equal(links, 1, 'one link to the Space per card');
    // The card's bottom-right corner: no text or link of its own there.
    const box = await card.boundingBox();
    await Promise.all([
      page.waitForURL(`**${href}`),
      page.mouse.click(box.x + box.width - 6, box.y + box.height - 6),
    ]);
    assert.equal(new URL(page.url()).pathname, href);
  } finally {
    await context.close();
  }
});

test("a card's topic and host links stay their own", async () => {
  const { context, page } = await open('/live');
  try {
    const card = page.locator('.card:has(.chips a)').first();
    const topic = card.locator('.chips a').first();
    const href = await topic.getAttribute('href');
    await Promise.all([page.waitForURL(`**${href}`), topic.click()]);
    assert.equal(new URL(page.url()).pathname, href);
  } finally {
    await context.close();
  }
});

test('titles carry dir=auto and their language; right-to-left ones align right', async () => {
  const { context, page } = await open('/search?q=a');
  try {
    const titles = page.locator('.card-title');
    const n = await titles.count();
    assert.ok(n > 0);
    for (let i = 0; i < n; i++) {
      const t = titles.nth(i);
      assert.equal(await t.getAttribute('dir'), 'auto');
      assert.match((await t.getAttribute('lang')) ?? '', /^[a-z]{2,3}(-[A-Za-z0-9]+)*$/);
    }
    const rtl = page.locator('.card-title[lang="ar"]').first();
    if ((await rtl.count()) > 0) {
      assert.equal(await rtl.evaluate((el) => getComputedStyle(el).direction), 'rtl');
    }
    await page.screenshot({ path: join(dir, 'search-results-light.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

test('every page says, once and quietly, that the demo is simulated', async () => {
  for (const colorScheme of ['light', 'dark']) {
    for (const path of ['/', '/live', '/upcoming', '/search']) {
      const { context, page } = await open(path, { colorScheme });
      try {
        const note = page.locator('.demo-note');
        assert.equal(await note.count(), 1, path);
        assert.ok(await note.isVisible(), path);
        assert.match(await note.textContent(), /simulated/);
        if (path === '/') await page.screenshot({ path: join(dir, `demo-note-${colorScheme}.png`) });
      } finally {
        await context.close();
      }
    }
  }
});

test('a mistake keeps the form, with the message beside the field', async () => {
  for (const colorScheme of ['light', 'dark']) {
    const { context, page, res } = await open('/upcoming?from=2026-12-02&to=2026-12-01', { colorScheme });
    try {
      assert.equal(res.status(), 400);
      const to = page.locator('#f-to');
      assert.equal(await to.getAttribute('aria-invalid'), 'true');
      const described = await to.getAttribute('aria-describedby');
      assert.match(await page.locator(`#${described}`).textContent(), /after/);
      await page.screenshot({ path: join(dir, `upcoming-mistake-${colorScheme}.png`) });
    } finally {
      await context.close();
    }
  }
});
