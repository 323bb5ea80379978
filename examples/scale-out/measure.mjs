#!/usr/bin/env node
// The README's "Running on several machines" table: one 48-configuration `mmsim compare`
// (examples/cowpte/fork-size.yaml, 6 kernels × 8 sizes) run locally and over a Redis queue with
// 1 and then 2 `mmsim worker` processes on this machine. Wall time of the producer, median of
// REPS runs (min – max), and whether the --json document is the local one byte for byte.
//   node examples/scale-out/measure.mjs [REPS]   (after pnpm build; needs redis-server)
// It starts its own redis-server on a free loopback port with a password, and stops it after.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceMarked } from '../readme-markers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const reps = Number(process.argv[2] ?? 3);

const KERNELS = ['linux-5.8', 'linux-5.9', 'linux-5.18', 'linux-5.19', 'linux-6.8', 'linux-6.18'];
const SIZES = ['1GiB', '2GiB', '3GiB', '4GiB', '5GiB', '6GiB', '7GiB', '8GiB'];
const ARGS = [
  'compare',
  'examples/cowpte/fork-size.yaml',
  '--var',
  `SIZE=${SIZES.join(',')}`,
  ...KERNELS.flatMap((k) => ['--kernel', k]),
  '--json',
];

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const port = await freePort();
const password = randomBytes(12).toString('hex');
const redis = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', password, '--save', '', '--appendonly', 'no'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
await new Promise((resolve, reject) => {
  let out = '';
  redis.stdout.on('data', (b) => {
    out += b;
    if (out.includes('Ready to accept connections')) resolve();
  });
  redis.once('exit', (c) => reject(new Error(`redis-server exited ${c}`)));
});
const url = `redis://:${password}@127.0.0.1:${port}`;
const flush = () => spawnSync('redis-cli', ['-p', String(port), '--no-auth-warning', '-a', password, 'flushall']);

/** one producer run: [seconds, stdout] */
function timed(extra) {
  const t0 = process.hrtime.bigint();
  const out = execFileSync('node', [bin, ...ARGS, ...extra], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 30 });
  return [Number(process.hrtime.bigint() - t0) / 1e9, out];
}

function startWorkers(n) {
  return Array.from({ length: n }, () =>
    spawn('node', [bin, 'worker', '--queue', url], { cwd: root, stdio: ['ignore', 'ignore', 'ignore'] }),
  );
}
const stopWorkers = (ws) =>
  Promise.all(
    ws.map(
      (w) =>
        new Promise((resolve) => {
          w.once('exit', resolve);
          w.kill('SIGTERM');
        }),
    ),
  );

const rows = [];
let reference;
try {
  for (const [what, extra, workers] of [
    ['local, `--jobs 1`', ['--jobs', '1'], 0],
    ['local, `--jobs 2`', ['--jobs', '2'], 0],
    ['`--queue`, 1 worker', ['--queue', url], 1],
    ['`--queue`, 2 workers', ['--queue', url], 2],
  ]) {
    const ws = startWorkers(workers);
    // the workers connect (and the first job starts their job processes) inside the first run
    const times = [];
    let same = true;
    for (let i = 0; i < reps; i++) {
      flush();
      const [s, out] = timed(extra);
      reference ??= out;
      same &&= out === reference;
      times.push(s);
      console.error(`${what}: ${s.toFixed(2)} s`);
    }
    await stopWorkers(ws);
    times.sort((a, b) => a - b);
    rows.push({ what, median: times[Math.floor(times.length / 2)], min: times[0], max: times.at(-1), same });
  }
} finally {
  redis.kill('SIGTERM');
}

const configs = JSON.parse(reference).configs.length;
const base = rows.find((r) => r.what.includes('1 worker')).median;
const f = (s) => s.toFixed(1);
const table = [
  `Measured by \`node examples/scale-out/measure.mjs ${reps}\`: \`mmsim ${ARGS.join(' ')}\` (${configs} configurations), ` +
    `this machine (${os.cpus().length} CPUs, ${os.cpus()[0]?.model.trim()}), redis-server on loopback; ` +
    `median of ${reps} runs of the producer (min – max).`,
  '',
  '| runs on | wall time s | speed-up over 1 worker | `--json` = local |',
  '| --- | ---: | ---: | :---: |',
  ...rows.map(
    (r) =>
      `| ${r.what} | ${f(r.median)} (${f(r.min)} – ${f(r.max)}) | ${(base / r.median).toFixed(2)}× | ${r.same ? 'yes' : 'NO'} |`,
  ),
].join('\n');
console.log(table);

replaceMarked(join(root, 'README.md'), 'scale-out', table, 'README.md');
