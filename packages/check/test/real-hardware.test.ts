/**
 * The current presets under the real hardware models with their TLB coherence checks on: no
 * stale translation (a missing flush) and no broken invariant within the budget.
 */
import { describe, expect, it } from 'vitest';
import { createHardware as x86 } from '@mmsim/hw-x86';
import { createHardware as arm64 } from '@mmsim/hw-arm64';
import { checkComposition, formatCheckResult, type HardwareChoice } from '../src/index.js';

const HW: HardwareChoice[] = [
  { name: 'x86', ref: '@mmsim/hw-x86', options: { coherenceCheck: true }, create: (o) => x86(o) },
  { name: 'arm64', ref: '@mmsim/hw-arm64', options: { coherenceCheck: true }, create: (o) => arm64(o) },
];

describe('current presets on hw-x86 and hw-arm64 with coherence checking', () => {
  for (const hardware of HW) {
    for (const kernel of ['linux-5.19', 'linux-6.18', 'linux-6.18+cowpte']) {
      it(`${kernel} on ${hardware.name}: 300 runs`, () => {
        const r = checkComposition({ kernel, hardware, runs: 300, seed: 99, maxSteps: 40 });
        if (r.violations.length > 0)
          throw new Error(formatCheckResult(r) + '\n' + JSON.stringify(r.violations[0]!.scenario.steps));
        expect(r.runs).toBe(300);
        expect(r.counters.tlb_miss).toBeGreaterThan(100);
      });
    }
  }
});
