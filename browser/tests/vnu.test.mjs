// HTML validity: the Nu Html Checker (vnu-jar, run with the machine's Java) on the
// served HTML of every kind of page. Zero errors; warnings are printed, not failed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEarshot, outDir, fetchText } from '../lib/harness.mjs';
import { pagesToCheck } from '../lib/pages.mjs';

const require = createRequire(import.meta.url);
const VNU = String(require('vnu-jar'));
const JAVA = process.env.JAVA || 'java';

let earshot;
let pages;
const messagesByFile = new Map();
let vnuRun;

before(async () => {
  earshot = await startEarshot({ liveTtl: 2, cacheTtl: 30 });
  ({ pages } = await pagesToCheck(earshot.url));
  const dir = outDir('html');
  const files = [];
  for (const p of pages) {
    if (p.missing) continue;
    const res = await fetchText(earshot.url + p.path);
    p.fetchedStatus = res.status;
    p.file = join(dir, `${p.name}.html`);
    writeFileSync(p.file, res.text);
    files.push(p.file);
  }
  // One JVM for all files: starting Java is the slow part.
  vnuRun = spawnSync(JAVA, ['-Xss1024k', '-jar', VNU, '--format', 'json', '--stdout', ...files], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (vnuRun.error) throw vnuRun.error;
  const parsed = JSON.parse(vnuRun.stdout || '{"messages":[]}');
  for (const m of parsed.messages) {
    const file = decodeURIComponent(String(m.url ?? '').replace(/^file:/, ''));
    if (!messagesByFile.has(file)) messagesByFile.set(file, []);
    messagesByFile.get(file).push(m);
  }
  writeFileSync(join(outDir(), 'vnu.json'), JSON.stringify(parsed, null, 2));
});

after(async () => {
  await earshot?.stop();
});

function fmt(m) {
  const where = m.lastLine ? `line ${m.lastLine}:${m.firstColumn ?? m.lastColumn}` : '';
  return `  ${m.type}${m.subType ? '/' + m.subType : ''} ${where}: ${m.message}\n    ${(m.extract ?? '').replace(/\n/g, '⏎')}`;
}

test('Nu Html Checker ran', () => {
  assert.ok(vnuRun, 'vnu did not run');
  assert.ok(vnuRun.stdout.includes('"messages"'), `vnu printed no JSON:\n${vnuRun.stderr}`);
});

test('Nu Html Checker: zero errors', async (t) => {
  for (const p of pages) {
    await t.test(`${p.name} ${p.path ?? ''}`, (st) => {
      if (p.missing) return st.skip(p.missing);
      assert.equal(p.fetchedStatus, p.status ?? 200, `status of ${p.path}`);
      const msgs = [...messagesByFile.entries()]
        .filter(([f]) => f.endsWith(`/${p.name}.html`))
        .flatMap(([, m]) => m);
      const errors = msgs.filter((m) => m.type === 'error' || m.type === 'non-document-error' || m.subType === 'fatal');
      const warnings = msgs.filter((m) => !errors.includes(m));
      if (warnings.length) st.diagnostic(`warnings on ${p.path}:\n${warnings.map(fmt).join('\n')}`);
      assert.equal(errors.length, 0, `HTML errors on ${p.path}:\n${errors.map(fmt).join('\n')}`);
    });
  }
});
