import { describe, expect, it } from 'vitest';
import {
  createSystem,
  FlatHardware,
  forkProcess,
  madvise,
  mmapAnon,
  userAccess,
  PG,
  PTE,
  PTRS_PER_TABLE,
} from '../src/index.js';
import { ctr, ctrs, mem, run, runError } from './helpers.js';

function setup(cpus = 1) {
  const sys = createSystem({ hardware: new FlatHardware(cpus) });
  const k = sys.kernel;
  const p = k.spawn('p', 0);
  return { sys, k, p };
}

describe('fork (dup_mmap / copy_page_range)', () => {
  it('copies the PTEs, shares the pages (refcount, mapcount), clears PageAnonExclusive, write-protects the parent', () => {
    const { k, p, sys } = setup();
    const vma = mmapAnon(k, p.mm, 4, 'b');
    for (let i = 0; i < 4; i++) userAccess(k, p.main, vma.start + i, true, 100 + i);
    k.lruAddDrain(0);
    const pfns = [0, 1, 2, 3].map((i) => k.translate(p.mm, vma.start + i, true));
    for (const pfn of pfns) {
      expect(k.f.ref[pfn]).toBe(1);
      expect(k.f.flags[pfn]! & PG.anonExclusive).toBe(PG.anonExclusive);
    }
    const before = sys.stats.snapshot();
    const c = forkProcess(k, p, 'c', 0);
    const d = sys.stats.toRecord(before);
    expect(d.fork_pte_copy).toBe(4);
    expect(d.pgalloc ?? 0).toBe(0);
    expect(d.pgtable_alloc).toBe(3); // the child's PUD, PMD and PTE table
    for (let i = 0; i < 4; i++) {
      const pfn = pfns[i]!;
      expect(k.f.ref[pfn]).toBe(2);
      expect(k.f.mapcount[pfn]).toBe(2);
      expect(k.f.flags[pfn]! & PG.anonExclusive).toBe(0);
      // both map the same frame read-only
      expect(k.translate(p.mm, vma.start + i, false)).toBe(pfn);
      expect(k.translate(c.mm, vma.start + i, false)).toBe(pfn);
      expect(k.translate(p.mm, vma.start + i, true)).toBe(-1);
      expect(k.translate(c.mm, vma.start + i, true)).toBe(-1);
    }
    // the child's PTEs start old (pte_mkold), the parent's keep their young bit
    const ct = k.pteTable(c.mm, vma.start);
    const pt = k.pteTable(p.mm, vma.start);
    expect(k.pt.fl[ct * PTRS_PER_TABLE + (vma.start & 511)]! & PTE.young).toBe(0);
    expect(k.pt.fl[pt * PTRS_PER_TABLE + (vma.start & 511)]! & PTE.young).toBe(PTE.young);
    expect(c.mm.rssAnon).toBe(4);
    expect(c.mm.pgtablesBytes).toBe(3 * 4096);
    expect(k.nrAnonMapped).toBe(4); // AnonPages counts pages, not mappings
  });

  it('dup_mmap flushes the parent mm: local only, or one remote flush with a thread live on cpu 1', () => {
    const steps = (spin: boolean) => [
      { op: 'spawn', pid: 'p', cpu: 0 },
      ...(spin ? [{ op: 'thread', pid: 'p', cpu: 1, spin: true }] : []),
      { op: 'mmap', pid: 'p', name: 'b', size: '16KiB' },
      { op: 'touch', pid: 'p', region: 'b', access: 'write' },
      { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
    ];
    const F = [
      'fork_pte_copy',
      'nr_tlb_local_flush_all',
      'nr_tlb_remote_flush',
      'nr_tlb_remote_flush_received',
      'tlb_flush_request',
    ];
    expect(ctrs(run({ name: 'local', steps: steps(false) }), 'fork', F)).toEqual({
      fork_pte_copy: 4,
      nr_tlb_local_flush_all: 1,
      nr_tlb_remote_flush: 0,
      nr_tlb_remote_flush_received: 0,
      tlb_flush_request: 1,
    });
    expect(ctrs(run({ name: 'remote', steps: steps(true) }), 'fork', F)).toEqual({
      fork_pte_copy: 4,
      nr_tlb_local_flush_all: 1,
      nr_tlb_remote_flush: 1,
      nr_tlb_remote_flush_received: 1,
      tlb_flush_request: 1,
    });
  });

  it('isolates parent and child: a write by either is never visible to the other', () => {
    const r = run({
      name: 'isolation',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '16KiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 100 },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'touch', pid: 'c', region: 'b', access: 'write', value: 200, phase: 'child-write' },
        { op: 'access', pid: 'p', region: 'b', offset: 0, access: 'read', expect: 100 },
        { op: 'access', pid: 'p', region: 'b', offset: '12KiB', access: 'read', expect: 100 },
        { op: 'access', pid: 'c', region: 'b', offset: '12KiB', access: 'read', expect: 200 },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 300, phase: 'parent-write' },
        { op: 'access', pid: 'c', region: 'b', offset: 0, access: 'read', expect: 200 },
        { op: 'access', pid: 'c', region: 'b', offset: '8KiB', access: 'read', expect: 200 },
        { op: 'access', pid: 'p', region: 'b', offset: '8KiB', access: 'read', expect: 300 },
      ],
    });
    expect(r.checks).toEqual({ passed: 6, failed: 0, failures: [] });
    expect(ctr(r, 'child-write', 'cow_copy')).toBe(4);
    // the parent's pages are now its alone again, but still sit in the LRU batch → copied (v5.9 rule)
    expect(ctr(r, 'parent-write', 'cow_copy')).toBe(4);
    expect(mem(r, 'parent-write')).toMatchObject({ AnonPages: 32 });
  });

  it('vma_needs_copy(): a VMA that only ever mapped the zero page (no anon_vma) is not copied', () => {
    const r = run({
      name: 'zero-fork',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '8KiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'read' },
        { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
        { op: 'touch', pid: 'c', region: 'b', access: 'write', value: 5, phase: 'cw' },
        { op: 'access', pid: 'p', region: 'b', access: 'read', expect: 0 },
        { op: 'access', pid: 'c', region: 'b', access: 'read', expect: 5 },
      ],
    });
    expect(ctrs(r, 'fork', ['fork_pte_copy', 'pgalloc', 'pgtable_alloc'])).toEqual({
      fork_pte_copy: 0,
      pgalloc: 0,
      pgtable_alloc: 0,
    });
    // the child's PTEs are none: do_anonymous_page, not a zero-page CoW
    expect(ctrs(r, 'cw', ['cow_zero', 'cow_copy', 'pgfault', 'pgalloc'])).toEqual({
      cow_zero: 0,
      cow_copy: 0,
      pgfault: 2,
      pgalloc: 2,
    });
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
  });

  it('zero-page PTEs of a VMA with an anon_vma are copied without a reference; a child write replaces them (cow_zero)', () => {
    const r = run({
      name: 'zero-fork-2',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '8KiB' },
        { op: 'access', pid: 'p', region: 'b', offset: 0, access: 'write', value: 1 },
        { op: 'access', pid: 'p', region: 'b', offset: '4KiB', access: 'read' },
        { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
        { op: 'access', pid: 'c', region: 'b', offset: '4KiB', access: 'write', value: 5, phase: 'cw' },
        { op: 'access', pid: 'p', region: 'b', offset: '4KiB', access: 'read', expect: 0 },
        { op: 'access', pid: 'c', region: 'b', offset: '4KiB', access: 'read', expect: 5 },
        { op: 'access', pid: 'c', region: 'b', offset: 0, access: 'read', expect: 1 },
      ],
    });
    expect(ctrs(r, 'fork', ['fork_pte_copy', 'pgalloc'])).toEqual({ fork_pte_copy: 2, pgalloc: 0 });
    expect(mem(r, 'fork').processes.c).toMatchObject({ RssAnon: 4 }); // the zero page is not RSS
    expect(ctrs(r, 'cw', ['cow_zero', 'cow_copy', 'pgfault'])).toEqual({ cow_zero: 1, cow_copy: 0, pgfault: 1 });
    expect(r.checks).toEqual({ passed: 3, failed: 0, failures: [] });
  });

  it('MADV_DONTFORK: the child has no such mapping; MADV_WIPEONFORK: the child sees zeroes', () => {
    const err = runError({
      name: 'dontfork',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '8KiB', advice: 'dontfork' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 1 },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'access', pid: 'c', region: 'b', access: 'read' },
      ],
    });
    expect(err.name).toBe('ScenarioError');
    expect(err.message).toMatch(/steps\[4\]/);
    expect(err.message).toMatch(/segmentation fault/);

    const r = run({
      name: 'wipeonfork',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'w', size: '8KiB', advice: 'wipeonfork' },
        { op: 'mmap', pid: 'p', name: 'd', size: '8KiB', advice: 'dontfork' },
        { op: 'mmap', pid: 'p', name: 'k', size: '8KiB' },
        { op: 'touch', pid: 'p', region: 'w', access: 'write', value: 7 },
        { op: 'touch', pid: 'p', region: 'd', access: 'write', value: 8 },
        { op: 'touch', pid: 'p', region: 'k', access: 'write', value: 9 },
        { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
        { op: 'touch', pid: 'c', region: 'w', access: 'read', phase: 'child-read' },
        { op: 'access', pid: 'c', region: 'w', offset: '4KiB', access: 'read', expect: 0 },
        { op: 'access', pid: 'c', region: 'k', offset: '4KiB', access: 'read', expect: 9 },
        { op: 'access', pid: 'p', region: 'w', offset: '4KiB', access: 'read', expect: 7 },
        { op: 'access', pid: 'p', region: 'd', offset: '4KiB', access: 'read', expect: 8 },
      ],
    });
    // only region k's two PTEs are copied
    expect(ctr(r, 'fork', 'fork_pte_copy')).toBe(2);
    expect(mem(r, 'fork').processes.c).toMatchObject({ RssAnon: 8, VmPTE: 12 });
    // the wiped region faults in the zero page
    expect(ctrs(r, 'child-read', ['pgfault', 'pgalloc'])).toEqual({ pgfault: 2, pgalloc: 0 });
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
  });

  it('swap entries are duplicated at fork (swap count 2, not exclusive) and both read the old contents', () => {
    const { k, p, sys } = setup();
    const vma = mmapAnon(k, p.mm, 2, 'b');
    userAccess(k, p.main, vma.start, true, 11);
    userAccess(k, p.main, vma.start + 1, true, 12);
    madvise(k, p.mm, vma.start, vma.end, 'pageout');
    expect(p.mm.swapEnts).toBe(2);
    const t = k.pteTable(p.mm, vma.start);
    const slot = k.pt.val[t * PTRS_PER_TABLE + (vma.start & 511)]!;
    expect(k.pt.fl[t * PTRS_PER_TABLE + (vma.start & 511)]! & (PTE.swap | PTE.swpExclusive)).toBe(
      PTE.swap | PTE.swpExclusive,
    );
    expect(k.swap.count[slot]).toBe(1);
    const before = sys.stats.snapshot();
    const c = forkProcess(k, p, 'c', 0);
    expect(sys.stats.toRecord(before).fork_pte_copy).toBe(2);
    expect(k.swap.count[slot]).toBe(2);
    expect(c.mm.swapEnts).toBe(2);
    const ct = k.pteTable(c.mm, vma.start);
    expect(k.pt.fl[ct * PTRS_PER_TABLE + (vma.start & 511)]! & (PTE.swap | PTE.swpExclusive)).toBe(PTE.swap);
    expect(k.pt.fl[t * PTRS_PER_TABLE + (vma.start & 511)]! & PTE.swpExclusive).toBe(0);
    // the child reads first: count 2, so the swap cache is used even on the synchronous device
    const s1 = sys.stats.snapshot();
    userAccess(k, c.main, vma.start, false, 0);
    expect(k.lastValue).toBe(11);
    expect(sys.stats.toRecord(s1)).toMatchObject({ pswpin: 1, pgmajfault: 1, swap_cache_add: 1 });
    expect(k.swap.count[slot]).toBe(1);
    // the parent then hits the swap cache: a minor fault, same frame
    const s2 = sys.stats.snapshot();
    userAccess(k, p.main, vma.start, false, 0);
    expect(k.lastValue).toBe(11);
    const d2 = sys.stats.toRecord(s2);
    expect(d2.swapin_cache_hit).toBe(1);
    expect(d2.pswpin ?? 0).toBe(0);
    expect(k.translate(p.mm, vma.start, false)).toBe(k.translate(c.mm, vma.start, false));
    // a write by the child stays private
    userAccess(k, c.main, vma.start + 1, true, 99);
    userAccess(k, p.main, vma.start + 1, false, 0);
    expect(k.lastValue).toBe(12);
    userAccess(k, c.main, vma.start + 1, false, 0);
    expect(k.lastValue).toBe(99);
  });
});
