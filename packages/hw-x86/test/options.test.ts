import { describe, expect, test } from 'vitest';
import { createSystem, mmapAnon, userAccess, type MmPlugin } from '@mmsim/core';
import {
  BARE_METAL,
  createHardware,
  KVM_GUEST,
  PLUGIN_NAME,
  X86Hardware,
  TLB_NR_DYN_ASIDS,
  TLB_SINGLE_PAGE_FLUSH_CEILING,
} from '../src/index.js';

describe('createHardware', () => {
  test('defaults, exports and the HardwareModel shape', () => {
    const hw = createHardware();
    expect(hw).toBeInstanceOf(X86Hardware);
    expect(hw.name).toBe('x86');
    expect(hw.ncpus).toBe(2);
    expect(hw.costs).toEqual(BARE_METAL);
    expect(PLUGIN_NAME).toBe('@mmsim/hw-x86');
    expect(TLB_NR_DYN_ASIDS).toBe(6);
    expect(TLB_SINGLE_PAGE_FLUSH_CEILING).toBe(33);
  });

  test('profiles by name or as an object over bare-metal', () => {
    expect(createHardware({ profile: 'kvm-guest' }).costs).toEqual(KVM_GUEST);
    expect(KVM_GUEST.ipiSend).toBeGreaterThan(BARE_METAL.ipiSend);
    const hw = createHardware({ profile: { ipiSend: 42 } });
    expect(hw.costs.ipiSend).toBe(42);
    expect(hw.costs.faultEntry).toBe(BARE_METAL.faultEntry);
    expect(() => createHardware({ profile: 'vax' as never })).toThrow(/unknown x86 cost profile/);
    expect(() => createHardware({ profile: { nope: 1 } as never })).toThrow(/unknown cost/);
  });

  test('bad options are rejected', () => {
    expect(() => createHardware({ cpus: 0 })).toThrow(
      /option "cpus" must be an integer from 1 to 4096 \(NR_CPUS\), got 0/,
    );
    expect(() => createHardware({ pcid: 'yes' as never })).toThrow(/boolean/);
    expect(() => createHardware({ l1Entries: 60, l1Ways: 4 })).toThrow(/power of two/);
    expect(() => createHardware({ bogus: 1 } as never)).toThrow(/unknown x86 hardware option/);
  });

  test('describe() reports the TLB shape and reach', () => {
    const hw = createHardware({ cpus: 1 });
    createSystem({ hardware: hw });
    const d = hw.describe();
    expect(d.profile).toBe('bare-metal');
    expect((d.tlb as { reachBytes: number }).reachBytes).toBe(1024 * 4096 + 1024 * 2 * 1024 * 1024);
  });
});

describe('TLB hierarchy', () => {
  test('L1 capacity misses hit the STLB; beyond the STLB they walk', () => {
    const sys = createSystem({ hardware: createHardware({ cpus: 1 }) });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 512, 'buf');
    for (let i = 0; i < 512; i++) userAccess(k, p.main, vma.start + i, true, i);
    const walks = sys.stats.get('page_walk');
    for (let i = 0; i < 512; i++) userAccess(k, p.main, vma.start + i, false, 0);
    expect(sys.stats.get('page_walk')).toBe(walks); // 512 pages fit the 1024-entry STLB
    expect(sys.stats.get('stlb_hit')).toBeGreaterThanOrEqual(512 - 64);
  });

  test('a write through a clean (or read-only) entry re-walks to set the dirty bit', () => {
    const sys = createSystem({ hardware: createHardware({ cpus: 1 }) });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 1, 'buf');
    userAccess(k, p.main, vma.start, true, 1); // fault, walk, fill dirty+writable
    const miss = sys.stats.get('tlb_miss');
    userAccess(k, p.main, vma.start, true, 2);
    expect(sys.stats.get('tlb_miss')).toBe(miss); // dirty writable entry: a hit
  });

  test('paging-structure caches shorten walks; disabling them makes every walk 4 levels', () => {
    const run = (pagingStructureCache: boolean) => {
      const sys = createSystem({ hardware: createHardware({ cpus: 1, pagingStructureCache }) });
      const k = sys.kernel;
      const p = k.spawn('p', 0);
      const vma = mmapAnon(k, p.mm, 16, 'buf');
      for (let i = 0; i < 16; i++) userAccess(k, p.main, vma.start + i, true, i);
      return sys.stats.get('page_walk_level') / sys.stats.get('page_walk');
    };
    expect(run(false)).toBe(4);
    expect(run(true)).toBeLessThan(2);
  });

  test('AMD-style coalescing: an aligned contiguous order-2 folio fills one entry for 4 pages', () => {
    const order2: MmPlugin = {
      name: 'order2',
      api: '^1.0.0',
      apply: (s) => void s.hooks.fault.anonOrders.tap('order2', () => 0b101),
    };
    const sys = createSystem({ hardware: createHardware({ cpus: 1, coalescing: true }), policies: [order2] });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 8, 'buf');
    for (let i = 0; i < 8; i += 4) userAccess(k, p.main, vma.start + i, true, i); // one fault per folio
    for (let i = 0; i < 8; i++) userAccess(k, p.main, vma.start + i, false, 0);
    expect(sys.stats.get('tlb_coalesced_fill')).toBeGreaterThan(0);
    expect(sys.stats.get('page_walk')).toBeLessThan(8);
  });
});
