import { describe, expect, test } from 'vitest';
import { C, madvise, mmapAnon, munmap, userAccess } from '@mmsim/core';
import { x86System } from './helpers.js';

function setup(opts: Parameters<typeof x86System>[0] = {}, spinner: 'spin' | 'lazy' | 'none' = 'none', pages = 64) {
  const sys = x86System(opts);
  const k = sys.kernel;
  const p = k.spawn('p', 0);
  const t1 = spinner === 'none' ? null : k.addThread(p, 1, spinner === 'spin');
  const vma = mmapAnon(k, p.mm, pages, 'buf');
  for (let i = 0; i < pages; i++) userAccess(k, p.main, vma.start + i, true, i + 1);
  if (t1) userAccess(k, t1, vma.start, false, 0); // cpu 1 caches a translation too
  k.runOn(p.main);
  const v = sys.stats.v;
  const snap = sys.stats.snapshot();
  const d = (name: string) => sys.stats.get(name) - (snap[sys.stats.define(name)] ?? 0);
  return { sys, k, p, t1, vma, v, d };
}

describe('flush_tlb_mm_range', () => {
  test('single-CPU mm: local INVLPG only, no IPI', () => {
    const { k, p, vma, d } = setup();
    madvise(k, p.mm, vma.start, vma.start + 1, 'dontneed');
    expect(d('nr_tlb_local_flush_one')).toBe(1);
    expect(d('nr_tlb_local_flush_all')).toBe(0);
    expect(d('nr_tlb_remote_flush')).toBe(0);
    expect(d('nr_tlb_remote_flush_received')).toBe(0);
    expect(d('ipi_sent')).toBe(0);
  });

  test('mm live on two CPUs: one remote flush, one IPI to cpu 1, initiator waits', () => {
    const { sys, k, p, vma, d } = setup({}, 'spin');
    const c0 = sys.clock.byCpu[0]!;
    const c1 = sys.clock.byCpu[1]!;
    madvise(k, p.mm, vma.start, vma.start + 1, 'dontneed');
    expect(d('nr_tlb_remote_flush')).toBe(1);
    expect(d('nr_tlb_remote_flush_received')).toBe(1);
    expect(d('ipi_sent')).toBe(1);
    expect(d('nr_tlb_local_flush_one')).toBe(1);
    const costs = sys.hardware.costs;
    expect(sys.clock.byCpu[0]! - c0).toBeGreaterThanOrEqual(costs.ipiSend + costs.tlbFlushOne);
    expect(sys.clock.byCpu[1]! - c1).toBe(costs.ipiHandle + costs.tlbFlushOne);
  });

  test('three CPUs: IPIs to every other CPU of mm_cpumask, one nr_tlb_remote_flush', () => {
    const sys = x86System({ cpus: 4 });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    k.addThread(p, 1, true);
    k.addThread(p, 3, true);
    const q = k.spawn('q', 2);
    k.addThread(q, 2, true); // cpu 2 runs another mm: not a target
    const vma = mmapAnon(k, p.mm, 4, 'buf');
    k.runOn(p.main);
    userAccess(k, p.main, vma.start, true, 1);
    madvise(k, p.mm, vma.start, vma.end, 'dontneed');
    expect(sys.stats.v[C.nr_tlb_remote_flush]).toBe(1);
    expect(sys.stats.v[C.nr_tlb_remote_flush_received]).toBe(2);
    expect(sys.stats.get('ipi_sent')).toBe(2);
  });

  test("the 33-page ceiling: 33 pages are INVLPG'd one by one, 34 make a full flush", () => {
    const a = setup({}, 'spin');
    madvise(a.k, a.p.mm, a.vma.start, a.vma.start + 33, 'dontneed');
    expect(a.d('nr_tlb_local_flush_one')).toBe(33);
    expect(a.d('nr_tlb_local_flush_all')).toBe(0);
    expect(a.d('nr_tlb_remote_flush')).toBe(1);
    const b = setup({}, 'spin');
    madvise(b.k, b.p.mm, b.vma.start, b.vma.start + 34, 'dontneed');
    expect(b.d('nr_tlb_local_flush_one')).toBe(0);
    expect(b.d('nr_tlb_local_flush_all')).toBe(1);
    expect(b.d('nr_tlb_remote_flush')).toBe(1);
    // the knob
    const c = setup({ flushCeiling: 0 });
    madvise(c.k, c.p.mm, c.vma.start, c.vma.start + 1, 'dontneed');
    expect(c.d('nr_tlb_local_flush_all')).toBe(1);
  });

  test('full flushes drop the entries: later accesses miss and walk again', () => {
    const { k, p, vma, d } = setup();
    for (let i = 0; i < 8; i++) userAccess(k, p.main, vma.start + 40 + i, false, 0);
    expect(d('tlb_miss')).toBe(0);
    madvise(k, p.mm, vma.start, vma.start + 34, 'dontneed');
    for (let i = 0; i < 8; i++) userAccess(k, p.main, vma.start + 40 + i, false, 0);
    expect(d('tlb_miss')).toBe(8);
  });
});

describe('lazy-TLB CPUs', () => {
  test('a lazy CPU is skipped (no IPI) but nr_tlb_remote_flush still counts', () => {
    const { k, p, vma, d } = setup({}, 'lazy');
    madvise(k, p.mm, vma.start, vma.start + 1, 'dontneed');
    expect(d('nr_tlb_remote_flush')).toBe(1);
    expect(d('nr_tlb_remote_flush_received')).toBe(0);
    expect(d('ipi_sent')).toBe(0);
    expect(d('tlb_lazy_skip')).toBe(1);
  });

  test('lazyTlbSkip: false IPIs lazy CPUs too', () => {
    const { k, p, vma, d } = setup({ lazyTlbSkip: false }, 'lazy');
    madvise(k, p.mm, vma.start, vma.start + 1, 'dontneed');
    expect(d('nr_tlb_remote_flush_received')).toBe(1);
    expect(d('ipi_sent')).toBe(1);
  });

  test('freed page tables always reach lazy CPUs', () => {
    const { k, p, vma, d } = setup({}, 'lazy');
    munmap(k, p.mm, vma.start, vma.end);
    expect(d('nr_tlb_remote_flush')).toBe(1);
    expect(d('nr_tlb_remote_flush_received')).toBe(1);
    expect(d('tlb_lazy_skip')).toBe(0);
  });

  test('a skipped lazy CPU catches up before it uses the mm again (no stale hit)', () => {
    const { k, p, t1, vma, d } = setup({}, 'lazy');
    madvise(k, p.mm, vma.start, vma.start + 1, 'dontneed');
    userAccess(k, t1!, vma.start, false, 0); // would hit the stale entry without the catch-up
    expect(k.lastValue).toBe(0);
    expect(d('tlb_lazy_catchup')).toBe(1);
  });
});

describe('batched reclaim flushes (arch_tlbbatch_flush)', () => {
  test('MADV_PAGEOUT of a dirty page on a two-CPU mm', () => {
    const { k, p, vma, d } = setup({}, 'spin', 1);
    madvise(k, p.mm, vma.start, vma.end, 'pageout');
    // try_to_unmap_flush_dirty (batch, full) + tlb_finish_mmu (range): two shootdowns
    expect(d('nr_tlb_remote_flush')).toBe(2);
    expect(d('nr_tlb_remote_flush_received')).toBe(2);
    expect(d('nr_tlb_local_flush_all')).toBe(1);
    expect(d('nr_tlb_local_flush_one')).toBe(1);
    // the pending batched flush is flushed by the next madvise (flush_tlb_batched_pending)
    userAccess(k, p.main, vma.start, false, 0);
    expect(k.lastValue).toBe(1);
    madvise(k, p.mm, vma.start, vma.end, 'pageout');
    expect(d('nr_tlb_remote_flush')).toBe(5);
  });
});

test('core counters are ids in C', () => {
  const { sys } = setup();
  expect(sys.stats.v[C.context_switch]).toBeGreaterThan(0);
});
