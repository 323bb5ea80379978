/**
 * The fast paths of `mmsim check` (src/fast-paths.ts) change nothing a check reports: the same
 * fuzzing runs with every fast path off (the plain code) give the same whole result (runs,
 * steps, counters, findings, shrunk scenarios, decisions), only `ms` aside. Some of the
 * configurations find violations (linux-5.9's leak through swap-in, linux-5.7's pin bugs), so
 * shrinking and the written-out scenarios are compared too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { checkComposition, resolveComposition, type CheckOptions, type CheckResult } from '../src/index.js';
import { systemFor } from '../src/fuzz/reuse.js';
import { FAST, restoreFastPaths, setFastPaths } from '../src/fast-paths.js';

const PINS = { spawn: 1, mmap: 2, write: 6, read: 1, fork: 3, exit: 2, munmap: 1, madvise: 1, pageout: 3, pin: 3 };

const CASES: Array<[string, Partial<CheckOptions>]> = [
  ['linux-6.18 on flat, seed 1', { kernel: 'linux-6.18', hardware: 'flat', seed: 1, runs: 150 }],
  ['linux-6.18 on strict, seed 2', { kernel: 'linux-6.18', seed: 2, runs: 100 }],
  ['linux-5.9 on flat, seed 1 (finds a violation)', { kernel: 'linux-5.9', hardware: 'flat', seed: 1, runs: 300 }],
  [
    'linux-5.9, pin mix, two findings',
    { kernel: 'linux-5.9', seed: 3, runs: 300, maxSteps: 50, weights: PINS, maxViolations: 2 },
  ],
  ['linux-5.7 on strict, seed 3 (finds violations)', { kernel: 'linux-5.7', seed: 3, runs: 80, maxViolations: 2 }],
  ['linux-6.18+cowpte, seed 4', { kernel: 'linux-6.18+cowpte', seed: 4, runs: 60 }],
  ['linux-6.18 with PMD-sized THPs, seed 6', { kernel: 'linux-6.18', hardware: 'flat', thp: true, seed: 6, runs: 150 }],
  ['linux-6.18 with a demo policy', { kernel: 'linux-6.18', policies: ['unsafe-large-cow'], seed: 5, runs: 80 }],
];

/** The result without its timing. */
function whole(r: CheckResult): Omit<CheckResult, 'ms'> {
  const { ms: _ms, ...rest } = r;
  return rest;
}

function run(o: Partial<CheckOptions>, fast: boolean): Omit<CheckResult, 'ms'> {
  const prev = setFastPaths(fast);
  try {
    return whole(checkComposition({ kernel: 'linux-6.18', runs: 100, seed: 1, maxSteps: 40, ...o }));
  } finally {
    restoreFastPaths(prev);
  }
}

describe('fast paths: the same results as the plain code', () => {
  const found: string[] = [];
  afterEach(() => setFastPaths(true));

  it('are on by default', () => {
    expect(Object.values(FAST).every((on) => on)).toBe(true);
  });

  for (const [name, o] of CASES) {
    it(name, () => {
      const plain = run(o, false);
      const fast = run(o, true);
      expect(fast).toEqual(plain);
      // byte for byte, key order included
      expect(JSON.stringify(fast)).toBe(JSON.stringify(plain));
      if (fast.violations.length > 0 && fast.shrinkRuns > 0) found.push(name);
    });
  }

  it('reuses a system where its plugins and hardware are known to keep no state, and only there', () => {
    const v = { largeFolios: true, swapSync: false, smallBatches: false };
    const reused = (o: Parameters<typeof resolveComposition>[0]) => {
      const c = resolveComposition(o);
      const first = systemFor(c, v, null);
      const second = systemFor(c, v, null);
      return first === second;
    };
    expect(reused({ kernel: 'linux-6.18', hardware: 'flat' })).toBe(true);
    expect(reused({ kernel: 'linux-5.9' })).toBe(true);
    // policy-cowpte's plugin, an extra policy: composed for every run
    expect(reused({ kernel: 'linux-6.18+cowpte' })).toBe(false);
    expect(reused({ kernel: 'linux-6.18', policies: ['no-flush-cow'] })).toBe(false);
    const prev = setFastPaths(false);
    try {
      expect(reused({ kernel: 'linux-6.18', hardware: 'flat' })).toBe(false);
    } finally {
      restoreFastPaths(prev);
    }
  });

  it('the configurations exercise findings and shrinking', () => {
    expect(found).toContain(CASES[2]![0]);
    expect(found.length).toBeGreaterThanOrEqual(2);
  });
});
