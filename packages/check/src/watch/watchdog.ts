/**
 * The tap watchdog of `mmsim check`: a worker thread that polls the shared flags TapWatch
 * writes (which tap is running, how many tap calls so far). When the same call of one tap has
 * been running for the budget, it records the tap and sends SIGINT to this process, which
 * breaks the run (control.ts runs every fuzzing run in a vm context with breakOnSigint). The
 * main thread could not see a tap that never returns: it is the thread stuck in it.
 */
import { Worker } from 'node:worker_threads';
import { SLOT, SLOTS } from './taps.js';

const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const { flags, budget, poll, S } = workerData;
let id = 0, calls = -1, since = 0;
setInterval(() => {
  const now = Date.now();
  const i = Atomics.load(flags, S.running), c = Atomics.load(flags, S.calls);
  if (i === 0 || i !== id || c !== calls) { id = i; calls = c; since = now; return; }
  if (now - since >= budget && Atomics.load(flags, S.firedTap) === 0) {
    Atomics.store(flags, S.firedMs, now - since);
    Atomics.store(flags, S.firedTap, i);
    process.kill(process.pid, 'SIGINT');
  }
}, poll);
`;

export interface Watchdog {
  readonly flags: Int32Array;
  /** the tap id (TapWatch.taps) that overran its budget, or -1 */
  fired(): number;
  close(): Promise<void>;
}

export function startWatchdog(budgetMs: number): Watchdog {
  const flags = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  const poll = Math.max(5, Math.min(50, Math.floor(budgetMs / 4)));
  const w = new Worker(WATCHDOG, { eval: true, workerData: { flags, budget: budgetMs, poll, S: SLOT } });
  w.unref();
  return {
    flags,
    fired: () => Atomics.load(flags, SLOT.firedTap) - 1,
    close: async () => {
      await w.terminate();
    },
  };
}
