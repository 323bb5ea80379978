/**
 * CI budget: every current preset (all but the deliberately historical ones) survives a
 * bounded fuzzing run on the strict TLB, with and without large folios.
 */
import { describe, expect, it } from 'vitest';
import { presetNames } from '@mmsim/presets';
import { checkComposition, formatCheckResult, isHistorical } from '../src/index.js';

const RUNS = 1500;

describe('current presets keep every invariant and the reference model', () => {
  const current = presetNames().filter((k) => !isHistorical(k));
  it('there are current presets to check', () => {
    expect(current).toEqual(expect.arrayContaining(['linux-5.19', 'linux-6.8', 'linux-6.18']));
  });
  for (const kernel of current) {
    it(`${kernel} with PMD-sized THPs: 600 runs`, () => {
      const r = checkComposition({ kernel, thp: true, runs: 600, seed: 77, maxSteps: 40 });
      if (r.violations.length > 0)
        throw new Error(formatCheckResult(r) + '\n' + JSON.stringify(r.violations[0]!.scenario.steps));
      expect(r.counters.thp_fault_alloc).toBeGreaterThan(20);
    });
    it(`${kernel}: ${RUNS} runs`, () => {
      const r = checkComposition({ kernel, runs: RUNS, seed: 20251123, maxSteps: 40 });
      if (r.violations.length > 0)
        throw new Error(formatCheckResult(r) + '\n' + JSON.stringify(r.violations[0]!.scenario.steps));
      expect(r.runs).toBe(RUNS);
      expect(r.steps).toBeGreaterThan(RUNS * 5);
      if (kernel.includes('cowpte')) {
        // the fuzzer really shared and broke page tables (whole-table regions are on)
        expect(r.counters.cow_pte_share).toBeGreaterThan(50);
        expect(r.counters.cow_pte_break).toBeGreaterThan(10);
      }
    });
  }
});
