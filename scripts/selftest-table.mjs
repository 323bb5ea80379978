#!/usr/bin/env node
// The README's table of the kernel's mm selftests ported as mmsim tests.
//
//   node scripts/selftest-table.mjs          run the ported tests (vitest), rewrite the README table
//   node scripts/selftest-table.mjs --check  the same, but only report whether the README is current
//   node scripts/selftest-table.mjs --static the columns that need no run (for the staleness test)
//
// Each ported selftest has `packages/<pkg>/test/selftests/<name>.test.ts` (a describe('<name>.c')
// whose test titles start with the upstream case name) and `<name>.scope.json` next to it:
// { file, cases: [every upstream case], outOfScope: { case: why } }. A case is ported when a
// test title starts with it (then " ", ":" or " ["); it passes when all its tests pass.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const README = path.join(root, 'README.md');
const BEGIN = '<!-- mmsim:table selftests -->';
const END = '<!-- /mmsim:table -->';

/** Every selftests directory's scope files, with their test file. */
export function scopes() {
  const out = [];
  for (const pkg of readdirSync(path.join(root, 'packages')).sort()) {
    const dir = path.join(root, 'packages', pkg, 'test', 'selftests');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.scope.json')) continue;
      const name = f.slice(0, -'.scope.json'.length);
      const scope = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
      const test = path.join(dir, `${name}.test.ts`);
      out.push({ name, scope, test: existsSync(test) ? test : null, rel: path.relative(root, test) });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Whether a test title names an upstream case. */
const names = (title, c) => title === c || [' ', ':', '['].some((s) => title.startsWith(c + s));

/**
 * Without a run: a case counts as ported when its name stands in the test source as a string
 * (or the start of one) followed by " ", ":", "[" or the string's end: a title, or a case table
 * that titles are made from.
 */
function staticTitles(file, cases) {
  const src = readFileSync(file, 'utf8');
  const esc = (c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return cases
    .filter((c) => new RegExp(`(['"\`])${esc(c)}(?=[\\s:\\[]|\\1)`).test(src))
    .map((c) => ({ title: c, passed: null }));
}

/** Run the ported tests; titles and states per test file. */
function runTests(files) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'selftests-'));
  const out = path.join(tmp, 'r.json');
  const r = spawnSync('npx', ['vitest', 'run', ...files, '--reporter=json', `--outputFile=${out}`], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (!existsSync(out)) throw new Error(`vitest wrote no results (exit ${r.status})`);
  const json = JSON.parse(readFileSync(out, 'utf8'));
  rmSync(tmp, { recursive: true, force: true });
  const byFile = new Map();
  for (const t of json.testResults)
    byFile.set(
      path.resolve(t.name),
      t.assertionResults.map((a) => ({ title: a.title, passed: a.status === 'passed' })),
    );
  return byFile;
}

/** The table rows: per selftest, its cases and what became of them. */
export function rows(results) {
  return scopes().map(({ name, scope, test, rel }) => {
    const tests = test ? (results?.get(path.resolve(test)) ?? staticTitles(test, scope.cases)) : [];
    const out = Object.keys(scope.outOfScope ?? {});
    const ported = [];
    const passing = [];
    const missing = [];
    for (const c of scope.cases) {
      // an out-of-scope case is never counted as ported (its name may stand in a step, e.g. a mode)
      if (out.includes(c)) continue;
      const mine = tests.filter((t) => names(t.title, c));
      if (mine.length > 0) {
        ported.push(c);
        if (mine.every((t) => t.passed === true)) passing.push(c);
      } else if (!out.includes(c)) missing.push(c);
    }
    return { name, scope, rel, ported, passing, out, missing, tests: tests.length };
  });
}

export function table(rs, withPassing) {
  const lines = [
    BEGIN,
    "The anonymous-memory cases of the kernel's `tools/testing/selftests/mm/` ported as mmsim tests (one vitest test per case and variant, named after the case). Regenerate with `node scripts/selftest-table.mjs` (it runs them).",
    '',
    '| selftest | upstream cases | ported | passing | out of scope | not ported yet | mmsim tests |',
    '| --- | ---: | ---: | ---: | --- | --- | --- |',
  ];
  for (const r of rs) {
    const parts = r.out.map((c) => `\`${c}\`: ${r.scope.outOfScope[c]}`);
    if (r.scope.notes) parts.push(r.scope.notes);
    const oos = parts.length ? parts.join('; ') : '—';
    const miss = r.missing.length ? r.missing.map((c) => `\`${c}\``).join(', ') : '—';
    lines.push(
      `| \`${r.name}.c\` | ${r.scope.cases.length} | ${r.ported.length} | ${withPassing ? r.passing.length : '?'} | ${oos} | ${miss} | [${r.tests}](${r.rel}) |`,
    );
  }
  const t = rs.reduce(
    (a, r) => [a[0] + r.scope.cases.length, a[1] + r.ported.length, a[2] + r.passing.length],
    [0, 0, 0],
  );
  lines.push(`| **all** | ${t[0]} | ${t[1]} | ${withPassing ? t[2] : '?'} | | | |`, END);
  return lines.join('\n');
}

function replaceIn(readme, block) {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END, a);
  if (a < 0 || b < 0) throw new Error(`README.md has no ${BEGIN} … ${END} block`);
  return readme.slice(0, a) + block + readme.slice(b + END.length);
}

/** The README's current block. */
export function currentBlock() {
  const readme = readFileSync(README, 'utf8');
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END, a);
  return a < 0 || b < 0 ? null : readme.slice(a, b + END.length);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2];
  if (arg === '--static') {
    process.stdout.write(`${table(rows(null), false)}\n`);
  } else {
    const files = scopes()
      .filter((s) => s.test)
      .map((s) => path.relative(root, s.test));
    const rs = rows(runTests(files));
    const block = table(rs, true);
    const failing = rs.flatMap((r) => r.ported.filter((c) => !r.passing.includes(c)).map((c) => `${r.name}.c ${c}`));
    if (failing.length) console.error(`failing ported cases: ${failing.join(', ')}`);
    if (arg === '--check') {
      const ok = currentBlock() === block;
      console.log(
        ok ? 'the selftest table is up to date' : 'the selftest table is stale: run node scripts/selftest-table.mjs',
      );
      process.exit(ok ? 0 : 1);
    }
    writeFileSync(README, replaceIn(readFileSync(README, 'utf8'), block));
    console.log(`README.md: ${rs.length} selftests, ${rs.reduce((a, r) => a + r.ported.length, 0)} cases ported`);
  }
}
