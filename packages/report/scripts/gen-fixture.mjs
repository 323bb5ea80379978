#!/usr/bin/env node
// Regenerates test/fixtures/forceswap-compare.json: what `mmsim compare examples/forceswap/forceswap.yaml
// --kernel linux-5.8 --kernel linux-5.9 --var rounds=250,500,1000 --json` would print, made with the
// built CLI (`pnpm build` first) by running each configuration with `mmsim run --json` and wrapping
// the documents in the compare shape. The file's `times: 100000` becomes `times: ${rounds}`.
// Usage (from the repository root): node packages/report/scripts/gen-fixture.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const bin = join(root, 'packages/cli/dist/bin.js');
const source = readFileSync(join(root, 'examples/forceswap/forceswap.yaml'), 'utf8');
if (!source.includes('times: 100000')) throw new Error('forceswap.yaml no longer has "times: 100000"');

const kernels = ['linux-5.8', 'linux-5.9'];
const rounds = ['250', '500', '1000'];
const tmp = mkdtempSync(join(tmpdir(), 'mmsim-report-fixture-'));
const configs = [];
try {
  for (const kernel of kernels) {
    for (const r of rounds) {
      const file = join(tmp, `forceswap-${r}.yaml`);
      writeFileSync(file, source.replace('times: 100000', `times: ${r}`));
      const out = execFileSync('node', [bin, 'run', file, '--kernel', kernel, '--json', '--seed', '1'], {
        encoding: 'utf8',
      });
      configs.push({
        label: `${kernel}/x86 rounds=${r}`,
        kernel,
        hardware: 'x86',
        policies: [],
        vars: { rounds: r },
        seed: 1,
        result: JSON.parse(out),
      });
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const doc = { baseline: configs[0].label, configs };
const target = join(here, '..', 'test', 'fixtures', 'forceswap-compare.json');
writeFileSync(target, `${JSON.stringify(doc, null, 2)}\n`);
console.log(`wrote ${target}: ${configs.length} configurations`);
