import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, madvise, mmapAnon, userAccess, type FlushRequest } from '../src/index.js';
import { ctrs, mem, run } from './helpers.js';

// CONFIG_PT_RECLAIM (6375e95f381e, v6.14): madvise_dontneed_single_vma() zaps with
// details.reclaim_pt; zap_pte_range() frees a PTE table it covered whole and left empty.
const steps = (size: string, dontneed: { offset?: number; size?: string } = {}) => [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'b', size },
  { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 3, phase: 'touch' },
  { op: 'madvise', pid: 'p', region: 'b', advice: 'dontneed', ...dontneed, phase: 'dontneed' },
  { op: 'access', pid: 'p', region: 'b', offset: 0, access: 'read', expect: 0, phase: 'read' },
];
const cfg = (ptReclaim: boolean) => ({ config: { features: { ptReclaim } } });
const COUNTERS = ['pgfree', 'pgtable_alloc', 'pgtable_free', 'nr_tlb_local_flush_all', 'nr_tlb_local_flush_one'];

describe('MADV_DONTNEED frees empty PTE tables (CONFIG_PT_RECLAIM)', () => {
  it('8 MiB, ptReclaim on: the 4 PTE tables are freed, PUD and PMD tables stay (VmPTE 24 → 8 kB)', () => {
    const r = run({ name: 'pt-reclaim', steps: steps('8MiB') }, cfg(true));
    expect(mem(r, 'touch').processes.p!.VmPTE).toBe(24);
    expect(ctrs(r, 'dontneed', COUNTERS)).toEqual({
      pgfree: 2048,
      pgtable_alloc: 0,
      pgtable_free: 4,
      nr_tlb_local_flush_all: 1,
      nr_tlb_local_flush_one: 0,
    });
    expect(mem(r, 'dontneed').processes.p!.VmPTE).toBe(8);
    expect(mem(r, 'dontneed').PageTables).toBe(8);
    // the next fault allocates the PTE table again (pte_alloc)
    expect(ctrs(r, 'read', ['pgfault', 'pgtable_alloc'])).toEqual({ pgfault: 1, pgtable_alloc: 1 });
    expect(mem(r, 'read').processes.p!.VmPTE).toBe(12);
    expect(r.checks.failed).toBe(0);
  });

  it('8 MiB, ptReclaim off (before v6.14): the tables stay (VmPTE 24 kB)', () => {
    const r = run({ name: 'pt-keep', steps: steps('8MiB') }, cfg(false));
    expect(ctrs(r, 'dontneed', COUNTERS)).toEqual({
      pgfree: 2048,
      pgtable_alloc: 0,
      pgtable_free: 0,
      nr_tlb_local_flush_all: 1,
      nr_tlb_local_flush_one: 0,
    });
    expect(mem(r, 'dontneed').processes.p!.VmPTE).toBe(24);
    expect(ctrs(r, 'read', ['pgfault', 'pgtable_alloc'])).toEqual({ pgfault: 1, pgtable_alloc: 0 });
  });

  it('only tables the zap covers whole: reclaim_pt_is_enabled() needs end - start >= PMD_SIZE', () => {
    // 3 MiB from offset 1 MiB of a 2 MiB-aligned 8 MiB mapping: only the table of [2, 4) MiB is covered
    const r = run({ name: 'pt-part', steps: steps('8MiB', { offset: 1 << 20, size: '3MiB' }) }, cfg(true));
    expect(ctrs(r, 'dontneed', ['pgfree', 'pgtable_free'])).toEqual({ pgfree: 768, pgtable_free: 1 });
    expect(mem(r, 'dontneed').processes.p!.VmPTE).toBe(20);
  });

  it('a 16 KiB zap frees no table (the range is below PMD_SIZE, the table keeps no entry but stays)', () => {
    const r = run({ name: 'pt-small', steps: steps('16KiB') }, cfg(true));
    expect(ctrs(r, 'dontneed', ['pgfree', 'pgtable_free', 'nr_tlb_local_flush_one'])).toEqual({
      pgfree: 4,
      pgtable_free: 0,
      nr_tlb_local_flush_one: 4,
    });
    expect(mem(r, 'dontneed').PageTables).toBe(12);
  });

  it('munmap is unchanged (free_pgtables() already frees by the floor/ceiling rule)', () => {
    for (const on of [false, true]) {
      const r = run(
        {
          name: 'pt-munmap',
          steps: [
            { op: 'spawn', pid: 'p', cpu: 0 },
            { op: 'mmap', pid: 'p', name: 'b', size: '4MiB' },
            { op: 'touch', pid: 'p', region: 'b', access: 'write' },
            { op: 'munmap', pid: 'p', region: 'b', phase: 'munmap' },
          ],
        },
        cfg(on),
      );
      expect(ctrs(r, 'munmap', ['pgtable_free'])).toEqual({ pgtable_free: 4 }); // 2 PTE + PMD + PUD
    }
  });

  it('the flush request carries freed_tables (pte_free_tlb()) and the table start in its range', () => {
    for (const on of [false, true]) {
      const sys = createSystem({ hardware: new FlatHardware(1), config: { features: { ptReclaim: on } } });
      const k = sys.kernel;
      const p = k.spawn('p', 0);
      const start = mmapAnon(k, p.mm, 512, 'b').start;
      for (let i = 0; i < 512; i++) userAccess(k, p.main, start + i, true, 1);
      const reqs: FlushRequest[] = [];
      sys.hooks.tlbFlush.request.tap('t', (r) => reqs.push({ ...r }));
      madvise(k, p.mm, start, start + 512, 'dontneed');
      expect(reqs.map((r) => [r.reason, r.start - start, r.end - start, r.freedTables])).toEqual([
        ['madvise_dontneed', 0, 512, on],
      ]);
      expect(p.mm.pgtablesBytes).toBe(on ? 8192 : 12288);
    }
  });
});
