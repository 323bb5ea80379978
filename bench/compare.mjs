#!/usr/bin/env node
// pnpm bench (second part): wall time of a 24-configuration `mmsim compare` (3 kernels ×
// 2 hardware × 4 --var values of bench/compare.yaml) with --jobs = cores against --jobs 1, and
// the speed-up. Medians of BENCH_REPEAT runs (default 3); BENCH_SIZES=a,b,c,d sets the --var values.
// Runs the built CLI (`pnpm build`). Worker start-up (module load + JIT warm-up per thread, about
// 1 s each) is paid once per worker, so small configurations do not speed up (on this 2-core machine
// SIZE=4MiB..16MiB gave 0.71x, 32MiB..128MiB 0.86x, the default 256MiB..640MiB 1.64x).
// Also checks that both give the same --json document.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.resolve(here, '../packages/cli/dist/bin.js');
const repeat = Number(process.env.BENCH_REPEAT ?? 3);
const cores = os.availableParallelism?.() ?? os.cpus().length;
const sizes = process.env.BENCH_SIZES ?? '256MiB,384MiB,512MiB,640MiB';
const args = [
  bin,
  'compare',
  path.join(here, 'compare.yaml'),
  ...['linux-5.8', 'linux-5.19', 'linux-6.18'].flatMap((k) => ['--kernel', k]),
  ...['x86', 'arm64'].flatMap((h) => ['--hardware', h]),
  '--var',
  `SIZE=${sizes}`,
  '--json',
];

function once(jobs) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...args, '--jobs', String(jobs)], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`mmsim compare --jobs ${jobs} exited ${r.status}: ${r.stderr}`);
  return { ms, out: r.stdout };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const serial = [];
const parallel = [];
let outSerial;
let outParallel;
for (let i = 0; i < repeat; i++) {
  const a = once(1);
  serial.push(a.ms);
  outSerial = a.out;
  const b = once(cores);
  parallel.push(b.ms);
  outParallel = b.out;
}
const configs = JSON.parse(outSerial).configs.length;
console.log(
  `mmsim compare bench: ${configs} configurations (3 kernels × 2 hardware × SIZE=${sizes}), ${repeat} repeats, ${cores} cores, node ${process.version}`,
);
const ms1 = median(serial);
const msN = median(parallel);
console.log(
  `--jobs 1        median ${(ms1 / 1000).toFixed(2)} s   (${serial.map((m) => (m / 1000).toFixed(2)).join(', ')})`,
);
console.log(
  `--jobs ${String(cores).padEnd(8)} median ${(msN / 1000).toFixed(2)} s   (${parallel.map((m) => (m / 1000).toFixed(2)).join(', ')})`,
);
console.log(`speed-up ${(ms1 / msN).toFixed(2)}x; same --json output: ${outSerial === outParallel ? 'yes' : 'NO'}`);
if (outSerial !== outParallel) process.exitCode = 1;
