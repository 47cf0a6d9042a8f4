// Accessibility past the automated tools: live polling keeps keyboard focus (WCAG
// 2.4.3), count changes are announced politely and only when they change, "Copied"
// is announced, the embed code gets the site's focus ring, and dark-mode
// placeholders reach 4.5:1.
//
// Polls are made deterministic by Playwright routes: the test decides what each
// answer of the polled partial says (the real answer, the real answer reordered with
// one count changed, or the previous answer byte for byte) and waits on requests and
// responses, never on the clock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startEarshot, launchBrowser, fetchText, cards, outDir, waitFor } from '../lib/harness.mjs';

let earshot;
let browser;
const shots = outDir('screenshots');

before(async () => {
  earshot = await startEarshot({ liveTtl: 1, cacheTtl: 30 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await earshot?.stop();
});

/**
 * Routes the polled partial at `path`: `mode` is 'pass' (the real answer), 'change'
 * (the real answer through `change`) or 'replay' (the last answer again, byte for
 * byte). Counts answers served per mode.
 */
async function controlPolls(page, path, change) {
  const ctl = { mode: 'pass', last: null, served: { pass: 0, change: 0, replay: 0 }, requests: 0 };
  await page.route(
    (url) => url.pathname === path,
    async (route) => {
      ctl.requests += 1;
      const mode = ctl.mode;
      if (mode === 'replay' && ctl.last) {
        await route.fulfill({ status: 200, headers: ctl.last.headers, body: ctl.last.body });
      } else {
        // Always a whole answer: a 304 here would say nothing about what the page does.
        const headers = { ...route.request().headers() };
        delete headers['if-none-match'];
        delete headers['if-modified-since'];
        const res = await route.fetch({ headers });
        let body = await res.text();
        if (mode === 'change') body = change(body);
        // The body is decoded text now: its encoding and length headers no longer hold.
        const kept = { ...res.headers() };
        delete kept['content-encoding'];
        delete kept['content-length'];
        ctl.last = { headers: kept, body };
        await route.fulfill({ status: res.status(), headers: kept, body });
      }
      ctl.served[mode] += 1;
    },
  );
  return ctl;
}

/**
 * Counts DOM changes under a selector and in the announcer from now on. htmx's
 * request class on the polling element (`htmx-request`, on and off for each request)
 * is its indicator, not content: not counted.
 */
function watchMutations(page, selector) {
  return page.evaluate((selector) => {
    window.__mutations = { region: 0, announcer: 0 };
    const region = document.querySelector(selector);
    // Nor are the relative words of a <time> that the script's own timer moves on a
    // minute (static/app.js), which happens whether or not a poll comes.
    const ticked = (m) => m.type === 'childList' && m.target.nodeName === 'TIME';
    const content = (m) => !(m.type === 'attributes' && m.attributeName === 'class' && m.target === region) && !ticked(m);
    window.__what = [];
    const count = (ms) => {
      const counted = ms.filter(content);
      window.__mutations.region += counted.length;
      for (const m of counted) window.__what.push(`${m.type} ${m.attributeName ?? ''} ${m.target.nodeName} ${m.target.textContent?.slice(0, 40)}`);
    };
    // The region replaced (its parent's children), or anything inside it changed;
    // not the rest of the page, whose own relative words the timer may move.
    new MutationObserver(count).observe(region.parentNode, { childList: true });
    new MutationObserver(count).observe(region, { subtree: true, childList: true, characterData: true, attributes: true });
    const announcer = document.getElementById('announcer');
    if (announcer) {
      new MutationObserver((m) => (window.__mutations.announcer += m.length)).observe(announcer, {
        subtree: true, childList: true, characterData: true,
      });
    }
  }, selector);
}

const announced = (page) => page.evaluate(() => document.getElementById('announcer')?.textContent ?? '');
const focusedHref = (page) => page.evaluate(() => document.activeElement?.getAttribute('href') ?? document.activeElement?.tagName);

/** The live list's cards, one chunk each: `[head, cards[], tail]`. */
function splitCards(body) {
  const start = body.indexOf('<ul class="cards">') + '<ul class="cards">'.length;
  const end = body.lastIndexOf('</ul>');
  const parts = body.slice(start, end).split(/(?=<li class="card )/);
  return [body.slice(0, start), parts.filter((p) => p.includes('<li class="card ')), body.slice(end)];
}

test('home: a poll keeps focus on the focused card link, and says only what changed', { timeout: 120_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    let focusedId;
    const ctl = await controlPolls(page, '/live/list', (body) => {
      // The focused card moves to the top, with one listener more.
      const [head, list, tail] = splitCards(body);
      const i = list.findIndex((c) => c.includes(`href="/spaces/${focusedId}"`));
      if (i < 0) return body;
      const card = list[i].replace(/([\d,]+) listening/, (_, n) => `${(Number(n.replace(/,/g, '')) + 1).toLocaleString('en-US')} listening`);
      list.splice(i, 1);
      return head + card + list.join('') + tail;
    });
    await page.goto(`${earshot.url}/`);
    const links = page.locator('#live-list li.card .card-title a');
    assert.ok((await links.count()) >= 2, 'two live Spaces or more on /');
    // The second card's title link, reached as a keyboard user would focus it.
    const link = links.nth(1);
    await link.focus();
    const href = await link.getAttribute('href');
    focusedId = href.split('/').pop();
    const title = (await link.innerText()).trim();

    // A real poll first: whatever it brings, focus stays.
    await page.waitForResponse((r) => new URL(r.url()).pathname === '/live/list');
    await waitFor(() => ctl.served.pass >= 2, { message: 'two real polls' });
    assert.equal(await focusedHref(page), href, 'focus kept through real polls');

    // Then an answer that reorders the list and changes the focused card's count.
    ctl.mode = 'change';
    await waitFor(() => ctl.served.change >= 2, {
      message: 'a changed answer, handled (the next poll has begun)',
    });
    assert.equal(await focusedHref(page), href, 'focus stayed on the same link');
    assert.equal(
      await page.evaluate(() => document.activeElement.closest('#live-list li.card') === document.querySelector('#live-list li.card')),
      true,
      'the focused card moved to the top, and focus moved with it',
    );
    await waitFor(async () => (await announced(page)).includes(title), { message: 'the focused card announced' });
    const said = await announced(page);
    assert.match(said, /listening/);
    assert.equal(await page.locator('#announcer').getAttribute('aria-live'), 'polite');
    assert.equal(await page.locator('#announcer').getAttribute('role'), 'status');

    // The same answer again, byte for byte: nothing moves, nothing is said.
    ctl.mode = 'replay';
    const changed = ctl.served.change;
    await waitFor(() => ctl.served.replay >= 1, { message: 'a replayed answer' });
    await watchMutations(page, '#live-list');
    const replayed = ctl.served.replay;
    await waitFor(() => ctl.served.replay >= replayed + 2, { message: 'two more replayed answers' });
    assert.equal(ctl.served.change, changed);
    const m = await page.evaluate(() => window.__mutations);
    assert.deepEqual(m, { region: 0, announcer: 0 }, `an identical answer changes nothing and announces nothing: ${await page.evaluate(() => window.__what.join('; '))}`);
    assert.equal(await focusedHref(page), href);

    // The next Tab carries on from the focused card, not from the top of the page.
    await page.keyboard.press('Tab');
    const next = await page.evaluate(() => document.activeElement.closest('li.card')?.querySelector('.card-title a')?.getAttribute('href'));
    assert.equal(next, href, 'Tab moved within the same card');
    await page.screenshot({ path: join(shots, 'a11y-home-focus.png'), fullPage: false });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('/live: focus survives real polls, unrouted', { timeout: 120_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${earshot.url}/live`);
    const link = page.locator('#live-list li.card .card-title a').first();
    await link.focus();
    const href = await link.getAttribute('href');
    for (let i = 0; i < 3; i++) {
      await page.waitForResponse((r) => new URL(r.url()).pathname === '/live/list');
    }
    // The third answer is handled once the fourth request starts.
    await page.waitForRequest((r) => new URL(r.url()).pathname === '/live/list');
    const still = await focusedHref(page);
    // Unless its Space ended meanwhile, the link keeps focus; if it did, the list does.
    if (still !== href) {
      assert.equal(await page.evaluate(() => document.activeElement.id), 'live-list');
    } else {
      assert.equal(still, href);
    }
  } finally {
    await context.close();
  }
});

test('Space page: a poll keeps focus, a changed count is announced once', { timeout: 120_000 }, async () => {
  const list = await fetchText(`${earshot.url}/live`);
  const live = cards(list.text).find((c) => c.state === 'live');
  assert.ok(live, 'a live Space');
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    const ctl = await controlPolls(page, `/spaces/${live.id}/live`, (body) =>
      body.replace(/<dd>([\d,]+)<\/dd>/, (_, n) => `<dd>${(Number(n.replace(/,/g, '')) + 7).toLocaleString('en-US')}</dd>`),
    );
    await page.goto(`${earshot.url}/spaces/${live.id}`);
    const focusable = page.locator('#live-status a, #live-status button');
    const canFocus = (await focusable.count()) > 0;
    let href;
    if (canFocus) {
      await focusable.first().focus();
      href = await focusable.first().getAttribute('href');
    }
    await waitFor(() => ctl.served.pass >= 2, { message: 'two real polls' });
    ctl.mode = 'change';
    await waitFor(() => ctl.served.change >= 2, {
      message: 'a changed answer, handled',
    });
    if (canFocus) assert.equal(await focusedHref(page), href, 'focus stayed in the status');
    const shown = await page.locator('#live-status dl.stats dd').first().innerText();
    await waitFor(async () => (await announced(page)).includes(shown), { message: `"${shown}" announced` });
    assert.match(await announced(page), /^Now /);

    ctl.mode = 'replay';
    await waitFor(() => ctl.served.replay >= 1, { message: 'a replayed answer' });
    await watchMutations(page, '#live-status');
    const replayed = ctl.served.replay;
    await waitFor(() => ctl.served.replay >= replayed + 2, { message: 'two more replayed answers' });
    assert.deepEqual(await page.evaluate(() => window.__mutations), { region: 0, announcer: 0 }, await page.evaluate(() => window.__what.join('; ')));
    if (canFocus) assert.equal(await focusedHref(page), href);
    await page.screenshot({ path: join(shots, 'a11y-space-focus.png'), fullPage: false });
  } finally {
    await context.close();
  }
});

test('Space page: "Copied" is announced; the embed code has the site focus ring', async () => {
  const list = await fetchText(`${earshot.url}/live`);
  const live = cards(list.text).find((c) => c.state === 'live');
  assert.ok(live);
  const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  try {
    await page.goto(`${earshot.url}/spaces/${live.id}`);
    // Every text the status region takes, in order: a live count may follow a
    // "Copied" within the second (this Space polls each second here).
    await page.evaluate(() => {
      window.__said = [];
      new MutationObserver(() => {
        const el = document.getElementById('announcer');
        if (el && el.textContent) window.__said.push(el.textContent);
      }).observe(document.querySelector('main'), { subtree: true, childList: true, characterData: true });
    });
    const said = (text) => page.evaluate((text) => window.__said.includes(text), text);
    await page.locator('button[data-copy="#share-url"]').click();
    await waitFor(() => said('Link copied.'), { message: '"Link copied." announced' });
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await page.locator('#share-url').inputValue());
    await page.locator('button[data-copy="#embed-code"]').click();
    await waitFor(() => said('Embed code copied.'), { message: '"Embed code copied." announced' });

    await page.locator('#embed-code').focus();
    const ring = await page.locator('#embed-code').evaluate((el) => {
      const s = getComputedStyle(el);
      return { style: s.outlineStyle, width: s.outlineWidth, offset: s.outlineOffset };
    });
    assert.deepEqual(ring, { style: 'solid', width: '3px', offset: '2px' });
    await page.locator('#embed-code').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'a11y-embed-code-focus.png'), fullPage: false });
  } finally {
    await context.close();
  }
});

/** WCAG contrast of two `rgb(…)` colours. */
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

for (const colorScheme of ['dark', 'light']) {
  test(`placeholders reach 4.5:1 (${colorScheme})`, async () => {
    const context = await browser.newContext({ colorScheme });
    const page = await context.newPage();
    try {
      for (const path of ['/', '/live', '/search']) {
        await page.goto(`${earshot.url}${path}`);
        const fields = await page.locator('input[placeholder]').evaluateAll((els) =>
          els.map((el) => ({
            id: el.id,
            color: getComputedStyle(el, '::placeholder').color,
            background: getComputedStyle(el).backgroundColor,
          })),
        );
        assert.ok(fields.length > 0, `placeholders on ${path}`);
        for (const f of fields) {
          const ratio = contrast(f.color, f.background);
          assert.ok(ratio >= 4.5, `${path} #${f.id}: ${f.color} on ${f.background} is ${ratio.toFixed(2)}:1`);
        }
      }
      await page.goto(`${earshot.url}/`);
      await page.screenshot({ path: join(shots, `a11y-placeholder-${colorScheme}.png`), fullPage: false });
    } finally {
      await context.close();
    }
  });
}
