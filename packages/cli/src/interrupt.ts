/**
 * Interruption of `mmsim run`. The run loop is synchronous, so a signal handler on the thread
 * that runs it never fires: bin.ts runs the CLI in a worker thread (run-worker.ts) and keeps
 * the main thread free to see SIGINT / SIGTERM; it sets a flag in shared memory that the
 * runner polls between leaf steps (RunOptions.shouldStop).
 */
let flag: Int32Array | undefined;

/** Called by the worker entry with the shared flag (index 0: nonzero once interrupted). */
export function setInterruptFlag(f: Int32Array): void {
  flag = f;
}

/** The runner's shouldStop, or undefined when nothing can interrupt (library use, tests). */
export function interruptCheck(): (() => boolean) | undefined {
  const f = flag;
  return f ? () => Atomics.load(f, 0) !== 0 : undefined;
}
