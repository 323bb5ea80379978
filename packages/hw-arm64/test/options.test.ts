import { describe, expect, it } from 'vitest';
import {
  createSystem,
  runScenario,
  ScenarioSchema,
  type HardwareFactoryOptions,
  type HardwareModel,
} from '@mmsim/core';

type HardwareFactory = (options?: HardwareFactoryOptions) => HardwareModel;
import { createHardware, PLUGIN_NAME, PROFILES, Arm64Hardware, GRANULES } from '../src/index.js';
import { region, rig, touch, delta } from './helpers.js';

describe('createHardware', () => {
  it('is a HardwareFactory returning an arm64 model', () => {
    const f: HardwareFactory = createHardware;
    const hw = f({ cpus: 4 });
    expect(hw).toBeInstanceOf(Arm64Hardware);
    expect(hw.name).toBe('arm64');
    expect(PLUGIN_NAME).toBe('arm64');
    expect(hw.ncpus).toBe(4);
    expect(createHardware().ncpus).toBe(80);
    expect(createHardware({ profile: 'phone' }).ncpus).toBe(8);
  });

  it('rejects bad options', () => {
    expect(() => createHardware({ hpa: 3 })).toThrow(/power of two/);
    expect(() => createHardware({ granule: '8K' as never })).toThrow(/granule/);
    expect(() => createHardware({ bogus: 1 } as never)).toThrow(/unknown option/);
    expect(() => createHardware({ profile: 'nope' as never })).toThrow(/unknown arm64 profile/);
    expect(() => createHardware({ cpus: 8, asidBits: 3 })).toThrow(/ASIDs cannot serve/);
    expect(() => createHardware({ l2Entries: 10, l2Ways: 4 })).toThrow(/multiple/);
  });

  it('profiles and custom profiles', () => {
    expect(Object.keys(PROFILES).sort()).toEqual(['apple-m2-vm', 'neoverse-n1', 'phone']);
    const hw = createHardware({ cpus: 2, profile: { base: 'phone', costs: { walkLevel: 99 } } });
    expect(hw.costs.walkLevel).toBe(99);
    expect(hw.costs.copyPage).toBe(PROFILES.phone!.costs.copyPage);
    for (const p of Object.values(PROFILES)) {
      expect(p.costs.ipiSend).toBe(0);
      expect(p.geometry.l2Entries % p.geometry.l2Ways).toBe(0);
    }
  });

  it('granules: 16K/64K coalesce granule-sized groups and fold 2 MiB blocks', () => {
    expect(GRANULES['16K'].contPages).toBe(512);
    expect(GRANULES['64K'].contPages).toBe(512);
    const r = rig({ granule: '16K', l2Entries: 64, l2Ways: 4, l1Entries: 16, l1Ways: 16 }, 4);
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 512);
    touch(r, p, vma.start, 512, true);
    const d = delta(r, ['tlb_miss', 'tlb_fill_coalesced'], () => touch(r, p, vma.start, 512, false, 2));
    expect(d.tlb_fill_coalesced).toBe(d.tlb_miss);
    expect(d.tlb_miss).toBe((512 / 4) * 2);
    expect(r.sys.stats.get('contpte_fold')).toBe(0); // 64 KiB folios cannot fill a 2 MiB block
  });

  it('runs a scenario: fork + CoW on 64 KiB folios, arm64 counters, no IPIs', () => {
    const hw = createHardware({ cpus: 4, coherenceCheck: true });
    const sys = createSystem({ hardware: hw });
    sys.hooks.fault.anonOrders.tap('test', () => 1 << 4);
    const res = runScenario(
      sys,
      ScenarioSchema.parse({
        name: 'arm64-fork-cow',
        steps: [
          { op: 'spawn', pid: 'p', cpu: 0 },
          { op: 'mmap', pid: 'p', name: 'buf', size: '1MiB', align: '2MiB' },
          { op: 'touch', pid: 'p', region: 'buf', access: 'write', value: 1 },
          { op: 'fork', pid: 'p', child: 'c' },
          { op: 'phase', name: 'cow' },
          { op: 'touch', pid: 'c', region: 'buf', access: 'write', stride: '64KiB', value: 2 },
          { op: 'touch', pid: 'p', region: 'buf', access: 'read' },
          { op: 'access', pid: 'p', region: 'buf', access: 'read', expect: 1 },
          { op: 'access', pid: 'c', region: 'buf', access: 'read', expect: 2 },
        ],
      }),
    );
    expect(res.checks.failed).toBe(0);
    const c = res.phases.cow!.counters;
    expect(c.contpte_unfold).toBe(16); // one per block the child wrote to
    expect(c.cow_copy).toBe(16);
    expect(c.ipi_sent ?? 0).toBe(0);
    expect(c.tlbi_broadcast).toBeGreaterThan(0);
    expect(res.total.counters.contpte_fold).toBe(16); // the child inherits PTE_CONT with its PTEs
    expect(res.total.counters.tlb_miss).toBeGreaterThan(0);
  });
});
