/** The `migrate` intent (mbind MPOL_MF_MOVE): invariants and the reference model hold around it. */
import { describe, expect, it } from 'vitest';
import { checkComposition, DEFAULT_WEIGHTS } from '../src/index.js';

describe('migrate in the fuzzer (weighted in by hand)', () => {
  for (const [kernel, thp] of [
    ['linux-6.18', false],
    ['linux-6.18', true],
    ['linux-5.19', false],
  ] as const)
    it(`${kernel}${thp ? ' with PMD-sized THPs' : ''}: no violation with migrations among the other ops`, () => {
      const r = checkComposition({
        kernel,
        hardware: 'flat',
        thp,
        seed: 7,
        runs: 60,
        maxSteps: 40,
        weights: { ...DEFAULT_WEIGHTS, migrate: 6 },
      });
      expect(r.violations).toEqual([]);
      expect(r.counters.pgmigrate_success ?? 0).toBeGreaterThan(0);
    });
});
