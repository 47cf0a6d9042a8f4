// The widget on other people's sites: an iframe on a second local origin with
// /static/embed.js resizing it, the oEmbed snippet pasted into a plain page, and
// the share card image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startEarshot, launchBrowser, startHostServer, cards, fetchText, waitFor, outDir } from '../lib/harness.mjs';

let earshot;
let browser;
let host;
let liveId;
let liveTitle;
let oembedHtml = null;

before(async () => {
  // 60× so that the embedded live Space visibly moves within seconds.
  earshot = await startEarshot({ speed: 60, liveTtl: 1, cacheTtl: 5 });
  browser = await launchBrowser();
  const list = await fetchText(`${earshot.url}/live`);
  liveId = cards(list.text).find((c) => c.state === 'live')?.id;
  const page = await fetchText(`${earshot.url}/spaces/${liveId}`);
  liveTitle = decode(page.text.match(/<h1>([^<]*)<\/h1>/)?.[1] ?? '');
  host = await startHostServer({
    '/widget.html': () => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>A blog post with an earshot widget</title><link rel="icon" href="data:,"></head>
<body style="margin:0;font-family:sans-serif">
<h1>My blog post</h1>
<p>Here is the Space we talked about:</p>
<iframe id="widget" src="${earshot.url}/embed/spaces/${liveId}" width="500" height="100" style="border:0;display:block" title="X Space on earshot"></iframe>
<p id="after">Text after the widget.</p>
<script src="${earshot.url}/static/embed.js"></script>
</body>
</html>`,
    '/oembed.html': () => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Pasted oEmbed</title><link rel="icon" href="data:,"></head>
<body>
<h1>Pasted oEmbed HTML</h1>
${oembedHtml ?? ''}
</body>
</html>`,
  });
});

after(async () => {
  await browser?.close();
  await host?.close();
  await earshot?.stop();
});

function decode(s) {
  return s
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(x?)([0-9a-f]+);/gi, (_, x, n) => String.fromCodePoint(parseInt(n, x ? 16 : 10)));
}

const embedFrame = (page) => page.frames().find((f) => /\/embed\/spaces\//.test(f.url()));

test('the embed page itself answers for every theme', async () => {
  assert.ok(liveId, 'a live Space');
  for (const theme of ['', '?theme=light', '?theme=dark']) {
    const res = await fetchText(`${earshot.url}/embed/spaces/${liveId}${theme}`);
    assert.equal(res.status, 200, `/embed/spaces/${liveId}${theme}`);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    // It must be framable from other origins.
    const xfo = res.headers.get('x-frame-options');
    assert.ok(!xfo, `X-Frame-Options ${xfo} forbids embedding`);
    const csp = res.headers.get('content-security-policy') ?? '';
    const fa = csp.match(/frame-ancestors ([^;]*)/)?.[1];
    assert.ok(!fa || /\*|https?:/.test(fa), `CSP frame-ancestors ${fa} forbids embedding`);
  }
  const missing = await fetchText(`${earshot.url}/embed/spaces/NoSuchSpace000`);
  assert.equal(missing.status, 404);
});

test('the widget renders, refreshes and resizes its iframe on a second origin', { timeout: 180_000 }, async (t) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(`${m.text()} ${m.location()?.url ?? ''}`));
  page.on('response', (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
  try {
    await page.goto(`${host.url}/widget.html`);
    const frame = await waitFor(() => embedFrame(page), { timeout: 15_000, message: 'the embed iframe' });
    await frame.waitForLoadState('load');

    await t.test('renders the Space', async () => {
      await frame.locator('body').waitFor();
      const text = await frame.locator('body').innerText();
      assert.ok(text.includes(liveTitle), `the widget shows the title "${liveTitle}": ${text.slice(0, 300)}`);
      const links = await frame.locator(`a[href*="/spaces/${liveId}"]`).count();
      assert.ok(links > 0, 'the widget links to the Space page');
    });

    const iframeHeight = () => page.locator('#widget').evaluate((el) => el.getBoundingClientRect().height);
    const contentHeight = () => frame.evaluate(() => document.documentElement.scrollHeight);

    await t.test('embed.js sizes the iframe to its content', async () => {
      await waitFor(
        async () => {
          const h = await iframeHeight();
          const c = await contentHeight();
          return h !== 100 && Math.abs(h - c) <= 2;
        },
        { timeout: 15_000, message: 'the iframe height to match its content (it starts at 100 px)' },
      );
    });

    await t.test('and follows its content when the width changes', async () => {
      const before = await iframeHeight();
      await page.locator('#widget').evaluate((el) => {
        el.width = '260';
      });
      await waitFor(
        async () => {
          const h = await iframeHeight();
          const c = await contentHeight();
          return Math.abs(h - c) <= 2 && h !== before;
        },
        { timeout: 15_000, message: `the iframe height to follow a narrower width (was ${before} px)` },
      );
    });

    await t.test('refreshes without reloading', async () => {
      // framenavigated also reports same-document history updates, so the marker is
      // the reload check and the frame's address must only stay put.
      const navigations = [];
      page.on('framenavigated', (f) => f !== page.mainFrame() && navigations.push(f.url()));
      const frameUrl = frame.url();
      await frame.evaluate(() => {
        window.__earshotNoReload = true;
      });
      const text = () => frame.locator('body').innerText();
      const first = await text();
      await waitFor(async () => (await text()) !== first, { timeout: 60_000, message: 'the widget to change' });
      assert.equal(await frame.evaluate(() => window.__earshotNoReload), true, 'the widget did not reload');
      assert.ok(navigations.every((u) => u === frameUrl), `the widget navigated: ${navigations}`);
    });

    await page.screenshot({ path: join(outDir('screenshots'), 'embed-on-host-page.png'), fullPage: true });
    assert.deepEqual(errors, [], 'no script errors on the host page or in the widget');
  } finally {
    await context.close();
  }
});

test('oEmbed: JSON for a Space page URL, and its html renders when pasted into a page', async (t) => {
  const spaceUrl = `${earshot.url}/spaces/${liveId}`;
  const res = await fetch(`${earshot.url}/oembed?url=${encodeURIComponent(spaceUrl)}&format=json`);
  assert.equal(res.status, 200, '/oembed status');
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const o = await res.json();
  await t.test('fields', () => {
    assert.equal(o.version, '1.0');
    assert.equal(o.type, 'rich');
    assert.equal(typeof o.html, 'string');
    assert.match(o.html, /<iframe[^>]+src="[^"]*\/embed\/spaces\//);
    assert.ok(Number.isInteger(o.width) && o.width > 0, `width ${o.width}`);
    assert.ok(Number.isInteger(o.height) && o.height > 0, `height ${o.height}`);
    assert.equal(o.title, liveTitle);
  });
  await t.test('maxwidth is honoured', async () => {
    const r = await fetch(`${earshot.url}/oembed?url=${encodeURIComponent(spaceUrl)}&maxwidth=300&format=json`);
    assert.equal(r.status, 200);
    const small = await r.json();
    assert.ok(small.width <= 300, `width ${small.width} > maxwidth 300`);
  });
  await t.test('an unknown URL is a 404', async () => {
    const r = await fetch(`${earshot.url}/oembed?url=${encodeURIComponent('https://example.invalid/nothing')}&format=json`);
    assert.equal(r.status, 404);
  });

  await t.test('pasted html renders on another origin', async () => {
    oembedHtml = o.html;
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${host.url}/oembed.html`);
      const frame = await waitFor(() => embedFrame(page), { timeout: 15_000, message: 'the oEmbed iframe' });
      await frame.waitForLoadState('load');
      const text = await frame.locator('body').innerText();
      assert.ok(text.includes(liveTitle), `the pasted widget shows "${liveTitle}": ${text.slice(0, 300)}`);
      const box = await page.locator('iframe').first().boundingBox();
      assert.ok(box && box.width > 100 && box.height > 50, `the iframe is visible: ${JSON.stringify(box)}`);
    } finally {
      await context.close();
    }
  });
});

test('share card: /spaces/{id}/card.png is a 1200×630 PNG named by og:image', async () => {
  const page = await fetchText(`${earshot.url}/spaces/${liveId}`);
  const og = page.text.match(/<meta property="og:image" content="([^"]+)"/)?.[1];
  assert.ok(og, 'og:image on the Space page');
  assert.match(og, new RegExp(`/spaces/${liveId}/card\\.png`));
  const res = await fetch(`${earshot.url}/spaces/${liveId}/card.png`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /image\/png/);
  const buf = Buffer.from(await res.arrayBuffer());
  assert.equal(buf.subarray(1, 4).toString('latin1'), 'PNG');
  assert.equal(buf.readUInt32BE(16), 1200, 'width');
  assert.equal(buf.readUInt32BE(20), 630, 'height');
});
