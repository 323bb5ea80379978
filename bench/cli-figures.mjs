// The built CLI's figures: `mmsim run` start time of bench/tiny.yaml (two steps: what it costs
// is module loading and the worker) and `mmsim check` steps per second on one small composition.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BIN = path.resolve(here, '../packages/cli/dist/bin.js');
export const TINY = path.join(here, 'tiny.yaml');

function mmsim(args, bin = BIN) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`mmsim ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, out: r.stdout };
}

/** wall ms of `mmsim run bench/tiny.yaml --json`, one sample (`bin`: another checkout's CLI) */
export function startSample(bin = BIN) {
  return mmsim(['run', TINY, '--json'], bin).ms;
}

export const CHECK_ARGS = ['check', '--kernel', 'linux-6.18', '--hardware', 'flat', '--runs', '100', '--seed', '1'];

/** one `mmsim check` sample: leaf steps, steps/s of the check itself (its own ms) and of the whole process */
export function checkSample(bin = BIN) {
  const { ms, out } = mmsim([...CHECK_ARGS, '--json'], bin);
  const results = JSON.parse(out);
  const steps = results.reduce((a, r) => a + r.steps, 0);
  const checkMs = results.reduce((a, r) => a + r.ms, 0);
  return { steps, perSecond: (steps / checkMs) * 1000, perSecondWall: (steps / ms) * 1000, wallMs: ms };
}
