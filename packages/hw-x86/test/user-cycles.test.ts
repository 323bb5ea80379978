import { describe, expect, it } from 'vitest';
import { createSystem, runScenario, ScenarioSchema } from '@mmsim/core';
import { createHardware, PROFILES } from '../src/index.js';

// user cycles on x86: an L1 dTLB hit costs memAccess, an STLB hit adds stlbHit, a walk costs
// memAccess + walkLevel per level walked (page_walk_level; the paging-structure caches skip
// levels); `compute` adds its cycles. Everything else is kernel.
const steps = [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'b', size: '64KiB' },
  { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'fill' },
  { op: 'touch', pid: 'p', region: 'b', access: 'read', phase: 'hit' },
  { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'hit' },
  { op: 'compute', pid: 'p', cycles: 1000000, phase: 'compute' },
];

describe('user cycles on x86, per profile', () => {
  for (const name of Object.keys(PROFILES)) {
    const c = PROFILES[name as keyof typeof PROFILES];
    it(`${name}: 16 walks, 32 L1 hits, a compute step`, () => {
      const sys = createSystem({ hardware: createHardware({ cpus: 1, profile: name as 'bare-metal' }) });
      const r = runScenario(sys, ScenarioSchema.parse({ name: 'user-cycles', steps }));
      const fill = r.phases.fill!;
      expect(fill.counters.page_walk).toBe(16);
      const levels = fill.counters.page_walk_level!;
      expect(levels).toBeGreaterThanOrEqual(16);
      expect(fill.userCycles).toBe(16 * c.memAccess + levels * c.walkLevel);
      expect(fill.kernelCycles).toBe(fill.cycles - fill.userCycles);
      expect(fill.kernelCycles).toBeGreaterThanOrEqual(16 * (c.faultEntry + c.zeroPage));
      const hit = r.phases.hit!;
      expect(hit.counters.stlb_hit ?? 0).toBe(0);
      expect(hit).toMatchObject({ userCycles: 32 * c.memAccess, kernelCycles: 0, cycles: 32 * c.memAccess });
      expect(r.phases.compute).toMatchObject({ userCycles: 1000000, kernelCycles: 0 });
      expect(r.total.userCycles + r.total.kernelCycles).toBe(r.total.cycles);
    });
  }
});
