import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, mmapAnon, userAccess, ZERO_PFN, PG } from '../src/index.js';
import { ctr, ctrs, mem, run } from './helpers.js';

const spawn = [{ op: 'spawn', pid: 'p', cpu: 0 }];

describe('anonymous faults (do_anonymous_page)', () => {
  it('a read maps the shared zero page: no AnonPages, no allocation, reads 0', () => {
    const r = run({
      name: 'read-zero',
      steps: [
        ...spawn,
        { op: 'mmap', pid: 'p', name: 'b', size: '16KiB', phase: 'read' },
        { op: 'touch', pid: 'p', region: 'b', access: 'read' },
        { op: 'access', pid: 'p', region: 'b', offset: '8KiB', access: 'read', expect: 0 },
      ],
    });
    // 4 faults (the access hits the mapped zero page: no fifth fault); PUD + PMD + PTE table
    expect(ctrs(r, 'read', ['pgfault', 'pgalloc', 'pgtable_alloc', 'cow_zero'])).toEqual({
      pgfault: 4,
      pgalloc: 0,
      pgtable_alloc: 3,
      cow_zero: 0,
    });
    expect(mem(r, 'read')).toMatchObject({ AnonPages: 0, MemUsed: 0, PageTables: 12 });
    expect(mem(r, 'read').processes.p).toMatchObject({ VmRSS: 0, VmPTE: 12 });
    expect(r.checks).toEqual({ passed: 1, failed: 0, failures: [] });
  });

  it('a write allocates a page per fault and the value is readable', () => {
    const r = run({
      name: 'write',
      steps: [
        ...spawn,
        { op: 'mmap', pid: 'p', name: 'b', size: '16KiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 42, phase: 'write' },
        { op: 'touch', pid: 'p', region: 'b', access: 'read', phase: 'read' },
        { op: 'access', pid: 'p', region: 'b', offset: '12KiB', access: 'read', expect: 42 },
        { op: 'access', pid: 'p', region: 'b', offset: 0, access: 'read', expect: 42 },
      ],
    });
    expect(ctrs(r, 'write', ['pgfault', 'pgalloc', 'lru_add_batched', 'cow_zero', 'pgreuse'])).toEqual({
      pgfault: 4,
      pgalloc: 4,
      lru_add_batched: 4,
      cow_zero: 0,
      pgreuse: 0,
    });
    expect(mem(r, 'write')).toMatchObject({ AnonPages: 16, MemUsed: 16, PageTables: 12 });
    expect(mem(r, 'write').processes.p).toMatchObject({ VmRSS: 16, RssAnon: 16 });
    // the pages are mapped writable: reading them faults no more
    expect(ctr(r, 'read', 'pgfault')).toBe(0);
    expect(r.checks.passed).toBe(2);
    expect(r.checks.failed).toBe(0);
  });

  it('a write after a read replaces the zero page (cow_zero) and flushes its PTE', () => {
    const r = run({
      name: 'read-then-write',
      steps: [
        ...spawn,
        { op: 'mmap', pid: 'p', name: 'b', size: '16KiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'read', phase: 'read' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 3, phase: 'write' },
        { op: 'access', pid: 'p', region: 'b', offset: '4KiB', access: 'read', expect: 3 },
      ],
    });
    expect(
      ctrs(r, 'write', ['pgfault', 'cow_zero', 'cow_copy', 'pgalloc', 'nr_tlb_local_flush_one', 'nr_tlb_remote_flush']),
    ).toEqual({
      pgfault: 4,
      cow_zero: 4,
      cow_copy: 0,
      pgalloc: 4,
      // wp_page_copy(): ptep_clear_flush of the zero-page PTE, one page each, only cpu 0 in mm_cpumask
      nr_tlb_local_flush_one: 4,
      nr_tlb_remote_flush: 0,
    });
    expect(mem(r, 'write')).toMatchObject({ AnonPages: 16, MemUsed: 16 });
    expect(r.checks.failed).toBe(0);
  });

  it('PageTables / VmPTE: a 2 MiB-aligned 64 MiB region needs 32 PTE + 1 PMD + 1 PUD table = 136 kB', () => {
    const r = run({
      name: 'pgtables',
      steps: [
        ...spawn,
        { op: 'mmap', pid: 'p', name: 'big', size: '64MiB' },
        { op: 'touch', pid: 'p', region: 'big', access: 'write', value: 1, phase: 'touch' },
        // a second small region, one PMD gap below: same PMD and PUD tables, one more PTE table
        { op: 'mmap', pid: 'p', name: 'small', size: '4KiB', phase: 'small' },
        { op: 'touch', pid: 'p', region: 'small', access: 'write' },
        { op: 'munmap', pid: 'p', region: 'big', phase: 'unmap' },
      ],
    });
    expect(ctr(r, 'touch', 'pgfault')).toBe(16384);
    expect(ctr(r, 'touch', 'pgtable_alloc')).toBe(34);
    expect(mem(r, 'touch')).toMatchObject({ AnonPages: 65536, PageTables: 136 });
    expect(mem(r, 'touch').processes.p!.VmPTE).toBe(136);
    expect(mem(r, 'small')).toMatchObject({ PageTables: 140, AnonPages: 65540 });
    // munmap frees the 32 PTE tables of the big region; the PMD and PUD tables stay for "small"
    expect(ctr(r, 'unmap', 'pgtable_free')).toBe(32);
    expect(mem(r, 'unmap')).toMatchObject({ PageTables: 12, AnonPages: 4, MemUsed: 4 });
  });

  it('a read touch with a 2 MiB stride allocates the same tables but no pages', () => {
    const r = run({
      name: 'stride',
      steps: [
        ...spawn,
        { op: 'mmap', pid: 'p', name: 'big', size: '64MiB' },
        { op: 'touch', pid: 'p', region: 'big', access: 'read', stride: '2MiB', phase: 't' },
      ],
    });
    expect(ctrs(r, 't', ['pgfault', 'pgalloc'])).toEqual({ pgfault: 32, pgalloc: 0 });
    expect(mem(r, 't')).toMatchObject({ PageTables: 136, AnonPages: 0 });
  });

  it('kernel API: a fresh page is exclusive, mapped once, and referenced by its PTE and the LRU batch', () => {
    const sys = createSystem({ hardware: new FlatHardware(1) });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 2, 'buf');
    userAccess(k, p.main, vma.start, false, 0);
    expect(k.translate(p.mm, vma.start, false)).toBe(ZERO_PFN);
    expect(k.translate(p.mm, vma.start, true)).toBe(-1); // the zero page is mapped read-only
    userAccess(k, p.main, vma.start + 1, true, 0xabc);
    const pfn = k.translate(p.mm, vma.start + 1, true);
    expect(pfn).toBeGreaterThan(0);
    expect(k.f.data[pfn]).toBe(0xabc);
    expect(k.f.mapcount[pfn]).toBe(1);
    expect(k.f.ref[pfn]).toBe(2); // the mapping + this CPU's lru_add batch
    expect(k.f.flags[pfn]! & PG.anonExclusive).toBe(PG.anonExclusive);
    expect(k.f.flags[pfn]! & PG.lru).toBe(0);
    k.lruAddDrain(0);
    expect(k.f.ref[pfn]).toBe(1);
    expect(k.f.flags[pfn]! & PG.lru).toBe(PG.lru);
    userAccess(k, p.main, vma.start + 1, false, 0);
    expect(k.lastValue).toBe(0xabc);
  });
});
