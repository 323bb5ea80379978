/**
 * Stopping `mmsim check` (CheckControl): SIGINT / SIGTERM set a flag that the fuzzing loop
 * checks before every run; every run goes through a vm script with breakOnSigint, so SIGINT
 * (from a terminal, or from the watchdog when a tap overruns its budget) also breaks a run
 * that is busy. SIGTERM is seen between runs (a run is a few ms; a stuck tap is broken off by
 * the watchdog after its budget).
 */
import vm from 'node:vm';
import { isMainThread } from 'node:worker_threads';
import type { CheckControl } from '../check.js';
import { TapWatch } from './taps.js';
import type { Watchdog } from './watchdog.js';

export interface SignalControl extends CheckControl {
  readonly taps: TapWatch;
  /** the signal that stopped the check (undefined: none, or the watchdog) */
  signal(): string | undefined;
  /** remove the signal handlers */
  close(): void;
}

export function signalControl(watchdog?: Watchdog): SignalControl {
  const taps = new TapWatch(watchdog?.flags);
  let signal: string | undefined;
  let broken = false;
  const onSignal = (sig: string) => () => {
    // the watchdog's own SIGINT can land just after the tap returned
    if (!(watchdog && watchdog.fired() >= 0)) signal ??= sig;
    broken = true;
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const ctx = vm.createContext({ run: null as null | (() => unknown) });
  const script = new vm.Script('run()');
  return {
    taps,
    stopped: () => broken || (watchdog !== undefined && watchdog.fired() >= 0),
    guard<T>(run: () => T): T {
      if (!isMainThread) return run(); // a worker (tests) gets no signals; breakOnSigint is the process's
      (ctx as { run: unknown }).run = run;
      try {
        return script.runInContext(ctx, { breakOnSigint: true }) as T;
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') {
          if (!(watchdog && watchdog.fired() >= 0)) signal ??= 'SIGINT';
          broken = true;
        }
        throw e;
      } finally {
        (ctx as { run: unknown }).run = null;
      }
    },
    signal: () => signal,
    close() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
