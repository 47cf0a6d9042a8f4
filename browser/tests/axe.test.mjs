// Accessibility: axe-core on every kind of page, in light and dark colour schemes.
// Zero violations; each violation is reported with its nodes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEarshot, launchBrowser, outDir } from '../lib/harness.mjs';
import { pagesToCheck } from '../lib/pages.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

let earshot;
let browser;
let pages;
const report = {};

before(async () => {
  earshot = await startEarshot({ liveTtl: 2, cacheTtl: 30 });
  browser = await launchBrowser();
  ({ pages } = await pagesToCheck(earshot.url));
});

after(async () => {
  writeFileSync(join(outDir(), 'axe.json'), JSON.stringify(report, null, 2));
  await browser?.close();
  await earshot?.stop();
});

function describe(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((n) => `    - ${n.target.join(' ')}\n      ${n.html}\n      ${n.failureSummary?.replace(/\n/g, '\n      ')}`)
        .join('\n');
      return `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}`;
    })
    .join('\n');
}

for (const scheme of ['light', 'dark']) {
  test(`axe-core, ${scheme} colour scheme`, async (t) => {
    // bypassCSP only lets the injected axe script run: earshot's CSP (script-src 'self')
    // rightly blocks inline scripts.
    const context = await browser.newContext({ colorScheme: scheme, bypassCSP: true });
    try {
      for (const p of pages) {
        await t.test(`${p.name} ${p.path ?? ''}`, async (st) => {
          if (p.missing) return st.skip(p.missing);
          const page = await context.newPage();
          try {
            const res = await page.goto(earshot.url + p.path, { waitUntil: 'load' });
            assert.equal(res.status(), p.status ?? 200, `status of ${p.path}`);
            await page.addScriptTag({ path: AXE });
            const result = await page.evaluate(async () => {
              // eslint-disable-next-line no-undef
              const r = await axe.run(document, { resultTypes: ['violations', 'incomplete'] });
              return { violations: r.violations, incomplete: r.incomplete.map((i) => ({ id: i.id, help: i.help, nodes: i.nodes.length })) };
            });
            report[`${scheme} ${p.name}`] = { path: p.path, ...result };
            assert.equal(
              result.violations.length,
              0,
              `axe violations on ${p.path} (${scheme}):\n${describe(result.violations)}`,
            );
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
