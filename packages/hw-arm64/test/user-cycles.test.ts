import { describe, expect, it } from 'vitest';
import { createSystem, runScenario, ScenarioSchema } from '@mmsim/core';
import { createHardware, PROFILES } from '../src/index.js';

// user cycles on arm64: a TLB hit costs memAccess, an L1 miss that hits the L2 TLB adds
// tlbL2Hit, a fill (the walk after a miss) costs memAccess + tlbL2Hit + walkLevel per level
// (4 levels with 4 KiB granules); `compute` adds its cycles. Everything else is kernel.
function runIt(profile: string, steps: unknown[], opts: Record<string, unknown> = {}) {
  const hw = createHardware({ cpus: 1, profile: profile as 'neoverse-n1', ...opts });
  const sys = createSystem({ hardware: hw });
  return runScenario(sys, ScenarioSchema.parse({ name: 'user-cycles', steps }));
}

const basic = [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'b', size: '64KiB' },
  { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'fill' },
  { op: 'touch', pid: 'p', region: 'b', access: 'read', phase: 'hit' },
  { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'hit' },
  { op: 'compute', pid: 'p', cycles: 1000000, phase: 'compute' },
];

describe('user cycles on arm64, per profile', () => {
  for (const name of Object.keys(PROFILES)) {
    const c = PROFILES[name]!.costs;
    it(`${name}: 16 fills, 32 L1 hits, a compute step`, () => {
      const r = runIt(name, basic);
      const fill = r.phases.fill!;
      expect(fill.counters.page_walk).toBe(16);
      expect(fill.userCycles).toBe(16 * (c.memAccess + c.tlbL2Hit + 4 * c.walkLevel));
      expect(fill.kernelCycles).toBe(fill.cycles - fill.userCycles);
      expect(fill.kernelCycles).toBeGreaterThanOrEqual(16 * (c.faultEntry + c.zeroPage));
      const hit = r.phases.hit!;
      expect(hit.counters.tlb_l1_miss ?? 0).toBe(0);
      expect(hit).toMatchObject({ userCycles: 32 * c.memAccess, kernelCycles: 0, cycles: 32 * c.memAccess });
      expect(r.phases.compute).toMatchObject({ userCycles: 1000000, kernelCycles: 0 });
      expect(r.total.userCycles + r.total.kernelCycles).toBe(r.total.cycles);
    });
  }

  // 64 pages, more than Neoverse N1's 48-entry L1 TLB: without contpte each re-read misses the
  // L1 and hits the L2 (tlbL2Hit more); with 64 KiB folios and contpte 4 entries cover them
  for (const contpte of [false, true]) {
    it(`neoverse-n1, 64 KiB folios, contpte ${contpte ? 'on' : 'off'}: re-reads cost what the TLB counters say`, () => {
      const hw = createHardware({ cpus: 1, profile: 'neoverse-n1', contpte });
      const sys = createSystem({ hardware: hw });
      sys.hooks.fault.anonOrders.tap('test-orders', () => 1 << 4);
      const r = runScenario(
        sys,
        ScenarioSchema.parse({
          name: 'contpte-user',
          steps: [
            { op: 'spawn', pid: 'p', cpu: 0 },
            { op: 'mmap', pid: 'p', name: 'b', size: '256KiB', align: '64KiB' },
            { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'fill' },
            {
              op: 'repeat',
              times: 3,
              phase: 'reread',
              steps: [{ op: 'touch', pid: 'p', region: 'b', access: 'read' }],
            },
          ],
        }),
      );
      const c = PROFILES['neoverse-n1']!.costs;
      const rr = r.phases.reread!;
      const l1miss = rr.counters.tlb_l1_miss ?? 0;
      const miss = rr.counters.tlb_miss ?? 0;
      const walks = rr.counters.page_walk ?? 0;
      expect(miss).toBe(walks);
      expect(rr.userCycles).toBe(
        (192 - miss) * c.memAccess +
          (l1miss - miss) * c.tlbL2Hit +
          walks * (c.memAccess + c.tlbL2Hit + 4 * c.walkLevel),
      );
      expect(rr.kernelCycles).toBe(0);
      if (contpte)
        expect(rr.userCycles).toBe(192 * c.memAccess); // 4 contpte entries: every access hits the L1
      else expect(rr.userCycles).toBeGreaterThan(192 * c.memAccess);
    });
  }
});
