/**
 * COW PTE tables composed with every current preset keep the §6 semantics and every invariant
 * (issue: policy-cowpte). Whole-table regions are on, and the runs must really share and break
 * tables for the check to mean anything.
 */
import { describe, expect, it } from 'vitest';
import { presetNames } from '@mmsim/presets';
import cowPte from '@mmsim/policy-cowpte';
import { checkComposition, formatCheckResult, isHistorical } from '../src/index.js';

const RUNS = 600;

describe('policy-cowpte composed with each current preset', () => {
  const kernels = presetNames().filter((k) => !isHistorical(k) && !k.includes('cowpte'));
  for (const kernel of kernels) {
    it(`${kernel} + @mmsim/policy-cowpte: ${RUNS} runs`, () => {
      const r = checkComposition({
        kernel,
        policies: [{ ref: '@mmsim/policy-cowpte', create: () => cowPte() }],
        tableRegions: true,
        runs: RUNS,
        seed: 4242,
        maxSteps: 40,
      });
      if (r.violations.length > 0)
        throw new Error(formatCheckResult(r) + '\n' + JSON.stringify(r.violations[0]!.scenario.steps));
      expect(r.counters.cow_pte_share).toBeGreaterThan(10);
      expect(r.counters.cow_pte_break).toBeGreaterThan(5);
    });
  }
});
