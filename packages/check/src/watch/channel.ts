/**
 * `mmsim check` in a worker thread (the CLI's bin.ts): the main thread keeps signals and the tap
 * watchdog (supervise.ts), this side reports to it. Why: a thread busy in a fuzzing run, or
 * stuck in a policy's tap, runs no signal handler, and breaking it with vm's breakOnSigint once
 * per run left windows in which SIGINT killed the process or was lost (issue 14). Here nothing
 * is broken: the runs poll the stop flag, and a thread that does not stop is terminated by the
 * main thread, which prints what this side last reported.
 */
import type { CheckResult } from '../check.js';
import { SLOT, TapWatch } from './taps.js';

/** What the worker tells the main thread, in order, on one port. */
export type CheckMessage =
  | { t: 'stdout'; s: string }
  /** the composition being checked, after its latest run */
  | { t: 'progress'; r: CheckResult }
  /** a composition's result as the worker printed it */
  | { t: 'done'; r: CheckResult }
  | { t: 'tap'; id: number; plugin: string; hook: string }
  | { t: 'op'; id: number; op: string };

/** The worker's end: the shared flags (watch/taps.ts SLOT) and the port to the main thread. */
export interface CheckChannel {
  readonly flags: Int32Array;
  post(m: CheckMessage): void;
}

/** The longest a progress report waits (ms). */
export const PROGRESS_MS = 25;

/** The CheckControl of a check in a worker: stops when the main thread sets the flag. */
export function channelControl(ch: CheckChannel, budgetMs: number) {
  Atomics.store(ch.flags, SLOT.budget, budgetMs);
  const taps = new TapWatch(ch.flags, {
    tap: (id, plugin, hook) => ch.post({ t: 'tap', id, plugin, hook }),
    op: (id, op) => ch.post({ t: 'op', id, op }),
  });
  let lastPost = Number.NEGATIVE_INFINITY;
  let lastViolations = 0;
  return {
    taps,
    stopped: () => Atomics.load(ch.flags, SLOT.stop) !== 0,
    guard: <T>(run: () => T): T => run(),
    // at most every PROGRESS_MS (a post clones the whole result: once per run it cost ~5% of a
    // check), and at once when a violation is new; a terminated worker's report is that old
    progress: (r: Readonly<CheckResult>) => {
      const now = performance.now();
      if (now - lastPost < PROGRESS_MS && r.violations.length === lastViolations) return;
      lastPost = now;
      lastViolations = r.violations.length;
      ch.post({ t: 'progress', r: r as CheckResult });
    },
    signal: (): string | undefined => (Atomics.load(ch.flags, SLOT.stop) !== 0 ? 'signal' : undefined),
    close() {},
  };
}
