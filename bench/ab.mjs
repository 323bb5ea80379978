#!/usr/bin/env node
// pnpm bench:ab -- --vs DIR: this checkout (A) against another built checkout (B), side by side.
// Each pair runs A and B back to back (in alternating order, so drift hits both alike) and the
// ratio A/B is taken pair by pair: on a noisy machine the ratio holds when absolute times do not.
//   --vs DIR        the other checkout (built: `pnpm build`), e.g. a `git worktree` of main
//   --pairs N       pairs per figure (default 5)
//   --hw LIST       hardware models of the fault paths (default flat,x86,arm64)
//   --pages N       pages of the fault paths (default 262144 = 1 GiB)
//   --cli           also `mmsim run` start time and `mmsim check` steps/s
//   --json          one JSON document instead of the table
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { BIN, checkSample, startSample } from './cli-figures.mjs';
import { fmt, jsonOf, printTable, summary } from './stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const positive = (v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
const opts = new Command('bench:ab')
  .requiredOption('--vs <dir>', 'the other checkout (built)')
  .option('--pairs <n>', 'pairs per figure', positive, 5)
  .option('--hw <list>', 'hardware of the fault paths', 'flat,x86,arm64')
  .option('--pages <n>', 'pages of the fault paths', positive, 262144)
  .option('--cli', 'also mmsim run start time and mmsim check steps/s', false)
  .option('--json', 'one JSON document', false)
  .parse()
  .opts();

const other = path.resolve(opts.vs);
const simA = path.join(here, 'sim-faults.mjs');
const simB = path.join(other, 'bench', 'sim-faults.mjs');
const binB = path.join(other, 'packages', 'cli', 'dist', 'bin.js');
for (const [what, file] of [
  ['bench/sim-faults.mjs', simB],
  ['packages/cli/dist/bin.js (run `pnpm build` there)', binB],
]) {
  if (!existsSync(file)) {
    console.error(`bench:ab: --vs ${opts.vs}: no ${what} (${file})`);
    process.exit(2);
  }
}
const hws = opts.hw.split(',').filter(Boolean);
for (const hw of hws) {
  if (!['flat', 'x86', 'arm64'].includes(hw)) {
    console.error(`bench:ab: --hw: unknown hardware "${hw}" (flat, x86, arm64)`);
    process.exit(2);
  }
}

const PHASES = [
  ['touch', 'first touch', 'ns/fault'],
  ['fork', 'fork', 'ns/PTE'],
  ['cow', 'CoW (child writes)', 'ns/fault'],
  ['reuse', 'reuse (parent writes)', 'ns/fault'],
];
const node = [process.execPath, '--max-old-space-size=8192'];

/** figure name → { unit, a: [], b: [], ratio: [] } */
const figures = new Map();
const add = (name, unit, a, b) => {
  let f = figures.get(name);
  if (!f) figures.set(name, (f = { unit, a: [], b: [], ratio: [] }));
  f.a.push(a);
  f.b.push(b);
  f.ratio.push(a / b);
};

/** run both in this pair's order; returns [a, b] */
const pair = (i, runA, runB) => {
  if (i % 2 === 0) {
    const a = runA();
    return [a, runB()];
  }
  const b = runB();
  return [runA(), b];
};

console.error(`bench:ab: A = ${path.resolve(here, '..')}, B = ${other}, ${opts.pairs} pairs`);
for (let i = 0; i < opts.pairs; i++) {
  for (const hw of hws) {
    const args = [String(hw), String(opts.pages)];
    const [a, b] = pair(
      i,
      () => jsonOf(node[0], [...node.slice(1), simA, ...args]),
      () => jsonOf(node[0], [...node.slice(1), simB, ...args]),
    );
    for (const [ph, label, unit] of PHASES) add(`${label} · ${hw}`, unit, a.ns[ph], b.ns[ph]);
    add(`peak RSS · ${hw}`, 'MiB', a.maxRssKiB / 1024, b.maxRssKiB / 1024);
  }
  if (opts.cli) {
    const [sa, sb] = pair(
      i,
      () => startSample(BIN),
      () => startSample(binB),
    );
    add('mmsim run bench/tiny.yaml --json', 'ms wall', sa, sb);
    const [ca, cb] = pair(
      i,
      () => checkSample(BIN),
      () => checkSample(binB),
    );
    add('mmsim check, steps/s of the check', 'steps/s', ca.perSecond, cb.perSecond);
  }
  console.error(`bench:ab: pair ${i + 1}/${opts.pairs} done`);
}

if (opts.json) {
  const out = {};
  for (const [name, f] of figures)
    out[name] = { unit: f.unit, a: summary(f.a), b: summary(f.b), ratio: summary(f.ratio) };
  console.log(JSON.stringify({ a: path.resolve(here, '..'), b: other, pairs: opts.pairs, figures: out }, null, 2));
} else {
  console.log(
    `A: this checkout, B: --vs; median and min – max are A's; A/B is the median (min – max) of the ratios pair by pair`,
  );
  const rows = [];
  for (const [name, f] of figures) {
    const r = summary(f.ratio);
    rows.push({
      name,
      unit: f.unit,
      s: summary(f.a),
      extra: {
        'B median': fmt(summary(f.b).median),
        'A/B': `${r.median.toFixed(3)} (${r.min.toFixed(3)} – ${r.max.toFixed(3)})`,
      },
    });
  }
  printTable(rows, ['B median', 'A/B']);
}
