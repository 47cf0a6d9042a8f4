// Local time: static/app.js shows the server's UTC times in the viewer's zone and
// language, regroups /upcoming by the viewer's days and keeps relative words current;
// with JavaScript off the page stays as the server wrote it, in UTC.
//
// Expected values are computed here from each <time>'s datetime with an explicit
// timeZone (never the browser's default), and the day of each card is also checked
// by plain offset arithmetic, so the script's grouping is checked two ways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startEarshot, launchBrowser, fetchText, cards, outDir } from '../lib/harness.mjs';

let earshot;
let browser;
const shots = outDir('screenshots');

const VIEWERS = [
  { name: 'tokyo', timezoneId: 'Asia/Tokyo', locale: 'en-GB' },
  { name: 'los-angeles', timezoneId: 'America/Los_Angeles', locale: 'de-DE' },
];

before(async () => {
  earshot = await startEarshot({ liveTtl: 2, cacheTtl: 30 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await earshot?.stop();
});

/** What the page shows on /upcoming: its day sections and each card's time. */
function readDays(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('main section.day')].map((s) => ({
      heading: s.querySelector('h2').textContent,
      lang: s.querySelector('h2').lang,
      times: [...s.querySelectorAll('li.card time[datetime]')].map((t) => ({
        iso: t.dateTime,
        text: t.textContent,
        title: t.title,
      })),
    })),
  );
}

/** The expected words, computed in the browser with the zone and locale given. */
function expected(page, timeZone, locale, isos) {
  return page.evaluate(
    ({ timeZone, locale, isos }) => {
      const key = (t) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(t);
      const abs = new Intl.DateTimeFormat(locale, {
        timeZone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric',
        hour: 'numeric', minute: '2-digit', timeZoneName: 'short',
      });
      const day = new Intl.DateTimeFormat(locale, { timeZone, weekday: 'long', day: 'numeric', month: 'long' });
      const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
      const cap = (s) => s.charAt(0).toLocaleUpperCase(locale) + s.slice(1);
      const today = key(Date.now());
      const tomorrow = key(Date.now() + 86_400_000);
      return isos.map((iso) => {
        const t = Date.parse(iso);
        const k = key(t);
        const heading = k === today ? cap(rtf.format(0, 'day')) : k === tomorrow ? cap(rtf.format(1, 'day')) : day.format(t);
        // The zone's offset at that moment, from its own name ("GMT+09:00", "GMT-08:00").
        const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
          .formatToParts(t)
          .find((p) => p.type === 'timeZoneName').value;
        const m = /GMT([+-])(\d\d):(\d\d)/.exec(name);
        const offsetMin = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
        return { iso, day: k, heading, title: abs.format(t), offsetMin };
      });
    },
    { timeZone, locale, isos },
  );
}

for (const viewer of VIEWERS) {
  test(`/upcoming in ${viewer.timezoneId} (${viewer.locale}): days and times are the viewer's`, async () => {
    const context = await browser.newContext({ timezoneId: viewer.timezoneId, locale: viewer.locale });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${earshot.url}/upcoming`);
      await page.waitForFunction(() => document.querySelector('main section.day h2[data-day]'));
      const days = await readDays(page);
      assert.ok(days.length > 0, 'day sections on /upcoming');
      const all = days.flatMap((d) => d.times);
      assert.ok(all.length > 0, 'scheduled Spaces on /upcoming');
      const want = new Map((await expected(page, viewer.timezoneId, viewer.locale, all.map((t) => t.iso))).map((e) => [e.iso, e]));

      // Every card sits under its own local day, the days in order, each heading right.
      const seen = [];
      for (const d of days) {
        const dayKeys = new Set(d.times.map((t) => want.get(t.iso).day));
        assert.equal(dayKeys.size, 1, `one local day under "${d.heading}": ${[...dayKeys]}`);
        const [dayKey] = dayKeys;
        assert.ok(!seen.includes(dayKey), `day ${dayKey} appears once`);
        if (seen.length) assert.ok(seen[seen.length - 1] < dayKey, 'days in order');
        seen.push(dayKey);
        assert.equal(d.heading, want.get(d.times[0].iso).heading, `heading of ${dayKey}`);
        assert.equal(d.lang, viewer.locale, 'the heading says its language');
        for (const t of d.times) {
          // The day again, by arithmetic on the UTC instant and the zone's offset.
          const local = new Date(Date.parse(t.iso) + want.get(t.iso).offsetMin * 60_000).toISOString().slice(0, 10);
          assert.equal(local, dayKey, `${t.iso} is on ${local} in ${viewer.timezoneId}`);
          assert.equal(t.title, want.get(t.iso).title, `the tooltip of ${t.iso} in the viewer's zone`);
          assert.doesNotMatch(t.title, /UTC$/);
          assert.match(t.text, /^(starts (in .+|just now)|starting now)$/, 'the relative words stay');
        }
      }
      // Same Spaces, same order as the server's.
      const served = await fetchText(`${earshot.url}/upcoming`);
      const servedIsos = [...served.text.matchAll(/<li class="card[\s\S]*?<time datetime="([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(all.map((t) => t.iso), servedIsos, 'every card kept, in order');

      assert.match(await page.locator('main p.summary').innerText(), new RegExp(`in your time zone \\(${viewer.timezoneId}\\)`));
      assert.match(await page.locator('footer.site').innerText(), new RegExp(`Times are in your time zone \\(${viewer.timezoneId}\\)`));
      await page.screenshot({ path: join(shots, `localtime-upcoming-${viewer.name}.png`), fullPage: false });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
}

test("a Space page's times in the viewer's zone; relative words kept current", async () => {
  const up = await fetchText(`${earshot.url}/upcoming`);
  // One starting in 20 to 90 minutes, so that ten minutes on it still says "in N min".
  const starts = [...up.text.matchAll(/href="\/spaces\/([A-Za-z0-9]+)"[\s\S]*?<time datetime="([^"]+)"/g)].map((m) => ({ id: m[1], at: Date.parse(m[2]) }));
  const scheduled =
    starts.find((s) => s.at - Date.now() > 20 * 60_000 && s.at - Date.now() < 90 * 60_000) ??
    cards(up.text).find((c) => c.state === 'scheduled');
  assert.ok(scheduled, 'a scheduled Space on /upcoming');
  const viewer = VIEWERS[0];
  const context = await browser.newContext({ timezoneId: viewer.timezoneId, locale: viewer.locale });
  const page = await context.newPage();
  try {
    // A clock of our own, so that time can pass without waiting for it.
    await page.clock.install();
    await page.goto(`${earshot.url}/spaces/${scheduled.id}`);
    const moments = page.locator('dl.moments time[datetime]');
    await page.waitForFunction(() => document.querySelector('dl.moments time[data-kind]'));
    assert.ok((await moments.count()) > 0, 'the page says when');
    const first = await moments.first().evaluate((t) => ({
      iso: t.dateTime,
      text: t.textContent,
      lang: t.lang,
      after: t.nextSibling?.nodeValue ?? '',
    }));
    const [want] = await expected(page, viewer.timezoneId, viewer.locale, [first.iso]);
    assert.equal(first.text, want.title, 'the absolute time in the viewer zone and language');
    assert.equal(first.lang, viewer.locale);
    assert.match(first.after, /^ \(in .+\)/, 'its relative words follow');

    // The status line's relative words move on as time passes.
    const when = page.locator('#live-status time[datetime]');
    const before = await when.innerText();
    const minutes = Math.round((Date.parse(first.iso) - (await page.evaluate(() => Date.now()))) / 60_000);
    assert.match(before, /^starts in /);
    await page.clock.fastForward('10:00');
    await page.waitForFunction((b) => document.querySelector('#live-status time[datetime]').textContent !== b, before);
    const later = await when.innerText();
    const m = /^starts in (\d+) min$/.exec(later);
    if (minutes > 12 && minutes < 95) {
      assert.ok(m, `still minutes away: ${later}`);
      assert.ok(Math.abs(Number(m[1]) - (minutes - 10)) <= 1, `${before} → ${later}`);
    }
    assert.notEqual(later, before);

    // A hidden tab's timer stops; shown again, the words catch up at once.
    const setHidden = (hidden) =>
      page.evaluate((hidden) => {
        Object.defineProperty(document, 'hidden', { value: hidden, configurable: true });
        Object.defineProperty(document, 'visibilityState', { value: hidden ? 'hidden' : 'visible', configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    await setHidden(true);
    await page.clock.fastForward('05:00');
    assert.equal(await when.innerText(), later, 'no update while hidden');
    await setHidden(false);
    assert.notEqual(await when.innerText(), later, 'updated as soon as shown');
    await page.screenshot({ path: join(shots, 'localtime-space-tokyo.png'), fullPage: false });
  } finally {
    await context.close();
  }
});

test("a live Space page: 'live for' and the peak's clock in the viewer's zone", async () => {
  const home = await fetchText(`${earshot.url}/live`);
  const live = cards(home.text).find((c) => c.state === 'live');
  assert.ok(live, 'a live Space on /live');
  const viewer = VIEWERS[1];
  const context = await browser.newContext({ timezoneId: viewer.timezoneId, locale: viewer.locale });
  const page = await context.newPage();
  try {
    await page.goto(`${earshot.url}/spaces/${live.id}`);
    await page.waitForFunction(() => document.querySelector('#live-status time[data-kind]'));
    const status = await page.locator('#live-status time[datetime]').first().evaluate((t) => ({ iso: t.dateTime, text: t.textContent, title: t.title }));
    const [want] = await expected(page, viewer.timezoneId, viewer.locale, [status.iso]);
    assert.match(status.text, /^live for \d/);
    assert.equal(status.title, want.title);
    // What the next poll swaps in is localised too.
    const polled = page.waitForResponse((r) => new URL(r.url()).pathname === `/spaces/${live.id}/live`);
    await polled;
    await page.waitForFunction(() => {
      const t = document.querySelector('#live-status time[datetime]');
      return t && t.hasAttribute('data-kind') && !/UTC$/.test(t.title);
    });
    const peak = page.locator('figure.history figcaption');
    if (await peak.count()) {
      const caption = await peak.innerText();
      assert.doesNotMatch(caption, /UTC/, `the peak's clock names the viewer's zone: ${caption}`);
    }
    await page.screenshot({ path: join(shots, 'localtime-space-live-los-angeles.png'), fullPage: false });
  } finally {
    await context.close();
  }
});

test('with JavaScript off, pages stay in UTC as the server wrote them', async () => {
  const context = await browser.newContext({ timezoneId: 'Asia/Tokyo', locale: 'en-GB', javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    await page.goto(`${earshot.url}/upcoming`);
    const served = await fetchText(`${earshot.url}/upcoming`);
    const servedHeadings = [...served.text.matchAll(/<h2 id="day-\d+">([^<]*)<\/h2>/g)].map((m) => m[1]);
    const headings = await page.locator('main section.day h2').allInnerTexts();
    assert.ok(headings.length > 0);
    // Rendered a moment apart: the same UTC days (only a midnight between could differ).
    assert.deepEqual(headings, servedHeadings);
    const titles = await page.locator('main time[datetime]').evaluateAll((ts) => ts.map((t) => t.title));
    assert.ok(titles.length > 0 && titles.every((t) => / UTC$/.test(t)), 'tooltips in UTC');
    assert.match(await page.locator('main p.summary').innerText(), /Days and times are in UTC\./);
    assert.match(await page.locator('footer.site').innerText(), /Times are in UTC\./);
    await page.screenshot({ path: join(shots, 'localtime-upcoming-nojs.png'), fullPage: false });
  } finally {
    await context.close();
  }
});
