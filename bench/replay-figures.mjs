// `mmsim replay` figures of bench/run.mjs: the replay rate of the built CLI on the trace of
// bench/replay-trace.mjs (page accesses per second) and the trace decode rates of
// bench/trace-decode.mjs, in the same table.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BIN } from './cli-figures.mjs';
import { writeReplayTrace } from './replay-trace.mjs';

export const REPLAY_ACCESSES = 1_000_000;

/** a temporary directory with the replay trace: { file, accesses, records, dispose() } */
export async function replayTrace(accesses = REPLAY_ACCESSES) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-replay-bench-'));
  const file = path.join(dir, 'replay.mmtrace');
  const t = await writeReplayTrace(file, accesses);
  return { file, ...t, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** one `mmsim replay FILE --json` (a fresh process): wall ms and the run's total pgfault */
export function replaySample(file, bin = BIN) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, 'replay', file, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`mmsim replay ${file} exited ${r.status}: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  return { ms, faults: out.total.counters.pgfault ?? 0 };
}
