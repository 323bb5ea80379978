import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, madvise, mmapAnon, userAccess, PG, PTE, PTRS_PER_TABLE } from '../src/index.js';
import { ctr, ctrs, mem, run } from './helpers.js';

const start = (size = '16KiB', value = 11) => [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'b', size },
  { op: 'touch', pid: 'p', region: 'b', access: 'write', value },
];
const readAll = (n: number, expect: number) =>
  Array.from({ length: n }, (_, i) => ({
    op: 'access',
    pid: 'p',
    region: 'b',
    offset: i * 4096,
    access: 'read',
    expect,
  }));

describe('madvise', () => {
  it('dontneed: the pages are freed, later reads see zeroes from the zero page', () => {
    const r = run({
      name: 'dontneed',
      steps: [
        ...start(),
        { op: 'madvise', pid: 'p', region: 'b', advice: 'dontneed', phase: 'dontneed' },
        { op: 'phase', name: 'read' },
        ...readAll(4, 0),
      ],
    });
    expect(ctrs(r, 'dontneed', ['pgfree', 'pgtable_free', 'nr_tlb_local_flush_one'])).toEqual({
      pgfree: 4,
      pgtable_free: 0,
      nr_tlb_local_flush_one: 4,
    });
    expect(mem(r, 'dontneed')).toMatchObject({ AnonPages: 0, MemUsed: 0, PageTables: 12 });
    expect(ctrs(r, 'read', ['pgfault', 'pgalloc'])).toEqual({ pgfault: 4, pgalloc: 0 });
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
  });

  it('pageout with a synchronous device: pswpout, swap entries; the read is a major fault that skips the swap cache', () => {
    const r = run({
      name: 'pageout-sync',
      steps: [
        ...start(),
        { op: 'madvise', pid: 'p', region: 'b', advice: 'pageout', phase: 'pageout' },
        { op: 'phase', name: 'read' },
        ...readAll(4, 11),
      ],
    });
    expect(
      ctrs(r, 'pageout', ['pswpout', 'pgsteal', 'swap_cache_add', 'swap_cache_del', 'reclaim_keep', 'pgfree']),
    ).toEqual({
      pswpout: 4,
      pgsteal: 4,
      swap_cache_add: 4,
      swap_cache_del: 4,
      reclaim_keep: 0,
      pgfree: 4,
    });
    const m = mem(r, 'pageout');
    expect(m).toMatchObject({ AnonPages: 0, MemUsed: 0, SwapCached: 0 });
    expect(m.SwapTotal - m.SwapFree).toBe(16);
    expect(m.processes.p).toMatchObject({ VmSwap: 16, RssAnon: 0 });
    expect(ctrs(r, 'read', ['pgfault', 'pswpin', 'pgmajfault', 'swapin_skip_swapcache', 'swapin_cache_hit'])).toEqual({
      pgfault: 4,
      pswpin: 4,
      pgmajfault: 4,
      swapin_skip_swapcache: 4,
      swapin_cache_hit: 0,
    });
    const m2 = mem(r, 'read');
    expect(m2).toMatchObject({ AnonPages: 16, SwapCached: 0 });
    expect(m2.SwapFree).toBe(m2.SwapTotal); // the slots were freed at swap-in
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
  });

  it('kernel API: pageout leaves an exclusive swap entry in the PTE; swap-in restores the page, mapped read-only', () => {
    const sys = createSystem({ hardware: new FlatHardware(1) });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 1, 'b');
    userAccess(k, p.main, vma.start, true, 1234);
    madvise(k, p.mm, vma.start, vma.end, 'pageout');
    const kk = k.pteTable(p.mm, vma.start) * PTRS_PER_TABLE + (vma.start & 511);
    // the written page was soft-dirty (pte_mkdirty): its swap entry keeps the bit
    expect(k.pt.fl[kk]).toBe(PTE.swap | PTE.swpExclusive | PTE.softDirty);
    const slot = k.pt.val[kk]!;
    expect(k.swap.count[slot]).toBe(1);
    expect(k.swap.data[slot]).toBe(1234);
    expect(k.swap.hasCache[slot]).toBe(0);
    userAccess(k, p.main, vma.start, false, 0);
    expect(k.lastValue).toBe(1234);
    expect(k.pt.fl[kk]! & (PTE.present | PTE.write)).toBe(PTE.present);
    const pfn = k.pt.val[kk]!;
    expect(k.f.flags[pfn]! & PG.anonExclusive).toBe(PG.anonExclusive);
    expect(k.swap.count[slot]).toBe(0);
  });

  it('pageout with an asynchronous device: the folio stays in the swap cache (SwapCached), the read is a swap-cache hit', () => {
    const r = run(
      {
        name: 'pageout-async',
        steps: [
          ...start(),
          { op: 'madvise', pid: 'p', region: 'b', advice: 'pageout', phase: 'pageout' },
          { op: 'phase', name: 'read' },
          ...readAll(4, 11),
          // clean and in the swap cache: the second pageout frees them without I/O
          { op: 'madvise', pid: 'p', region: 'b', advice: 'pageout', phase: 'pageout2' },
        ],
      },
      { config: { swap: { synchronousIo: false } } },
    );
    expect(ctrs(r, 'pageout', ['pswpout', 'pgsteal', 'reclaim_keep', 'pgfree'])).toEqual({
      pswpout: 4,
      pgsteal: 0,
      reclaim_keep: 4,
      pgfree: 0,
    });
    const m = mem(r, 'pageout');
    expect(m).toMatchObject({ AnonPages: 0, SwapCached: 16, MemUsed: 16, Inactive_anon: 16 });
    expect(m.processes.p!.VmSwap).toBe(16);
    expect(ctrs(r, 'read', ['pgfault', 'swapin_cache_hit', 'pswpin', 'pgmajfault', 'pgalloc'])).toEqual({
      pgfault: 4,
      swapin_cache_hit: 4,
      pswpin: 0,
      pgmajfault: 0,
      pgalloc: 0,
    });
    expect(mem(r, 'read')).toMatchObject({ AnonPages: 16, SwapCached: 16, MemUsed: 16 });
    expect(ctrs(r, 'pageout2', ['pswpout', 'pgsteal', 'pgfree'])).toEqual({ pswpout: 0, pgsteal: 4, pgfree: 4 });
    const m2 = mem(r, 'pageout2');
    expect(m2).toMatchObject({ AnonPages: 0, SwapCached: 0, MemUsed: 0 });
    expect(m2.SwapTotal - m2.SwapFree).toBe(16);
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
  });

  it('pageout skips pages mapped by two processes (mapcount != 1)', () => {
    const r = run({
      name: 'pageout-shared',
      steps: [
        ...start(),
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'access', pid: 'c', region: 'b', offset: 0, access: 'write', value: 1 },
        { op: 'madvise', pid: 'p', region: 'b', advice: 'pageout', phase: 'pageout' },
      ],
    });
    // page 0 is the parent's alone after the child's CoW: only it goes out
    expect(ctrs(r, 'pageout', ['pswpout', 'pgsteal'])).toEqual({ pswpout: 1, pgsteal: 1 });
    expect(mem(r, 'pageout').processes.p).toMatchObject({ VmSwap: 4, RssAnon: 12 });
  });

  it('pageout skips pages that are not on the LRU (in another CPU’s batch) until that CPU drains', () => {
    const r = run({
      name: 'pageout-nolru',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'thread', pid: 'p', cpu: 1 },
        { op: 'mmap', pid: 'p', name: 'b', size: '16KiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', cpu: 1 },
        { op: 'madvise', pid: 'p', region: 'b', advice: 'pageout', phase: 'skip' },
        { op: 'drain', cpu: 1, phase: 'drained' },
        { op: 'madvise', pid: 'p', region: 'b', advice: 'pageout' },
      ],
    });
    expect(ctr(r, 'skip', 'pswpout')).toBe(0);
    expect(mem(r, 'skip')).toMatchObject({ AnonPages: 16 });
    expect(ctr(r, 'drained', 'pswpout')).toBe(4);
  });

  it('cold: clears the young bits (one ranged flush), queues a deactivation, swaps nothing', () => {
    const sys = createSystem({ hardware: new FlatHardware(2) });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    k.addThread(p, 1, true);
    const vma = mmapAnon(k, p.mm, 2, 'b');
    k.runOn(p.main);
    userAccess(k, p.main, vma.start, true, 1);
    userAccess(k, p.main, vma.start + 1, true, 2);
    k.lruAddDrain(0);
    const pfn = k.translate(p.mm, vma.start, false);
    // make page 0 active (folio_activate), page 1 stays inactive
    k.lruBatchAdd(pfn, 'activate');
    k.lruAddDrain(0);
    expect(sys.stats.get('pgactivate')).toBe(1);
    expect(k.lruCount).toEqual({ active: 1, inactive: 1 });
    const s = sys.stats.snapshot();
    madvise(k, p.mm, vma.start, vma.end, 'cold');
    const t = k.pteTable(p.mm, vma.start) * PTRS_PER_TABLE + (vma.start & 511);
    expect(k.pt.fl[t]! & PTE.young).toBe(0);
    expect(k.pt.fl[t + 1]! & PTE.young).toBe(0);
    expect(k.f.ref[pfn]).toBe(2); // mapping + the lru_deactivate batch
    k.lruAddDrain(0);
    const d = sys.stats.toRecord(s);
    expect(d).toMatchObject({ pgdeactivate: 1, nr_tlb_remote_flush: 1, nr_tlb_local_flush_one: 2 });
    expect(d.pswpout ?? 0).toBe(0);
    expect(k.lruCount).toEqual({ active: 0, inactive: 2 });
    expect(k.f.ref[pfn]).toBe(1);
  });

  it('the young-bit flush: pageout of an old PTE skips tlb_finish_mmu’s flush', () => {
    const steps = (coldFirst: boolean) => [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'thread', pid: 'p', cpu: 1, spin: true },
      { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
      { op: 'touch', pid: 'p', region: 'b', access: 'write' },
      ...(coldFirst ? [{ op: 'madvise', pid: 'p', region: 'b', advice: 'cold' }] : []),
      { op: 'madvise', pid: 'p', region: 'b', advice: 'pageout', phase: 'pageout' },
    ];
    // young: try_to_unmap_flush_dirty() + the flush of the young-bit range
    expect(ctrs(run({ name: 'young', steps: steps(false) }), 'pageout', ['pswpout', 'nr_tlb_remote_flush'])).toEqual({
      pswpout: 1,
      nr_tlb_remote_flush: 2,
    });
    // old (cold cleared the bit): only the dirty flush
    expect(ctrs(run({ name: 'old', steps: steps(true) }), 'pageout', ['pswpout', 'nr_tlb_remote_flush'])).toEqual({
      pswpout: 1,
      nr_tlb_remote_flush: 1,
    });
  });
});
