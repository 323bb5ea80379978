#!/usr/bin/env node
// pnpm bench: the simulator's fault paths against a JS floor and against this machine's real
// kernel, the 64 GiB mode, `mmsim run` start time and `mmsim check` steps/s, the `mmsim replay`
// rate (page accesses/s) with the trace decode rates, then bench/compare.mjs.
// Every figure is a median with min – max over repeats (fresh processes). bench/README.md says
// what each figure is. Runs on the built packages (`pnpm build`).
//   BENCH_REPEAT=N     repeats of the fault, floor, real-kernel and check samples (default 3)
//   BENCH_START_N=N    `mmsim run` start-time samples (default 10)
//   --no-replay        skip the replay and trace decode figures
//   BENCH_GIB=N, --big the big mode: touch + fork N GiB (default 64) against the 1 GiB figures;
//                      without either it runs only when the 1 GiB rate says under a minute and the
//                      free memory is enough; --no-big never
//   --no-compare       skip bench/compare.mjs
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { checkSample, CHECK_ARGS, startSample } from './cli-figures.mjs';
import { replaySample, replayTrace } from './replay-figures.mjs';
import { faultsBinary, kernelRelease, realSample } from './real-kernel.mjs';
import { fmt, jsonOf, median, printTable, summary } from './stats.mjs';
import { decodeFigures } from './trace-decode.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const repeat = Number(process.env.BENCH_REPEAT ?? 3);
const startN = Number(process.env.BENCH_START_N ?? 10);
const envGib = Number(process.env.BENCH_GIB ?? 1);
const bigAsked = argv.includes('--big') || envGib > 1;
const bigGib = argv.includes('--no-big') ? 0 : envGib > 1 ? envGib : 64;
const BIG_BYTES_PER_PAGE = 90; // peak RSS per touched page after touch + fork (the big mode measures it)
const BIG_MAX_S = 60;
const PAGES = 262144; // 1 GiB of 4 KiB pages
const HW = ['flat', 'x86', 'arm64'];
const PHASES = [
  ['touch', 'first touch', 'ns/fault'],
  ['fork', 'fork', 'ns/PTE'],
  ['cow', 'CoW (child writes)', 'ns/fault'],
  ['reuse', 'reuse (parent writes)', 'ns/fault'],
];
const node = [process.execPath, '--max-old-space-size=8192'];
const sim = (hw, pages, extra = []) =>
  jsonOf(node[0], [...node.slice(1), path.join(here, 'sim-faults.mjs'), hw, String(pages), ...extra]);

console.log(
  `mmsim bench: 1 GiB = ${PAGES.toLocaleString('en-US')} pages of 4 KiB, ${repeat} repeats, node ${process.version}, ` +
    `Linux ${kernelRelease()}, ${os.availableParallelism?.() ?? os.cpus().length} cores`,
);

// ---- fault paths: sim (3 hardware), floor, real kernel; repeats in turn, so drift hits all alike
const bin = faultsBinary();
if (bin instanceof Error) console.log(`real kernel: skipped (${bin.message})`);
const samples = { floor: [], real: { touch: [], fork: [], cow: [], reuse: [] } };
for (const hw of HW) samples[hw] = { touch: [], fork: [], cow: [], reuse: [] };
for (let r = 0; r < repeat; r++) {
  for (const hw of HW) {
    const s = sim(hw, PAGES);
    for (const [ph] of PHASES) samples[hw][ph].push(s.ns[ph]);
  }
  samples.floor.push(jsonOf(process.execPath, [path.join(here, 'floor.mjs'), String(PAGES)]).ns);
  if (!(bin instanceof Error)) {
    const s = realSample(bin, PAGES);
    for (const [ph] of PHASES) samples.real[ph].push(s.ns[ph]);
  }
}
const floor = summary(samples.floor);
const rows = [];
for (const [ph, label, unit] of PHASES) {
  const real = samples.real[ph].length ? summary(samples.real[ph]) : undefined;
  for (const hw of HW) {
    const s = summary(samples[hw][ph]);
    rows.push({
      name: `${label} · ${hw}`,
      unit,
      s,
      extra: {
        '×floor': `${fmt(s.median / floor.median)}x`,
        '×real': real ? `${fmt(s.median / real.median)}x` : '-',
      },
    });
  }
  if (real) rows.push({ name: `${label} · real kernel`, unit, s: real });
}
rows.push({ name: 'floor (JS typed-array work)', unit: 'ns/fault', s: floor });
console.log('\nfault paths (sim: @mmsim/core createSystem, no policies; ×floor, ×real: ratio of medians)');
printTable(rows, ['×floor', '×real']);

// ---- the big mode: touch + fork of bigGib GiB on flat, against the 1 GiB figures
const bigPages = Math.round((bigGib * 2 ** 30) / 4096);
const bigEstimateS = (bigPages * (median(samples.flat.touch) + median(samples.flat.fork))) / 1e9;
const bigMemory = bigPages * BIG_BYTES_PER_PAGE * 1.5;
let bigSkip = bigGib === 0 ? 'skipped (--no-big)' : undefined;
if (!bigAsked && !bigSkip && (bigEstimateS > BIG_MAX_S || os.freemem() < bigMemory))
  bigSkip = `skipped: about ${bigEstimateS.toFixed(0)} s of faults and ${(bigMemory / 2 ** 30).toFixed(1)} GiB of memory (${(os.freemem() / 2 ** 30).toFixed(1)} GiB free)`;
if (!bigSkip) {
  const t0 = performance.now();
  const s = sim('flat', bigPages, ['--no-cow']);
  const wall = (performance.now() - t0) / 1000;
  const one = (ph) => median(samples.flat[ph]);
  console.log(`\nbig mode: ${bigGib} GiB = ${bigPages.toLocaleString('en-US')} pages, flat, touch + fork, one run`);
  printTable(
    [
      { name: 'wall time (process)', unit: 's', s: summary([wall]) },
      { name: 'peak RSS per touched page', unit: 'B/page', s: summary([(s.maxRssKiB * 1024) / bigPages]) },
      {
        name: 'first touch',
        unit: 'ns/fault',
        s: summary([s.ns.touch]),
        extra: { '×1 GiB': `${fmt(s.ns.touch / one('touch'))}x` },
      },
      {
        name: 'fork',
        unit: 'ns/PTE',
        s: summary([s.ns.fork]),
        extra: { '×1 GiB': `${fmt(s.ns.fork / one('fork'))}x` },
      },
    ],
    ['×1 GiB'],
  );
} else {
  console.log(
    `\nbig mode (64 GiB touch + fork): ${bigSkip}; run it with \`BENCH_GIB=64 pnpm bench\` or \`pnpm bench -- --big\``,
  );
}

// ---- the CLI: start time and check steps/s
const start = [];
for (let i = 0; i < startN; i++) start.push(startSample());
const check = [];
for (let r = 0; r < repeat; r++) check.push(checkSample());
console.log(`\nCLI (packages/cli/dist/bin.js; check: mmsim ${CHECK_ARGS.join(' ')}, ${check[0].steps} steps)`);
printTable([
  { name: 'mmsim run bench/tiny.yaml --json', unit: 'ms wall', s: summary(start) },
  { name: 'mmsim check, steps/s of the check', unit: 'steps/s', s: summary(check.map((c) => c.perSecond)) },
  { name: 'mmsim check, steps/s whole process', unit: 'steps/s', s: summary(check.map((c) => c.perSecondWall)) },
]);

// ---- replay: `mmsim replay` page accesses/s (wall minus the `mmsim run` start median), decode rates
if (!argv.includes('--no-replay')) {
  const trace = await replayTrace();
  try {
    const runs = [];
    for (let r = 0; r < repeat; r++) runs.push(replaySample(trace.file));
    const startMs = median(start);
    const simS = (x) => Math.max(x.ms - startMs, 1) / 1000;
    const decode = await decodeFigures(5e6, Math.max(repeat, 5));
    const columnsMedian = median(decode.rates['columns()']);
    console.log(
      `\nreplay (mmsim replay TRACE --json: bench/replay-trace.mjs, ${trace.accesses.toLocaleString('en-US')} page accesses ` +
        `in ${trace.records.toLocaleString('en-US')} records, a fork; ${runs[0].faults.toLocaleString('en-US')} faults; ` +
        `"sim": wall minus the mmsim run start median)`,
    );
    printTable([
      { name: 'mmsim replay, wall time', unit: 'ms wall', s: summary(runs.map((x) => x.ms)) },
      { name: 'replay rate, sim', unit: 'accesses/s', s: summary(runs.map((x) => trace.accesses / simS(x))) },
      {
        name: 'replay rate, whole process',
        unit: 'accesses/s',
        s: summary(runs.map((x) => trace.accesses / (x.ms / 1000))),
      },
      { name: 'replay fault rate, sim', unit: 'faults/s', s: summary(runs.map((x) => x.faults / simS(x))) },
      { name: 'trace decode, columns()', unit: 'M records/s', s: summary(decode.rates['columns()']) },
      { name: 'trace decode, visit()', unit: 'M records/s', s: summary(decode.rates['visit()']) },
      { name: 'trace decode, batches()', unit: 'M records/s', s: summary(decode.rates['batches()']) },
      { name: 'raw inflate (decode ceiling)', unit: 'M records/s', s: summary(decode.rates.inflate) },
    ]);
    const decodeMs = trace.records / columnsMedian / 1e3;
    console.log(
      `decoding the replay trace at the columns() median: ${fmt(decodeMs)} ms of the ${fmt(median(runs.map((x) => x.ms)) - startMs)} ms replay ` +
        `(decode: ${decode.records.toLocaleString('en-US')} records of bench/trace-decode.mjs, ${decode.rates.inflate.length} rounds in this process)`,
    );
  } finally {
    trace.dispose();
  }
}

if (!argv.includes('--no-compare')) {
  console.log('');
  const r = spawnSync(process.execPath, [path.join(here, 'compare.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
