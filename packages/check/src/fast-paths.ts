/**
 * Internal switches of `mmsim check`'s fast paths, each equivalent to the plain code it stands
 * in for. On by default; test/fast-paths.test.ts turns them off to run the same fuzzing runs the
 * plain way and compares the whole results. Not part of the package's API (not exported).
 */
export const FAST = {
  /** census.ts: skip empty page-table entries four at a time */
  censusQuads: true,
  /** @mmsim/core (di/instrument.ts): hooks of every system share tapable's compiled `call` code */
  sharedHookCode: true,
  /** fuzz/reuse.ts: a run resets the composition's system of the previous run instead of composing one */
  reuseSystems: true,
};

export type FastPaths = typeof FAST;

/** core's switch (a global symbol, so that no API carries it) */
const UNSHARED = Symbol.for('mmsim.internal.unsharedHookCode');

function apply(): void {
  (globalThis as Record<symbol, unknown>)[UNSHARED] = FAST.sharedHookCode ? undefined : true;
}

/** Turn every fast path on or off; returns the previous settings. */
export function setFastPaths(on: boolean): FastPaths {
  const prev = { ...FAST };
  for (const k of Object.keys(FAST) as Array<keyof FastPaths>) FAST[k] = on;
  apply();
  return prev;
}

/** Restore settings returned by setFastPaths(). */
export function restoreFastPaths(prev: FastPaths): void {
  Object.assign(FAST, prev);
  apply();
}
