import { describe, expect, it } from 'vitest';
import {
  forkProcess,
  madvise,
  meminfo,
  mmapAnon,
  mprotect,
  mremapMove,
  munmap,
  pinUserPages,
  readPin,
  unpinUserPages,
  PTE,
  PTRS_PER_TABLE,
  userAccess,
  type Kernel,
  type Process,
} from '@mmsim/core';
import { cowSystem, exit, invariants, pteTables } from './helpers.js';

const T = PTRS_PER_TABLE;

function fill(k: Kernel, p: Process, start: number, n: number, base: number) {
  for (let i = 0; i < n; i++) userAccess(k, p.main, start + i, true, base + i);
}
function read(k: Kernel, p: Process, vpn: number): number {
  userAccess(k, p.main, vpn, false, 0);
  return k.lastValue;
}
function get(sys: ReturnType<typeof cowSystem>['sys'], n: string) {
  return sys.stats.get(n);
}

function setup(tables = 2, opts = {}) {
  const env = cowSystem(opts);
  const { k } = env;
  const p = env.k.spawn('p', 0);
  const vma = mmapAnon(k, p.mm, tables * T, 'buf');
  fill(k, p, vma.start, tables * T, 1000);
  return { ...env, p, vma, s: vma.start };
}

function finish(k: Kernel, procs: Process[]) {
  for (const q of procs) if (q.alive) exit(k, q);
  k.lruAddDrainAll();
  const m = meminfo(k);
  expect(m.PageTables).toBe(0);
  expect(m.AnonPages).toBe(0);
  expect(m.MemUsed).toBe(0);
  expect(k.swap.used).toBe(0);
  expect(k.pt.live).toBe(0);
}

describe('isolation', () => {
  it('a write by either process is never visible to the other (both orders, every table)', () => {
    const { k, p, s } = setup(3);
    const c = forkProcess(k, p, 'c', 1);
    userAccess(k, p.main, s + 1, true, 11); // parent first in table 0
    userAccess(k, c.main, s + T + 1, true, 22); // child first in table 1
    userAccess(k, c.main, s + 1, true, 33);
    userAccess(k, p.main, s + T + 1, true, 44);
    expect([read(k, p, s + 1), read(k, c, s + 1)]).toEqual([11, 33]);
    expect([read(k, p, s + T + 1), read(k, c, s + T + 1)]).toEqual([44, 22]);
    expect([read(k, p, s + 2 * T + 1), read(k, c, s + 2 * T + 1)]).toEqual([1000 + 2 * T + 1, 1000 + 2 * T + 1]);
    // grandchild of the child shares the child's tables (refcount 3 on table 2)
    const g = forkProcess(k, c, 'g', 0);
    const t2 = pteTables(k, p.mm)[2]![1];
    expect(k.pt.refcount[t2]).toBe(3);
    userAccess(k, g.main, s + 2 * T, true, 55);
    expect([read(k, p, s + 2 * T), read(k, c, s + 2 * T), read(k, g, s + 2 * T)]).toEqual([
      1000 + 2 * T,
      1000 + 2 * T,
      55,
    ]);
    expect(invariants(k)).toEqual([]);
    finish(k, [p, c, g]);
  });

  it('the owner exiting first hands the table, its RSS and its pgtables charge to the child', () => {
    const { k, p, s, sys } = setup(2);
    const c = forkProcess(k, p, 'c', 1);
    expect(meminfo(k).processes.c!.VmRSS).toBe(0);
    exit(k, p);
    expect(get(sys, 'cow_pte_free')).toBe(2);
    const m = meminfo(k);
    expect(m.processes.c!.VmRSS).toBe(2 * T * 4);
    expect(m.processes.c!.VmPTE).toBe(16);
    expect(m.PageTables).toBe(16);
    expect(invariants(k)).toEqual([]);
    userAccess(k, c.main, s, true, 1);
    expect(get(sys, 'cow_pte_reuse')).toBe(1);
    expect(get(sys, 'cow_copy')).toBe(0); // the pages were never shared: written in place
    expect(read(k, c, s + 1)).toBe(1001);
    finish(k, [c]);
  });
});

describe('swap', () => {
  it('MADV_PAGEOUT of pages in a shared table swaps them out for every user; both swap them back in', () => {
    const { k, p, s, sys } = setup(1);
    const c = forkProcess(k, p, 'c', 1);
    madvise(k, c.mm, s, s + 8, 'pageout');
    expect(get(sys, 'pswpout')).toBe(8);
    expect(get(sys, 'cow_pte_break')).toBe(0); // modified in place: the table stays shared
    const t = pteTables(k, p.mm)[0]![1];
    expect(k.pt.refcount[t]).toBe(2);
    expect(k.pt.fl[t * T]! & PTE.swap).toBe(PTE.swap);
    let m = meminfo(k);
    expect(m.processes.p!.VmSwap).toBe(32); // the owner holds the swap entries
    expect(m.processes.c!.VmSwap).toBe(0);
    expect(m.processes.p!.VmRSS).toBe((T - 8) * 4);
    expect(invariants(k)).toEqual([]);
    // the child reads a swapped page: its fault breaks the table (swap_duplicate), swaps in
    expect(read(k, c, s + 3)).toBe(1003);
    expect(get(sys, 'cow_pte_break')).toBe(1);
    expect(invariants(k)).toEqual([]);
    userAccess(k, c.main, s + 4, true, 9);
    expect(read(k, p, s + 4)).toBe(1004);
    expect(read(k, p, s + 3)).toBe(1003);
    userAccess(k, p.main, s + 3, true, 10);
    expect(read(k, c, s + 3)).toBe(1003);
    expect(read(k, c, s + 4)).toBe(9);
    m = meminfo(k);
    expect(invariants(k)).toEqual([]);
    finish(k, [p, c]);
  });

  it('reclaim through a non-owner keeps the RSS with the owner', () => {
    const { k, p, s } = setup(1);
    const c = forkProcess(k, p, 'c', 1);
    exit(k, p); // c owns it now, nobody else shares: make a three-way share again
    const g = forkProcess(k, c, 'g', 0);
    const h = forkProcess(k, c, 'h', 1);
    madvise(k, h.mm, s, s + T, 'pageout');
    expect(invariants(k)).toEqual([]);
    expect(meminfo(k).processes.c!.VmSwap).toBe(T * 4);
    expect(read(k, g, s + 7)).toBe(1007);
    expect(read(k, h, s + 8)).toBe(1008);
    expect(invariants(k)).toEqual([]);
    finish(k, [c, g, h]);
  });
});

describe('GUP pins', () => {
  it('a pin taken before fork keeps its table private (copied), the other tables are shared', () => {
    const { k, p, s, sys } = setup(3);
    const pin = pinUserPages(k, p.mm, s + T + 5, s + T + 6, true, true, 'x');
    const c = forkProcess(k, p, 'c', 1);
    expect(get(sys, 'cow_pte_share')).toBe(2);
    expect(get(sys, 'fork_pte_copy')).toBe(T);
    userAccess(k, p.main, s + T + 5, true, 77);
    expect(readPin(k, pin)).toEqual([77]);
    expect(read(k, c, s + T + 5)).toBe(1000 + T + 5);
    expect(invariants(k)).toEqual([]);
    unpinUserPages(k, pin);
    finish(k, [p, c]);
  });

  it('a write pin taken after fork breaks the table; the pin follows the pinner only', () => {
    const { k, p, s, sys } = setup(1);
    const c = forkProcess(k, p, 'c', 1);
    const pin = pinUserPages(k, c.mm, s + 5, s + 6, true, true, 'w');
    expect(get(sys, 'cow_pte_break')).toBe(1);
    userAccess(k, c.main, s + 5, true, 42);
    expect(readPin(k, pin)).toEqual([42]);
    expect(read(k, p, s + 5)).toBe(1005);
    userAccess(k, p.main, s + 5, true, 43);
    expect(readPin(k, pin)).toEqual([42]);
    expect(read(k, c, s + 5)).toBe(42);
    expect(invariants(k)).toEqual([]);
    unpinUserPages(k, pin);
    finish(k, [p, c]);
  });

  it('a read-only pin after fork keeps the old contents after unmap while the other process writes (vmsplice-like)', () => {
    const { k, p, s } = setup(1);
    const c = forkProcess(k, p, 'c', 1);
    const pin = pinUserPages(k, c.mm, s + 9, s + 10, false, false, 'r');
    munmap(k, c.mm, s, s + T);
    userAccess(k, p.main, s + 9, true, 5);
    expect(readPin(k, pin)).toEqual([1009]);
    expect(read(k, p, s + 9)).toBe(5);
    expect(invariants(k)).toEqual([]);
    unpinUserPages(k, pin);
    finish(k, [p, c]);
  });

  it('the parent pinning after fork keeps seeing its own writes through the pin', () => {
    const { k, p, s } = setup(1);
    const c = forkProcess(k, p, 'c', 1);
    const pin = pinUserPages(k, p.mm, s + 2, s + 3, false, true, 'r');
    userAccess(k, p.main, s + 2, true, 6);
    expect(readPin(k, pin)).toEqual([6]);
    userAccess(k, c.main, s + 2, true, 7);
    expect(readPin(k, pin)).toEqual([6]);
    expect(invariants(k)).toEqual([]);
    unpinUserPages(k, pin);
    finish(k, [p, c]);
  });
});

describe('munmap, mprotect, madvise, mremap on shared tables', () => {
  it('munmap of part of a shared table breaks it; munmap of whole tables drops the reference', () => {
    const { k, p, s, sys } = setup(3);
    const c = forkProcess(k, p, 'c', 1);
    munmap(k, c.mm, s + 10, s + 20);
    expect(get(sys, 'cow_pte_break')).toBe(1);
    expect(get(sys, 'cow_pte_free')).toBe(0);
    expect(read(k, p, s + 15)).toBe(1015);
    expect(invariants(k)).toEqual([]);
    munmap(k, c.mm, s + T, s + 3 * T);
    expect(get(sys, 'cow_pte_free')).toBe(2);
    expect(get(sys, 'cow_pte_break')).toBe(1);
    expect(invariants(k)).toEqual([]);
    expect(read(k, p, s + 2 * T + 3)).toBe(1000 + 2 * T + 3);
    expect(read(k, c, s + 21)).toBe(1021);
    expect(() => read(k, c, s + 15)).toThrow(/segmentation fault/);
    finish(k, [p, c]);
  });

  it('munmap by the owner of whole shared tables hands them to the child', () => {
    const { k, p, s } = setup(2);
    const c = forkProcess(k, p, 'c', 1);
    munmap(k, p.mm, s, s + 2 * T);
    expect(meminfo(k).processes.c!.VmRSS).toBe(2 * T * 4);
    expect(meminfo(k).processes.p!.VmRSS).toBe(0);
    expect(invariants(k)).toEqual([]);
    expect(read(k, c, s + T)).toBe(1000 + T);
    finish(k, [p, c]);
  });

  it('mprotect: read-only needs no change (table stays shared), PROT_NONE breaks it', () => {
    const { k, p, s, sys } = setup(2);
    const c = forkProcess(k, p, 'c', 1);
    mprotect(k, c.mm, s, s + T, 'r');
    expect(invariants(k)).toEqual([]);
    mprotect(k, c.mm, s, s + T, 'none');
    expect(get(sys, 'cow_pte_break')).toBe(1);
    expect(() => read(k, c, s)).toThrow(/segmentation fault/);
    expect(read(k, p, s)).toBe(1000);
    mprotect(k, c.mm, s, s + T, 'rw');
    userAccess(k, c.main, s, true, 3);
    expect(read(k, p, s)).toBe(1000);
    expect(read(k, c, s)).toBe(3);
    expect(invariants(k)).toEqual([]);
    finish(k, [p, c]);
  });

  it("MADV_DONTNEED of a whole shared table drops the caller's reference (no break) and zeroes only the caller", () => {
    const { k, p, s, sys } = setup(1);
    const c = forkProcess(k, p, 'c', 1);
    madvise(k, c.mm, s, s + T, 'dontneed');
    expect(get(sys, 'cow_pte_break')).toBe(0);
    expect(read(k, c, s + 1)).toBe(0);
    expect(read(k, p, s + 1)).toBe(1001);
    expect(invariants(k)).toEqual([]);
    finish(k, [p, c]);
  });

  it('MADV_DONTNEED of part of a shared table breaks it and zeroes only the caller', () => {
    const { k, p, s, sys } = setup(1);
    const c = forkProcess(k, p, 'c', 1);
    madvise(k, c.mm, s, s + 8, 'dontneed');
    expect(get(sys, 'cow_pte_break')).toBe(1);
    expect(read(k, c, s + 1)).toBe(0);
    expect(read(k, p, s + 1)).toBe(1001);
    expect(invariants(k)).toEqual([]);
    finish(k, [p, c]);
  });

  it('an empty shared table freed by free_pgtables (mremap without PTEs) keeps the accounting exact', () => {
    const { k, p, s, sys } = setup(2);
    madvise(k, p.mm, s, s + T, 'dontneed'); // table 0 stays, empty
    const c = forkProcess(k, p, 'c', 1);
    expect(sys.stats.get('cow_pte_share')).toBe(2);
    const nv = mremapMove(k, p.mm, s, s + T, 'moved'); // no PTE to move: the table is just freed
    expect(invariants(k)).toEqual([]);
    expect(meminfo(k).processes.c!.VmPTE).toBe(12);
    userAccess(k, c.main, s + 1, true, 4);
    userAccess(k, p.main, nv.start + 1, true, 5);
    expect(read(k, c, s + 1)).toBe(4);
    expect(read(k, p, nv.start + 1)).toBe(5);
    expect(invariants(k)).toEqual([]);
    finish(k, [p, c]);
  });

  it('mremap of a shared range moves a private copy', () => {
    const { k, p, s } = setup(1);
    const c = forkProcess(k, p, 'c', 1);
    const nv = mremapMove(k, c.mm, s, s + T, 'moved');
    expect(read(k, c, nv.start + 4)).toBe(1004);
    userAccess(k, c.main, nv.start + 4, true, 1);
    expect(read(k, p, s + 4)).toBe(1004);
    expect(invariants(k)).toEqual([]);
    finish(k, [p, c]);
  });
});

describe('large folios (mTHP, PTE-mapped)', () => {
  it('64 KiB folios in a shared table: breaks take one reference per PTE, COW copies stay correct', () => {
    const { k, sys } = cowSystem();
    sys.hooks.fault.anonOrders.tap({ name: 'test-mthp', stage: -500 }, () => (1 << 4) | 1);
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 2 * T, 'buf');
    const s = vma.start;
    fill(k, p, s, 2 * T, 100);
    const pfn = k.translate(p.mm, s, false);
    expect(k.f.order[pfn]).toBe(4);
    const c = forkProcess(k, p, 'c', 1);
    expect(sys.stats.get('cow_pte_share')).toBe(2);
    userAccess(k, c.main, s + 3, true, 1);
    // the break took one reference and one mapping per PTE (16 + 16), the COW copy gave one back
    expect(k.f.largeMapcount[pfn]).toBe(31);
    expect(k.f.ref[pfn]).toBe(31);
    expect(read(k, p, s + 3)).toBe(103);
    userAccess(k, p.main, s + T + 3, true, 2);
    expect(read(k, c, s + T + 3)).toBe(100 + T + 3);
    expect(read(k, c, s + 3)).toBe(1);
    expect(invariants(k)).toEqual([]);
    finish(k, [p, c]);
  });
});
