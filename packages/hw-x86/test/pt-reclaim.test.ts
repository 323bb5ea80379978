import { describe, expect, test } from 'vitest';
import { createSystem, madvise, mmapAnon, userAccess } from '@mmsim/core';
import { createHardware } from '../src/index.js';

// CONFIG_PT_RECLAIM (x86-64 selects ARCH_SUPPORTS_PT_RECLAIM, 4817f70c25b6, v6.14): MADV_DONTNEED
// of a whole PTE table frees it; pte_free_tlb() sets tlb->freed_tables, so the flush also
// reaches a lazy-TLB CPU (native_flush_tlb_multi()), which may still walk the freed table.
function setup(ptReclaim: boolean) {
  const hw = createHardware({ cpus: 2 });
  const sys = createSystem({ hardware: hw, config: { features: { ptReclaim } } });
  const k = sys.kernel;
  const p = k.spawn('p', 0);
  const t1 = k.addThread(p, 1, false);
  const vma = mmapAnon(k, p.mm, 1024, 'buf');
  for (let i = 0; i < 1024; i++) userAccess(k, p.main, vma.start + i, true, 1);
  userAccess(k, t1, vma.start, false, 0); // cpu 1 runs the mm, then goes lazy
  k.runOn(p.main);
  const snap = sys.stats.snapshot();
  const d = (name: string) => sys.stats.get(name) - (snap[sys.stats.define(name)] ?? 0);
  return { hw, k, p, vma, d };
}

describe('PT_RECLAIM on x86', () => {
  test('the architecture supports it', () => {
    expect(createHardware({ cpus: 1 }).archSupportsPtReclaim).toBe(true);
  });

  for (const on of [false, true]) {
    test(`ptReclaim ${on ? 'on' : 'off'}: 4 MiB DONTNEED, ${on ? '2 PTE tables freed, the lazy CPU gets the IPI' : 'tables kept, the lazy CPU is skipped'}`, () => {
      const { k, p, vma, d } = setup(on);
      expect(p.mm.pgtablesBytes).toBe(4 * 4096);
      madvise(k, p.mm, vma.start, vma.end, 'dontneed');
      expect(p.mm.pgtablesBytes).toBe((on ? 2 : 4) * 4096);
      expect({
        pgtable_free: d('pgtable_free'),
        nr_tlb_local_flush_all: d('nr_tlb_local_flush_all'),
        nr_tlb_remote_flush: d('nr_tlb_remote_flush'),
        nr_tlb_remote_flush_received: d('nr_tlb_remote_flush_received'),
        tlb_lazy_skip: d('tlb_lazy_skip'),
      }).toEqual({
        pgtable_free: on ? 2 : 0,
        nr_tlb_local_flush_all: 1,
        nr_tlb_remote_flush: 1,
        nr_tlb_remote_flush_received: on ? 1 : 0,
        tlb_lazy_skip: on ? 0 : 1,
      });
    });
  }
});
