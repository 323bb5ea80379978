import { describe, expect, it } from 'vitest';
import {
  forkProcess,
  meminfo,
  mmapAnon,
  PG,
  PTE,
  PTRS_PER_TABLE,
  userAccess,
  type Kernel,
  type Process,
} from '@mmsim/core';
import { cowSystem, exit, invariants, pteTables } from './helpers.js';

const T = PTRS_PER_TABLE;

function counters(sys: ReturnType<typeof cowSystem>['sys']) {
  const s = sys.stats;
  return {
    share: s.get('cow_pte_share'),
    brk: s.get('cow_pte_break'),
    reuse: s.get('cow_pte_reuse'),
    free: s.get('cow_pte_free'),
    cow: s.get('cow_copy'),
  };
}

function fill(k: Kernel, p: Process, start: number, n: number, base: number) {
  for (let i = 0; i < n; i++) userAccess(k, p.main, start + i, true, base + i);
}
function read(k: Kernel, p: Process, vpn: number): number {
  userAccess(k, p.main, vpn, false, 0);
  return k.lastValue;
}

describe('fork → child write → parent write → exits', () => {
  it('shares, breaks, reuses and frees with exact counts and accounting after every step', () => {
    const { sys, k } = cowSystem();
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 4 * T, 'buf'); // 2 MiB-aligned: exactly 4 PTE tables
    expect(vma.start % T).toBe(0);
    fill(k, p, vma.start, 4 * T, 1000);
    k.lruAddDrainAll();
    const m0 = meminfo(k);
    expect(m0.PageTables).toBe(4 * (4 + 2)); // 4 PTE tables + PMD + PUD
    expect(m0.processes.p!.VmPTE).toBe(24);
    expect(m0.processes.p!.VmRSS).toBe(4 * 4 * T);

    const c = forkProcess(k, p, 'c', 1);
    expect(counters(sys)).toEqual({ share: 4, brk: 0, reuse: 0, free: 0, cow: 0 });
    const m1 = meminfo(k);
    expect(m1.PageTables).toBe(m0.PageTables + 8); // the child's PUD and PMD only
    expect(m1.processes.c!.VmPTE).toBe(8);
    expect(m1.processes.p!.VmPTE).toBe(24); // the owner keeps the charge of the shared tables
    expect(m1.processes.c!.VmRSS).toBe(0); // owner model: shared tables count for the owner
    expect(m1.processes.p!.VmRSS).toBe(4 * 4 * T);
    expect(m1.AnonPages).toBe(m0.AnonPages);
    const tp = pteTables(k, p.mm);
    const tc = pteTables(k, c.mm);
    expect(tc.map((x) => x[1])).toEqual(tp.map((x) => x[1])); // the same tables
    for (const [, t, fl] of [...tp, ...tc]) {
      expect(k.pt.refcount[t]).toBe(2);
      expect(fl & PTE.write).toBe(0);
    }
    // pages untouched: refcount 1, mapcount 1, still exclusive
    const pfn0 = k.translate(p.mm, vma.start, false);
    expect(k.f.ref[pfn0]).toBe(1);
    expect(k.f.mapcount[pfn0]).toBe(1);
    expect(k.f.flags[pfn0]! & PG.anonExclusive).toBe(PG.anonExclusive);
    expect(k.translate(p.mm, vma.start, true)).toBe(-1); // write-protected through the PMD
    expect(invariants(k)).toEqual([]);

    // child writes one page of table 0: one break (512 entries), one COW copy
    userAccess(k, c.main, vma.start + 5, true, 7);
    expect(counters(sys)).toEqual({ share: 4, brk: 1, reuse: 0, free: 0, cow: 1 });
    const m2 = meminfo(k);
    expect(m2.PageTables).toBe(m1.PageTables + 4);
    expect(m2.processes.c!.VmPTE).toBe(12);
    expect(m2.processes.c!.VmRSS).toBe(4 * T); // its private table maps 512 pages
    expect(m2.processes.p!.VmRSS).toBe(4 * 4 * T);
    expect(k.f.mapcount[pfn0]).toBe(2);
    expect(k.f.ref[pfn0]).toBe(2);
    expect(k.f.flags[pfn0]! & PG.anonExclusive).toBe(0);
    expect(read(k, c, vma.start + 5)).toBe(7);
    expect(read(k, p, vma.start + 5)).toBe(1005);
    expect(invariants(k)).toEqual([]);

    // parent writes the same table: refcount 1 → reuse in place, then a normal COW copy
    userAccess(k, p.main, vma.start + 6, true, 8);
    expect(counters(sys)).toEqual({ share: 4, brk: 1, reuse: 1, free: 0, cow: 2 });
    expect(read(k, c, vma.start + 6)).toBe(1006);
    expect(read(k, p, vma.start + 6)).toBe(8);
    // parent writes table 1: shared by two → the parent breaks away; the child becomes owner
    userAccess(k, p.main, vma.start + T, true, 9);
    expect(counters(sys)).toEqual({ share: 4, brk: 2, reuse: 1, free: 0, cow: 3 });
    const m3 = meminfo(k);
    expect(m3.processes.p!.VmPTE).toBe(24);
    expect(m3.processes.c!.VmPTE).toBe(16);
    expect(m3.processes.c!.VmRSS).toBe(2 * 4 * T);
    expect(read(k, c, vma.start + T)).toBe(1000 + T);
    expect(invariants(k)).toEqual([]);

    // child exits: its two shared tables (2, 3) are dropped without a copy; table 1 (its own
    // now, refcount 1, PMD still read-only) is reused in place and then zapped
    exit(k, c);
    expect(counters(sys)).toEqual({ share: 4, brk: 2, reuse: 2, free: 2, cow: 3 });
    expect(invariants(k)).toEqual([]);
    const m4 = meminfo(k);
    expect(m4.PageTables).toBe(24);
    // the parent writes tables 2 and 3: reuse, and no COW copy (the pages were never shared)
    userAccess(k, p.main, vma.start + 2 * T, true, 1);
    userAccess(k, p.main, vma.start + 3 * T, true, 1);
    expect(counters(sys)).toEqual({ share: 4, brk: 2, reuse: 4, free: 2, cow: 3 });
    expect(invariants(k)).toEqual([]);
    exit(k, p);
    k.lruAddDrainAll();
    const m5 = meminfo(k);
    expect(m5.PageTables).toBe(0);
    expect(m5.AnonPages).toBe(0);
    expect(m5.MemUsed).toBe(0);
    expect(k.pt.live).toBe(0);
  });
});
