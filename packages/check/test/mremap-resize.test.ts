/**
 * The mremap resize intents (newSize: shrink, grow in place, grow with MREMAP_MAYMOVE) and the
 * maps step, off by default (weight 0), keep every invariant and the reference model when on.
 */
import { describe, expect, it } from 'vitest';
import { checkComposition, DEFAULT_WEIGHTS, formatCheckResult } from '../src/index.js';

describe('mremap resize and maps intents', () => {
  for (const kernel of ['linux-5.19', 'linux-6.18']) {
    it(`${kernel}: 400 runs with mremapResize and maps weighted in`, () => {
      // the plain mremap off: every move counted comes from a resize
      const weights = { ...DEFAULT_WEIGHTS, mremap: 0, mremapResize: 6, maps: 1 };
      const r = checkComposition({ kernel, runs: 400, seed: 4242, maxSteps: 40, weights });
      if (r.violations.length > 0)
        throw new Error(`${formatCheckResult(r)}\n${JSON.stringify(r.violations[0]!.scenario.steps)}`);
      expect(r.runs).toBe(400);
      // the resizes moved pages (grow with MREMAP_MAYMOVE) as well as shrinking and growing in place
      expect(r.counters.mremap_pte_move).toBeGreaterThan(20);
    });
  }
});
