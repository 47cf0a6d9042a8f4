// End to end in Chromium: browsing, search, and the site without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEarshot, launchBrowser, discover, fetchText } from '../lib/harness.mjs';

let earshot;
let browser;
let found;

before(async () => {
  earshot = await startEarshot({ liveTtl: 2, cacheTtl: 30 });
  browser = await launchBrowser();
  found = await discover(earshot.url);
});

after(async () => {
  await browser?.close();
  await earshot?.stop();
});

/** Collects page errors and failed same-origin requests so a flow can assert none. */
function watch(page) {
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
  });
  page.on('response', (res) => {
    if (res.url().startsWith(earshot.url) && res.status() >= 500) problems.push(`${res.status()} ${res.url()}`);
  });
  return problems;
}

const pathOf = (page) => new URL(page.url()).pathname;

test('browse: home → a live Space → its participants → back', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watch(page);
  try {
    await page.goto(`${earshot.url}/`);
    await assert.doesNotReject(page.locator('main h1').first().waitFor());
    const liveCard = page.locator('#live-list li.card-live h3 a').first();
    await liveCard.waitFor({ timeout: 10_000 });
    const title = (await liveCard.innerText()).trim();
    const href = await liveCard.getAttribute('href');
    assert.match(href, /^\/spaces\/[A-Za-z0-9]+$/);

    await liveCard.click();
    await page.waitForURL((u) => u.pathname === href);
    assert.equal((await page.locator('main h1').innerText()).trim(), title);
    assert.match(await page.locator('#live-status .badge').innerText(), /live/i);
    const spaceTitle = await page.title();

    await page.getByRole('link', { name: /Everyone in this Space/ }).click();
    await page.waitForURL((u) => u.pathname === `${href}/participants`);
    await page.locator('main h1').waitFor();
    const participantsHtml = await page.locator('main').innerHTML();
    assert.match(participantsHtml, /\/users\/\d+|class="person"/, 'participants page lists people');

    await page.goBack();
    await page.waitForURL((u) => u.pathname === href);
    await page.locator('main h1').waitFor();
    assert.equal(await page.title(), spaceTitle);
    assert.equal((await page.locator('main h1').innerText()).trim(), title);

    await page.goBack();
    await page.waitForURL((u) => u.pathname === '/');
    await page.locator('#live-list').waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('search: a word finds Spaces whose title has it', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watch(page);
  try {
    // Take a word from a live Space's title so that the search must find something.
    const home = await fetchText(`${earshot.url}/`);
    // Titles come in every script: take the first live card with a Latin word.
    const cards = [...home.text.matchAll(/<li class="card card-live"[^>]*>[\s\S]*?<h3 class="card-title"[^>]*><a href="[^"]+">([^<]+)<\/a>/g)];
    assert.ok(cards.length > 0, 'a live Space card on /');
    const longest = (title) => title
      .replace(/&#?\w+;/g, ' ')
      .split(/[^A-Za-z]+/)
      .filter((w) => w.length >= 4)
      .sort((a, b) => b.length - a.length)[0];
    const word = cards.map((m) => longest(m[1])).find(Boolean);
    assert.ok(word, `a word in one of ${cards.length} live titles`);

    await page.goto(`${earshot.url}/`);
    await page.locator('#home-q').fill(word);
    await page.locator('#home-q').press('Enter');
    await page.waitForURL((u) => u.pathname === '/search' && u.searchParams.get('q') === word);
    await page.locator('main .summary').waitFor();
    const titles = await page.locator('main .cards .card-title').allInnerTexts();
    assert.ok(titles.length > 0, `search for "${word}" found nothing`);
    assert.ok(
      titles.some((t) => t.toLowerCase().includes(word.toLowerCase())),
      `no result title contains "${word}": ${titles.join(' | ')}`,
    );
    // The search field keeps what was typed.
    assert.equal(await page.locator('#q').inputValue(), word);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('search: a pasted x.com Space link lands on the Space page', async () => {
  const id = found.live ?? found.ended ?? found.scheduled;
  assert.ok(id, 'a Space id');
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watch(page);
  try {
    for (const link of [`https://x.com/i/spaces/${id}`, `https://twitter.com/i/spaces/${id}?s=20`]) {
      await page.goto(`${earshot.url}/search`);
      await page.locator('#q').fill(link);
      await page.locator('main form[role="search"] button[type="submit"]').click();
      await page.waitForURL((u) => u.pathname === `/spaces/${id}`);
      await page.locator('main h1').waitFor();
      assert.ok((await page.locator('#live-status').count()) === 1, `Space page for ${link}`);
    }
    // And the x.com path on earshot's host.
    const res = await page.goto(`${earshot.url}/i/spaces/${id}`);
    assert.equal(new URL(page.url()).pathname, `/spaces/${id}`);
    assert.equal(res.status(), 200);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('without JavaScript every page renders its main content, and links and forms work', async (t) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    const paths = [
      '/',
      '/live',
      '/upcoming',
      '/search?q=a',
      '/topics/technology',
      ...['live', 'scheduled', 'ended', 'cancelled'].filter((s) => found[s]).map((s) => `/spaces/${found[s]}`),
      found.live && `/spaces/${found.live}/participants`,
      found.user && `/users/${found.user}`,
      found.live && `/embed/spaces/${found.live}`,
    ].filter(Boolean);
    for (const path of paths) {
      await t.test(`renders ${path}`, async () => {
        const res = await page.goto(earshot.url + path);
        assert.equal(res.status(), 200);
        const h1 = (await page.locator('main h1').first().innerText()).trim();
        assert.ok(h1.length > 0, `main h1 on ${path}`);
        const text = (await page.locator('main').innerText()).trim();
        assert.ok(text.length > h1.length + 20, `main content on ${path}: ${text.slice(0, 200)}`);
      });
    }

    await t.test('404 page', async () => {
      const res = await page.goto(`${earshot.url}/no/such/page`);
      assert.equal(res.status(), 404);
      assert.ok((await page.locator('main h1').innerText()).trim().length > 0);
      await page.locator('main a[href="/"], header a[href="/"]').first().click();
      await page.waitForURL((u) => u.pathname === '/');
    });

    await t.test('links: home → Space → participants → user', async () => {
      await page.goto(`${earshot.url}/`);
      const card = page.locator('li.card h3 a').first();
      const href = await card.getAttribute('href');
      await card.click();
      await page.waitForURL((u) => u.pathname === href);
      await page.getByRole('link', { name: /Everyone in this Space/ }).click();
      await page.waitForURL((u) => u.pathname === `${href}/participants`);
      const user = page.locator('main a[href^="/users/"]').first();
      if ((await user.count()) > 0) {
        const uhref = await user.getAttribute('href');
        await user.click();
        await page.waitForURL((u) => u.pathname === uhref);
        assert.ok((await page.locator('main h1').innerText()).trim().length > 0);
      }
      // Nav links.
      await page.locator('header nav a[href="/upcoming"]').click();
      await page.waitForURL((u) => u.pathname === '/upcoming');
      await page.locator('header a.brand').click();
      await page.waitForURL((u) => u.pathname === '/');
    });

    await t.test('forms: home search, search page with state, live filters', async () => {
      await page.goto(`${earshot.url}/`);
      await page.locator('#home-q').fill('a');
      await page.locator('main form[role="search"] button[type="submit"]').click();
      await page.waitForURL((u) => u.pathname === '/search' && u.searchParams.get('q') === 'a');
      await page.locator('main .summary').waitFor();

      await page.locator('#state').selectOption('ended');
      await page.locator('main form[role="search"] button[type="submit"]').click();
      await page.waitForURL((u) => u.searchParams.get('state') === 'ended');
      const badges = await page.locator('main .cards .badge').allInnerTexts();
      assert.ok(badges.length > 0, 'ended results');
      assert.ok(badges.every((b) => /ended/i.test(b)), `only ended Spaces: ${badges.join(',')}`);

      if (found.live) {
        await page.locator('#q').fill(`https://x.com/i/spaces/${found.live}`);
        await page.locator('main form[role="search"] button[type="submit"]').click();
        await page.waitForURL((u) => u.pathname === `/spaces/${found.live}`);
      }

      // The /live filter form submits with GET and narrows the list.
      await page.goto(`${earshot.url}/live`);
      const form = page.locator('main form').first();
      assert.ok((await form.count()) === 1, 'a filter form on /live');
      const minField = form.locator('[name="min_participants"]');
      if ((await minField.count()) > 0) {
        const tag = await minField.evaluate((el) => el.tagName.toLowerCase());
        if (tag === 'select') {
          const values = await minField.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
          await minField.selectOption(values[values.length - 1] ?? '');
        } else {
          await minField.fill('100');
        }
      }
      await form.locator('button[type="submit"], input[type="submit"]').first().click();
      await page.waitForURL((u) => u.pathname === '/live' && u.searchParams.has('min_participants'));
      assert.ok((await page.locator('main h1').innerText()).trim().length > 0);
    });
  } finally {
    await context.close();
  }
});
