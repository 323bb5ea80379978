/**
 * PMD-mapped transparent huge pages: the anonymous paths of mm/huge_memory.c (and the
 * MADV_COLLAPSE part of mm/khugepaged.c), plus the large-folio helpers the PTE paths of
 * fault.ts use (a CoW of a same-order range, reuse of a whole PTE range).
 *
 * Model:
 *  - A PMD leaf is an entry of a level-1 table with `PTE.present | PTE.huge`; its value is the
 *    head PFN of an order-9 folio (or HUGE_ZERO_PFN).
 *  - Rmap: `entireMapcount` counts PMD mappings, `largeMapcount` counts every PTE mapping plus
 *    one per PMD mapping (folio_large_mapcount()), the refcount holds one reference per PMD
 *    mapping and one per PTE mapping. NR_ANON_THPS (AnonHugePages) counts the folio's pages
 *    while its entire mapcount is positive; NR_ANON_MAPPED counts a page while it is mapped by
 *    a PTE or the folio by a PMD.
 *  - PageAnonExclusive of a PMD mapping is kept on every page of the folio (the kernel keeps it
 *    on the head page and copies it to the PTEs on a split); the head page's bit decides.
 *  - Like x86, every PMD mapping has a PTE table deposited with it (pgtable_trans_huge_deposit)
 *    that a split uses; deposited tables count in PageTables / VmPTE.
 */
import type { FaultKind } from '../api/contexts.js';
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { HUGE_ZERO_PFN, ZERO_PFN } from '../mem/phys-mem.js';
import { C } from '../stats/counters.js';
import { HPAGE_PMD_NR, PMD_ORDER, PTRS_PER_TABLE, tableIndex } from '../units.js';
import type { MmGather } from './tlb-gather.js';
import { pteTable, tableAt } from './pgwalk.js';
import { addNewAnonRmap, anonVmaPrepare, removeRmapPtes } from './rmap.js';
import { isolateLru, lruAdd, lruAddDrainAll, lruBatchAdd } from './lru-batch.js';
import { folioFreeSwap, swapFree } from './swap-cache.js';
import { flush } from './tlb-flush.js';

/** Stride of a PMD-sized TLB flush (flush_pmd_tlb_range). */
export const PMD_SHIFT = 21;

interface ThpState {
  /** PMD slot (table * 512 + index) → the PTE table deposited with that PMD mapping */
  deposited: Map<number, number>;
  hugeZeroAllocated: boolean;
  ids: {
    thp_swpout: number;
    thp_collapse_alloc: number;
    thp_collapse_failed: number;
    cow_copy_pages: number;
    pgreuse_range: number;
  };
}

const states = new WeakMap<Kernel, ThpState>();

/** Per-kernel THP state (deposited tables, counters defined on first use). */
export function thpState(k: Kernel): ThpState {
  let s = states.get(k);
  if (!s) {
    s = {
      deposited: new Map(),
      hugeZeroAllocated: false,
      ids: {
        thp_swpout: k.stats.define('thp_swpout'),
        thp_collapse_alloc: k.stats.define('thp_collapse_alloc'),
        thp_collapse_failed: k.stats.define('thp_collapse_failed'),
        cow_copy_pages: k.stats.define('cow_copy_pages'),
        pgreuse_range: k.stats.define('pgreuse_range'),
      },
    };
    states.set(k, s);
  }
  return s;
}

/** Global slot of the PMD entry covering vpn when it is a huge leaf, else -1. */
export function hugePmdSlot(k: Kernel, mm: MmStruct, vpn: number): number {
  const pmd = tableAt(k, mm, vpn, 1, false);
  if (pmd < 0) return -1;
  const kk = pmd * PTRS_PER_TABLE + tableIndex(vpn, 1);
  const fl = k.pt.fl[kk]!;
  return (fl & PTE.huge) !== 0 && (fl & PTE.present) !== 0 ? kk : -1;
}

/** Whether a level-1 table id is what `vmf.table` holds: a PMD-level fault (policies test this). */
export function isPmdFault(k: Kernel, table: number): boolean {
  return table >= 0 && k.pt.level[table] === 1;
}

/** follow_huge_pmd() for GUP: the PMD leaf's flags and the PFN of vpn, or null. */
export function followHugePmd(k: Kernel, mm: MmStruct, vpn: number): { fl: number; pfn: number; slot: number } | null {
  const kk = hugePmdSlot(k, mm, vpn);
  if (kk < 0) return null;
  return { fl: k.pt.fl[kk]!, pfn: k.pt.val[kk]! + (vpn & (HPAGE_PMD_NR - 1)), slot: kk };
}

/* ------------------------------------------------------------------ rmap helpers */

/** folio_add_new_anon_rmap(RMAP_LEVEL_PMD): a fresh THP, exclusive, mapped by one PMD. */
function addNewAnonRmapPmd(k: Kernel, head: number, mm: MmStruct, vma: Vma, start: number): void {
  const f = k.f;
  f.flags[head]! |= PG.anon;
  f.anonVma[head] = anonVmaPrepare(k, mm, vma);
  f.index[head] = vma.pgoffOf(start);
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    f.mapcount[head + i] = 0;
    f.flags[head + i]! |= PG.anonExclusive;
  }
  f.entireMapcount[head] = 1;
  f.largeMapcount[head] = 1;
  k.nrAnonThp += HPAGE_PMD_NR;
  k.nrAnonMapped += HPAGE_PMD_NR;
  mm.rssAnon += HPAGE_PMD_NR;
}

/** folio_add_anon_rmap_pmd() / folio_dup_anon_rmap_pmd(): one more PMD mapping. */
function addRmapPmd(k: Kernel, head: number, mm: MmStruct): void {
  const f = k.f;
  if (f.entireMapcount[head]!++ === 0) {
    k.nrAnonThp += HPAGE_PMD_NR;
    let c = 0;
    for (let i = 0; i < HPAGE_PMD_NR; i++) if (f.mapcount[head + i] === 0) c++;
    k.nrAnonMapped += c;
  }
  f.largeMapcount[head]!++;
  mm.rssAnon += HPAGE_PMD_NR;
}

/** folio_remove_rmap_pmd(): drop a PMD mapping; a folio left partially PTE-mapped is queued for deferred split. */
function removeRmapPmd(k: Kernel, head: number, mm: MmStruct): void {
  const f = k.f;
  f.largeMapcount[head]!--;
  mm.rssAnon -= HPAGE_PMD_NR;
  if (--f.entireMapcount[head]! === 0) {
    k.nrAnonThp -= HPAGE_PMD_NR;
    let c = 0;
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      if (f.mapcount[head + i] === 0) {
        c++;
        f.flags[head + i]! &= ~PG.anonExclusive; // unmapped: no longer anyone's exclusive page
      }
    }
    k.nrAnonMapped -= c;
    if (c > 0 && c < HPAGE_PMD_NR && (f.flags[head]! & PG.partiallyMapped) === 0) {
      f.flags[head]! |= PG.partiallyMapped;
      k.stats.v[C.thp_deferred_split_page]!++;
    }
  } else if (f.entireMapcount[head]! < 0) throw new SimError(`entire mapcount underflow on folio ${head}`, 'internal');
}

function setExclusive(k: Kernel, head: number, on: boolean): void {
  const f = k.f;
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    if (on) f.flags[head + i]! |= PG.anonExclusive;
    else f.flags[head + i]! &= ~PG.anonExclusive;
  }
}

function deposit(k: Kernel, mm: MmStruct, slot: number): void {
  thpState(k).deposited.set(slot, k.allocTable(mm, 0));
}

/** pgtable_trans_huge_withdraw() */
function withdraw(k: Kernel, mm: MmStruct, slot: number): number {
  const s = thpState(k);
  const t = s.deposited.get(slot);
  s.deposited.delete(slot);
  return t ?? k.allocTable(mm, 0);
}

/* ------------------------------------------------------------------ faults */

/**
 * The PMD level of __handle_mm_fault(): a fault on a huge PMD (do_huge_pmd_wp_page / spurious),
 * or on a none PMD when order 9 is allowed and the aligned 2 MiB lies inside the VMA
 * (do_huge_pmd_anonymous_page). Returns a FaultResult (0 = OK, 3 = SEGV), or -1 to continue on
 * the PTE level (no THP, a fallback, or a split).
 */
export function hugePmdFault(k: Kernel, mm: MmStruct, vma: Vma, vpn: number, write: boolean, unshare: boolean): number {
  const pmd = tableAt(k, mm, vpn, 1, true);
  if (pmd < 0) return -1;
  const i = tableIndex(vpn, 1);
  const kk = pmd * PTRS_PER_TABLE + i;
  const fl = k.pt.fl[kk]!;
  const vmf = k.vmf;
  if ((fl & PTE.huge) !== 0) {
    if ((fl & PTE.protNone) !== 0) return 3;
    vmf.table = pmd;
    vmf.index = i;
    if ((write || unshare) && (fl & PTE.write) === 0) return doHugePmdWpPage(k, mm, vma, vpn, pmd, i);
    // huge_pmd_set_accessed(): a spurious fault
    k.pt.fl[kk] = fl | PTE.young | (write ? PTE.dirty : 0);
    done(k, mm, vpn, write, 'spurious', PMD_ORDER);
    return 0;
  }
  if (fl !== 0) return -1;
  if ((vma.flags & VM.uffdMissing) !== 0) return -1;
  const start = vpn - (vpn & (HPAGE_PMD_NR - 1));
  if (start < vma.start || start + HPAGE_PMD_NR > vma.end) return -1;
  // thp_vma_allowable_orders(vma, TVA_PAGEFAULT, PMD_ORDER)
  const orders = k.hooks.fault.anonOrders.call(1, vmf);
  if ((orders & (1 << PMD_ORDER)) === 0) return -1;
  return doHugePmdAnonymousPage(k, mm, vma, vpn, write, pmd, i);
}

function done(k: Kernel, mm: MmStruct, vpn: number, write: boolean, kind: FaultKind, order: number): void {
  if (k.hooks.fault.handled.isUsed()) k.hooks.fault.handled.call({ mm, vpn, cpu: k.cpu, write, kind, order });
}

/** do_huge_pmd_anonymous_page(): the huge zero page on a read, a fresh THP on a write. */
function doHugePmdAnonymousPage(k: Kernel, mm: MmStruct, vma: Vma, vpn: number, write: boolean, pmd: number, i: number): number {
  const start = vpn - (vpn & (HPAGE_PMD_NR - 1));
  const slot = pmd * PTRS_PER_TABLE + i;
  const s = thpState(k);
  if (!write) {
    // set_huge_zero_folio(): read-only PMD of the huge zero page, with a deposited table
    if (!s.hugeZeroAllocated) {
      s.hugeZeroAllocated = true;
      k.stats.v[C.thp_zero_page_alloc]!++;
    }
    anonVmaPrepare(k, mm, vma);
    deposit(k, mm, slot);
    k.pt.set(pmd, i, HUGE_ZERO_PFN, PTE.present | PTE.huge | PTE.young);
    k.charge(k.hw.costs.pteUpdate);
    k.hooks.pte.afterSet.call(mm, start, start + HPAGE_PMD_NR);
    done(k, mm, vpn, false, 'huge-zero', PMD_ORDER);
    return 0;
  }
  let head: number;
  try {
    head = k.allocFolio(PMD_ORDER, true);
  } catch (e) {
    if (e instanceof SimError && e.code === 'enomem') {
      k.stats.v[C.thp_fault_fallback]!++;
      return -1;
    }
    throw e;
  }
  mapNewThp(k, mm, vma, head, start, pmd, i, true);
  k.stats.v[C.thp_fault_alloc]!++;
  k.stats.v[k.mthpFaultAlloc[PMD_ORDER]!]!++;
  done(k, mm, vpn, true, 'huge', PMD_ORDER);
  return 0;
}

/** map_anon_folio_pmd(): rmap, LRU, deposit (when `depositTable`), the PMD entry. */
function mapNewThp(k: Kernel, mm: MmStruct, vma: Vma, head: number, start: number, pmd: number, i: number, depositTable: boolean): void {
  addNewAnonRmapPmd(k, head, mm, vma, start);
  lruAdd(k, head);
  if (depositTable) deposit(k, mm, pmd * PTRS_PER_TABLE + i);
  const w = (vma.flags & VM.write) !== 0 ? PTE.write | PTE.dirty : 0;
  k.pt.set(pmd, i, head, PTE.present | PTE.huge | PTE.young | w);
  k.charge(k.hw.costs.pteUpdate);
  k.hooks.pte.afterSet.call(mm, start, start + HPAGE_PMD_NR);
}

/**
 * do_huge_pmd_wp_page(): a write (or unshare) fault on a write-protected PMD.
 *  - huge zero page: `fault.cowOrder` 9 allocates a THP (do_huge_zero_wp_pmd, v6.14+); else
 *    split into PTEs of the zero page and fall back (one page at a time).
 *  - an anonymous THP: `fault.wpReuse` (vmf.table is the PMD table) 'reuse' maps the whole
 *    PMD writable; 'copy' splits the PMD and falls back to do_wp_page() on the PTE (mainline
 *    since v5.8, 3917c80280c9 "thp: change CoW semantics for anon-THP").
 */
function doHugePmdWpPage(k: Kernel, mm: MmStruct, vma: Vma, vpn: number, pmd: number, i: number): number {
  const vmf = k.vmf;
  const kk = pmd * PTRS_PER_TABLE + i;
  const val = k.pt.val[kk]!;
  const start = vpn - (vpn & (HPAGE_PMD_NR - 1));
  vmf.pfn = val + (vpn & (HPAGE_PMD_NR - 1));
  vmf.head = val;
  if (val === HUGE_ZERO_PFN) {
    if (vmf.unshare) return 0;
    const order = k.hooks.fault.cowOrder.call(0, vmf);
    if (order === PMD_ORDER) {
      let head = -1;
      try {
        head = k.allocFolio(PMD_ORDER, true);
      } catch (e) {
        if (!(e instanceof SimError && e.code === 'enomem')) throw e;
        k.stats.v[C.thp_fault_fallback]!++;
      }
      if (head >= 0) {
        // pmdp_huge_clear_flush(), then map the new folio; the deposited table stays
        k.hooks.pte.beforeChange.call(mm, start, start + HPAGE_PMD_NR, 'do_huge_zero_wp_pmd');
        k.pt.clear(pmd, i);
        flush(k, 'range', mm, start, start + HPAGE_PMD_NR, 'do_huge_zero_wp_pmd', false, false, PMD_SHIFT);
        mapNewThp(k, mm, vma, head, start, pmd, i, false);
        k.stats.v[C.thp_fault_alloc]!++;
        k.stats.v[k.mthpFaultAlloc[PMD_ORDER]!]!++;
        k.stats.v[C.cow_zero]!++;
        done(k, mm, vpn, true, 'wp-zero', PMD_ORDER);
        return 0;
      }
    }
    splitHugePmd(k, mm, pmd, i, start, 'do_huge_pmd_wp_page');
    return -1;
  }
  const f = k.f;
  if (vmf.unshare && (f.flags[val]! & PG.anonExclusive) !== 0) return 0;
  const decision = k.hooks.fault.wpReuse.call(vmf) ?? defaultPmdReuse(k, val);
  if (decision === 'reuse') {
    setExclusive(k, val, true);
    const fl = k.pt.fl[kk]!;
    if (vmf.unshare) k.pt.fl[kk] = fl | PTE.young;
    else {
      k.hooks.pte.beforeChange.call(mm, start, start + HPAGE_PMD_NR, 'wp_page_reuse');
      k.pt.fl[kk] = fl | PTE.young | PTE.dirty | PTE.write;
      k.hooks.pte.afterSet.call(mm, start, start + HPAGE_PMD_NR);
    }
    k.stats.v[C.pgreuse]!++;
    k.charge(k.hw.costs.pteUpdate);
    done(k, mm, vpn, vmf.write, 'wp-reuse', PMD_ORDER);
    return 0;
  }
  splitHugePmd(k, mm, pmd, i, start, 'do_huge_pmd_wp_page');
  return -1;
}

/** Mainline's PMD rule: PageAnonExclusive, or the folio's only reference is this PMD. */
export function defaultPmdReuse(k: Kernel, head: number): 'reuse' | 'copy' {
  const f = k.f;
  if ((f.flags[head]! & PG.anonExclusive) !== 0) return 'reuse';
  if ((f.flags[head]! & PG.swapcache) !== 0) folioFreeSwap(k, head);
  return f.ref[head] === 1 && f.entireMapcount[head] === 1 ? 'reuse' : 'copy';
}

/* ------------------------------------------------------------------ split */

/**
 * __split_huge_pmd_locked(): replace the PMD mapping at (pmd, i) by 512 PTEs mapping the same
 * pages (or the small zero page for the huge zero page), using the deposited table. The folio
 * itself stays one order-9 folio (only the mapping is split).
 */
export function splitHugePmd(k: Kernel, mm: MmStruct, pmd: number, i: number, start: number, reason: string): number {
  const pt = k.pt;
  const f = k.f;
  const kk = pmd * PTRS_PER_TABLE + i;
  const fl = pt.fl[kk]!;
  const val = pt.val[kk]!;
  if ((fl & PTE.huge) === 0) throw new SimError('split of a PMD that is not huge', 'internal');
  const t = withdraw(k, mm, kk);
  // pmdp_invalidate(): the PMD goes away (flushed) before the PTE table is installed
  k.hooks.pte.beforeChange.call(mm, start, start + HPAGE_PMD_NR, reason);
  pt.clear(pmd, i);
  flush(k, 'range', mm, start, start + HPAGE_PMD_NR, 'split_huge_pmd', false, false, PMD_SHIFT);
  const keep = fl & (PTE.softDirty | PTE.uffdWp | PTE.protNone | PTE.young | PTE.dirty);
  if (val === HUGE_ZERO_PFN) {
    // __split_huge_zero_page_pmd()
    for (let j = 0; j < HPAGE_PMD_NR; j++) pt.set(t, j, ZERO_PFN, PTE.present | (keep & ~PTE.dirty));
  } else {
    const head = val;
    const w = fl & PTE.write;
    for (let j = 0; j < HPAGE_PMD_NR; j++) {
      pt.set(t, j, head + j, PTE.present | w | keep);
      f.mapcount[head + j]!++;
    }
    // folio_ref_add(HPAGE_PMD_NR - 1); the PTE mappings replace the PMD mapping
    f.ref[head]! += HPAGE_PMD_NR - 1;
    f.largeMapcount[head]! += HPAGE_PMD_NR;
    mm.rssAnon += HPAGE_PMD_NR;
    removeRmapPmd(k, head, mm);
    if ((fl & PTE.dirty) !== 0) f.flags[head]! |= PG.dirty;
  }
  pt.set(pmd, i, t, PTE.present | PTE.write | PTE.table);
  k.charge(k.hw.costs.pteUpdate * HPAGE_PMD_NR);
  k.stats.v[C.thp_split_pmd]!++;
  k.hooks.pte.afterSet.call(mm, start, start + HPAGE_PMD_NR);
  return t;
}

/** __split_huge_pmd() for the PMD covering vpn, if it is huge. Returns whether it split. */
export function splitHugePmdAt(k: Kernel, mm: MmStruct, vpn: number, reason: string): boolean {
  const pmd = tableAt(k, mm, vpn, 1, false);
  if (pmd < 0) return false;
  const i = tableIndex(vpn, 1);
  if ((k.pt.fl[pmd * PTRS_PER_TABLE + i]! & PTE.huge) === 0) return false;
  splitHugePmd(k, mm, pmd, i, vpn - (vpn & (HPAGE_PMD_NR - 1)), reason);
  return true;
}

/* ------------------------------------------------------------------ zap */

/**
 * zap_pmd_range() for a huge PMD covering [v, end): zap_huge_pmd() when the range covers the
 * whole PMD, else split it and let the PTE loop zap the part. Returns true when zapped whole.
 */
export function zapHugePmd(k: Kernel, mm: MmStruct, v: number, end: number, tlb: MmGather, reason: string): boolean {
  const start = v - (v & (HPAGE_PMD_NR - 1));
  if (v !== start || end < start + HPAGE_PMD_NR) {
    splitHugePmdAt(k, mm, v, reason);
    return false;
  }
  const pmd = tableAt(k, mm, v, 1, false);
  const i = tableIndex(v, 1);
  const kk = pmd * PTRS_PER_TABLE + i;
  const fl = k.pt.fl[kk]!;
  const val = k.pt.val[kk]!;
  k.hooks.pte.beforeChange.call(mm, start, start + HPAGE_PMD_NR, reason);
  k.pt.clear(pmd, i);
  k.charge(k.hw.costs.pteUpdate);
  // zap_deposited_table()
  k.freeTable(mm, withdraw(k, mm, kk));
  if (val === HUGE_ZERO_PFN) {
    tlb.addRange(start, HPAGE_PMD_NR);
    return true;
  }
  if ((fl & PTE.dirty) !== 0) k.f.flags[val]! |= PG.dirty;
  removeRmapPmd(k, val, mm);
  tlb.removePage(val, start, HPAGE_PMD_NR);
  return true;
}

/* ------------------------------------------------------------------ fork */

/**
 * copy_huge_pmd(): share the THP with the child (both PMDs write-protected, the pages no
 * longer exclusive, a table deposited for the child), or — when `fork.page` says 'copy'
 * (a maybe-pinned exclusive folio: folio_try_dup_anon_rmap_pmd() fails) — split the parent's
 * PMD and return false so copy_pte_range() copies the PTEs.
 */
export function copyHugePmd(k: Kernel, parent: MmStruct, child: MmStruct, v: number, decide: (pfn: number, head: number) => 'share' | 'copy'): boolean {
  const pmd = tableAt(k, parent, v, 1, false);
  const i = tableIndex(v, 1);
  const kk = pmd * PTRS_PER_TABLE + i;
  const fl = k.pt.fl[kk]!;
  const val = k.pt.val[kk]!;
  const start = v - (v & (HPAGE_PMD_NR - 1));
  const f = k.f;
  if (val !== HUGE_ZERO_PFN && decide(val, val) === 'copy') {
    splitHugePmd(k, parent, pmd, i, start, 'fork');
    return false;
  }
  const dpmd = tableAt(k, child, v, 1, true);
  const dslot = dpmd * PTRS_PER_TABLE + i;
  deposit(k, child, dslot);
  k.stats.v[C.fork_pte_copy]!++;
  k.charge(k.hw.costs.pteCopy);
  if (val === HUGE_ZERO_PFN) {
    k.pt.set(dpmd, i, val, fl & ~PTE.young);
    return true;
  }
  // folio_try_dup_anon_rmap_pmd(): one more PMD mapping, no page exclusive any more
  k.folioGet(val);
  addRmapPmd(k, val, child);
  setExclusive(k, val, false);
  let nfl = fl;
  if ((fl & PTE.write) !== 0) {
    k.hooks.pte.beforeChange.call(parent, start, start + HPAGE_PMD_NR, 'fork_wrprotect');
    nfl = fl & ~PTE.write; // pmdp_set_wrprotect()
    k.pt.fl[kk] = nfl;
    k.hooks.pte.afterSet.call(parent, start, start + HPAGE_PMD_NR);
  }
  k.pt.set(dpmd, i, val, nfl & ~(PTE.young | PTE.uffdWp));
  k.hooks.pte.afterSet.call(child, start, start + HPAGE_PMD_NR);
  return true;
}

/* ------------------------------------------------------------------ mprotect / mremap */

/**
 * change_huge_pmd(): apply `update` to a huge PMD when [v, end) covers it whole (returns the
 * pages changed), else split it (returns -1: continue on the PTEs).
 */
export function changeHugePmd(k: Kernel, mm: MmStruct, v: number, end: number, reason: string, update: (fl: number, pfn: number) => number): number {
  const start = v - (v & (HPAGE_PMD_NR - 1));
  if (v !== start || end < start + HPAGE_PMD_NR) {
    splitHugePmdAt(k, mm, v, reason);
    return -1;
  }
  const pmd = tableAt(k, mm, v, 1, false);
  const kk = pmd * PTRS_PER_TABLE + tableIndex(v, 1);
  const fl = k.pt.fl[kk]!;
  const n = update(fl, k.pt.val[kk]!) | PTE.huge | PTE.present;
  if (n === fl) return 0;
  k.hooks.pte.beforeChange.call(mm, start, start + HPAGE_PMD_NR, reason);
  k.pt.fl[kk] = n;
  k.charge(k.hw.costs.pteUpdate);
  k.hooks.pte.afterSet.call(mm, start, start + HPAGE_PMD_NR);
  return HPAGE_PMD_NR;
}

/**
 * move_huge_pmd(): move a whole PMD mapping (and its deposited table) from `v` to `nv` when
 * both are PMD aligned and the whole PMD moves; else split it (returns false).
 */
export function moveHugePmd(k: Kernel, mm: MmStruct, v: number, end: number, nv: number): boolean {
  const start = v - (v & (HPAGE_PMD_NR - 1));
  if (v !== start || end < start + HPAGE_PMD_NR || (nv & (HPAGE_PMD_NR - 1)) !== 0) {
    splitHugePmdAt(k, mm, v, 'mremap');
    return false;
  }
  const pmd = tableAt(k, mm, v, 1, false);
  const i = tableIndex(v, 1);
  const kk = pmd * PTRS_PER_TABLE + i;
  const dpmd = tableAt(k, mm, nv, 1, true);
  const di = tableIndex(nv, 1);
  if (k.pt.fl[dpmd * PTRS_PER_TABLE + di] !== 0) return false;
  const val = k.pt.val[kk]!;
  const fl = k.pt.fl[kk]!;
  k.hooks.pte.beforeChange.call(mm, v, v + HPAGE_PMD_NR, 'mremap');
  k.pt.clear(pmd, i);
  k.pt.set(dpmd, di, val, fl);
  const s = thpState(k);
  const dep = s.deposited.get(kk);
  s.deposited.delete(kk);
  if (dep !== undefined) s.deposited.set(dpmd * PTRS_PER_TABLE + di, dep);
  k.charge(k.hw.costs.pteUpdate);
  k.hooks.pte.afterSet.call(mm, nv, nv + HPAGE_PMD_NR);
  return true;
}

/* ------------------------------------------------------------------ reclaim */

/**
 * MADV_PAGEOUT / MADV_COLD of a huge PMD (madvise_cold_or_pageout_pte_range): skipped when the
 * folio is mapped more than once; when the range does not cover the PMD whole the PMD is split
 * and the PTE loop continues (the folio is not split: folio splitting is not modelled, so a
 * partially covered large folio is then skipped there). For pageout the THP is swapped out
 * whole: try_to_unmap(TTU_SPLIT_HUGE_PMD) splits the mapping into PTEs first, then the folio
 * gets 512 contiguous swap slots (THP_SWAP, as x86-64 and arm64 do; thp_swpout).
 * Returns the folio head to reclaim, -1 for none, or -2 when the PMD was split (rescan PTEs).
 */
export function pageoutHugePmd(k: Kernel, mm: MmStruct, v: number, end: number, pageout: boolean, tlb: MmGather): number {
  const pmd = tableAt(k, mm, v, 1, false);
  const i = tableIndex(v, 1);
  const kk = pmd * PTRS_PER_TABLE + i;
  const val = k.pt.val[kk]!;
  const fl = k.pt.fl[kk]!;
  const start = v - (v & (HPAGE_PMD_NR - 1));
  if (val === HUGE_ZERO_PFN) return -1;
  const f = k.f;
  if (f.folioMapcount(val) !== 1) return -1;
  if (v !== start || end < start + HPAGE_PMD_NR) {
    splitHugePmd(k, mm, pmd, i, start, 'madvise');
    return -2;
  }
  if ((fl & PTE.young) !== 0) {
    k.pt.fl[kk] = fl & ~PTE.young; // pmdp_invalidate + pmd_mkold
    tlb.addRange(start, HPAGE_PMD_NR);
  }
  f.flags[val]! &= ~PG.referenced;
  if (!pageout) {
    lruBatchAdd(k, val, 'deactivate');
    return -1;
  }
  if ((f.flags[val]! & PG.lru) === 0) return -1;
  // TTU_SPLIT_HUGE_PMD: the mapping becomes PTEs; try_to_unmap then swaps them out
  splitHugePmd(k, mm, pmd, i, start, 'try_to_unmap');
  if (!isolateLru(k, val)) return -1;
  return val;
}

/** Count a whole THP swap-out (called by reclaim). */
export function countThpSwpout(k: Kernel, head: number): void {
  if (k.f.order[head] === PMD_ORDER) k.stats.v[thpState(k).ids.thp_swpout]!++;
}

/* ------------------------------------------------------------------ khugepaged */

/**
 * madvise(MADV_COLLAPSE) (madvise_collapse → hpage_collapse_scan_pmd → collapse_huge_page):
 * every PMD-aligned 2 MiB of the range inside one VMA whose PTEs are none, the zero page, or
 * present anonymous pages with no extra references (is_refcount_suitable: no pins, no LRU batch
 * or swap-cache reference; swap entries are not swapped in here) is copied into a new order-9
 * folio mapped by a PMD; the old PTE table becomes the deposited table. MADV_COLLAPSE ignores
 * the sysfs THP switches but not VM_NOHUGEPAGE. Ranges that cannot be collapsed are counted in
 * thp_collapse_failed (the syscall would return EAGAIN) and left as they are.
 */
export function madviseCollapse(k: Kernel, mm: MmStruct, start: number, end: number): void {
  const s = thpState(k);
  lruAddDrainAll(k);
  const f = k.f;
  const pt = k.pt;
  let first = start - (start & (HPAGE_PMD_NR - 1));
  if (first < start) first += HPAGE_PMD_NR;
  for (let v = first; v + HPAGE_PMD_NR <= end; v += HPAGE_PMD_NR) {
    const vma = mm.findVma(v);
    if (!vma || vma.end < v + HPAGE_PMD_NR || (vma.flags & VM.nohugepage) !== 0) {
      k.stats.v[s.ids.thp_collapse_failed]!++;
      continue;
    }
    const pmd = tableAt(k, mm, v, 1, false);
    if (pmd < 0) {
      k.stats.v[s.ids.thp_collapse_failed]!++; // nothing mapped: khugepaged has nothing to do
      continue;
    }
    const i = tableIndex(v, 1);
    const kk = pmd * PTRS_PER_TABLE + i;
    const pfl = pt.fl[kk]!;
    if ((pfl & PTE.huge) !== 0) continue; // already a THP (SCAN_PMD_MAPPED)
    if ((pfl & PTE.table) === 0 || pt.refcount[pt.val[kk]!]! > 1) {
      k.stats.v[s.ids.thp_collapse_failed]!++;
      continue;
    }
    const t = pt.val[kk]!;
    const base = t * PTRS_PER_TABLE;
    let ok = true;
    let any = false;
    let writable = false;
    for (let j = 0; j < HPAGE_PMD_NR && ok; j++) {
      const fl = pt.fl[base + j]!;
      if (fl === 0) continue;
      if ((fl & PTE.present) === 0 || (fl & (PTE.uffdWp | PTE.protNone)) !== 0) {
        ok = false;
        break;
      }
      const pfn = pt.val[base + j]!;
      if (pfn === ZERO_PFN) continue;
      any = true;
      if ((fl & PTE.write) !== 0) writable = true;
      const head = f.head(pfn);
      const expect = f.folioMapcount(head) + ((f.flags[head]! & PG.swapcache) !== 0 ? f.nrPages(head) : 0);
      if ((f.flags[head]! & PG.anon) === 0 || f.ref[head] !== expect || f.maybeDmaPinned(head)) ok = false;
    }
    if (!ok || !any) {
      k.stats.v[s.ids.thp_collapse_failed]!++;
      continue;
    }
    let nh: number;
    try {
      nh = k.allocFolio(PMD_ORDER, false);
    } catch (e) {
      if (e instanceof SimError && e.code === 'enomem') {
        k.stats.v[s.ids.thp_collapse_failed]!++;
        continue;
      }
      throw e;
    }
    // pmdp_collapse_flush(): the PMD is cleared and flushed, then the pages are copied
    k.hooks.pte.beforeChange.call(mm, v, v + HPAGE_PMD_NR, 'collapse');
    pt.clear(pmd, i);
    flush(k, 'range', mm, v, v + HPAGE_PMD_NR, 'collapse_huge_page', true, false);
    const toPut: number[] = [];
    for (let j = 0; j < HPAGE_PMD_NR; j++) {
      const fl = pt.fl[base + j]!;
      const pfn = pt.val[base + j]!;
      if (fl !== 0 && pfn !== ZERO_PFN) {
        f.data[nh + j] = f.data[pfn]!;
        const head = f.head(pfn);
        removeRmapPtes(k, head, pfn, 1, mm);
        toPut.push(head);
      } else f.data[nh + j] = 0;
      pt.clear(t, j);
    }
    k.charge(k.hw.costs.copyPage * HPAGE_PMD_NR);
    for (const h of toPut) k.folioPut(h);
    // the emptied PTE table is deposited with the new PMD mapping
    s.deposited.set(kk, t);
    addNewAnonRmapPmd(k, nh, mm, vma, v);
    lruAdd(k, nh);
    const w = writable || (vma.flags & VM.write) !== 0 ? PTE.write | PTE.dirty : 0;
    pt.set(pmd, i, nh, PTE.present | PTE.huge | PTE.young | w);
    k.hooks.pte.afterSet.call(mm, v, v + HPAGE_PMD_NR);
    k.stats.v[s.ids.thp_collapse_alloc]!++;
  }
}

/* ------------------------------------------------------------------ PTE-mapped large folios */

/**
 * For wp_page_copy() of a large range: the largest order <= `order` whose naturally aligned
 * range around vpn lies in the VMA and the PTE table and whose PTEs all map pages of `oldHead`
 * read-only (or, for the zero page, are none or the zero page). Exclusivity is not checked here:
 * that is the policy's job (see policy-large-folio's unsafe variant).
 */
export function validCowOrder(k: Kernel, vma: Vma, vpn: number, table: number, order: number, oldHead: number): number {
  const f = k.f;
  const pt = k.pt;
  for (let o = Math.min(order, PMD_ORDER - 1); o > 0; o--) {
    const nr = 1 << o;
    const start = vpn - (vpn & (nr - 1));
    if (start < vma.start || start + nr > vma.end) continue;
    const b = table * PTRS_PER_TABLE + (start & (PTRS_PER_TABLE - 1));
    let ok = true;
    for (let j = 0; j < nr && ok; j++) {
      const fl = pt.fl[b + j]!;
      if (oldHead < 0) {
        if (fl !== 0 && ((fl & PTE.present) === 0 || pt.val[b + j] !== ZERO_PFN || (fl & PTE.uffdWp) !== 0)) ok = false;
      } else if ((fl & PTE.present) === 0 || (fl & (PTE.write | PTE.uffdWp | PTE.protNone)) !== 0 || f.head(pt.val[b + j]!) !== oldHead) ok = false;
    }
    if (ok) return o;
  }
  return 0;
}

/**
 * wp_page_copy() of 2^order pages around vpn (order from fault.cowOrder, validated by
 * validCowOrder): one new folio, the old PTEs cleared and flushed as one range, the new ones
 * installed writable (just young for an unshare). `oldHead` -1: the zero page (a zeroed folio).
 */
export function wpCopyRange(k: Kernel, mm: MmStruct, vma: Vma, vpn: number, table: number, order: number, oldHead: number, unshare: boolean): void {
  const f = k.f;
  const pt = k.pt;
  const nr = 1 << order;
  const start = vpn - (vpn & (nr - 1));
  const zero = oldHead < 0;
  const nh = k.allocFolio(order, zero);
  const b = table * PTRS_PER_TABLE + (start & (PTRS_PER_TABLE - 1));
  const old: number[] = [];
  for (let j = 0; j < nr; j++) {
    const fl = pt.fl[b + j]!;
    const pfn = fl !== 0 ? pt.val[b + j]! : ZERO_PFN;
    old.push(fl !== 0 ? pfn : -1);
    f.data[nh + j] = zero ? 0 : f.data[pfn]!;
  }
  if (zero) k.stats.v[C.cow_zero]!++;
  else {
    k.charge(k.hw.costs.copyPage * nr);
    k.stats.v[C.cow_copy]!++;
  }
  k.stats.v[thpState(k).ids.cow_copy_pages]! += zero ? 0 : nr;
  f.ref[nh] = nr;
  addNewAnonRmap(k, nh, mm, vma, start, nr);
  lruAdd(k, nh);
  k.stats.v[k.mthpFaultAlloc[order]!]!++;
  // clear + flush the old range, then install the new PTEs
  k.hooks.pte.beforeChange.call(mm, start, start + nr, 'wp_page_copy');
  let keep = 0;
  for (let j = 0; j < nr; j++) {
    keep |= pt.fl[b + j]! & PTE.softDirty;
    pt.clear(table, (start & 511) + j);
  }
  flush(k, 'range', mm, start, start + nr, 'wp_page_copy');
  for (let j = 0; j < nr; j++) pt.set(table, (start & 511) + j, nh + j, keep | PTE.present | PTE.young | (unshare ? 0 : PTE.dirty | PTE.write));
  k.charge(k.hw.costs.pteUpdate * nr);
  k.hooks.pte.afterSet.call(mm, start, start + nr);
  if (!zero) {
    for (const pfn of old) {
      removeRmapPtes(k, oldHead, pfn, 1, mm);
      k.folioPut(oldHead);
    }
  }
}

/**
 * Make the PTEs of [start, start + nr) writable at once (a reuse of a whole exclusive range,
 * wp_page_reuse() batched like set_ptes(): one beforeChange/afterSet bracket, so an arm64
 * contpte block is rewritten whole and can fold again). Every PTE must map a page of `head`.
 * The pages become PageAnonExclusive. Used by policy-large-folio; the faulting PTE is included.
 */
export function reusePteRange(k: Kernel, mm: MmStruct, table: number, start: number, nr: number, head: number): number {
  const f = k.f;
  const pt = k.pt;
  const b = table * PTRS_PER_TABLE + (start & (PTRS_PER_TABLE - 1));
  for (let j = 0; j < nr; j++) {
    const fl = pt.fl[b + j]!;
    if ((fl & PTE.present) === 0 || f.head(pt.val[b + j]!) !== head) throw new SimError(`reusePteRange: PTE ${start + j} does not map folio ${head}`, 'internal');
  }
  k.hooks.pte.beforeChange.call(mm, start, start + nr, 'wp_page_reuse');
  for (let j = 0; j < nr; j++) {
    const fl = pt.fl[b + j]!;
    f.flags[pt.val[b + j]!]! |= PG.anonExclusive;
    pt.fl[b + j] = fl | PTE.young | PTE.dirty | PTE.write;
  }
  k.charge(k.hw.costs.pteUpdate * nr);
  k.hooks.pte.afterSet.call(mm, start, start + nr);
  k.stats.v[thpState(k).ids.pgreuse_range]!++;
  return nr;
}

/**
 * How many PTE mappings of folio `head` the address space `mm` holds (an rmap walk over the
 * folio's anon_vma restricted to `mm`): the exclusivity scan after fork + exit (RFC patch 10)
 * and the "maybe mapped shared" test of __wp_can_reuse_large_anon_folio (CONFIG_MM_ID tracks
 * the same thing with per-mm mapcounts).
 */
export function mappingsInMm(k: Kernel, head: number, mm: MmStruct): number {
  const f = k.f;
  const fam = f.anonVma[head]!;
  if (fam < 0) return 0;
  const nr = f.nrPages(head);
  let n = 0;
  for (const m of k.anonVmas.members(fam)) {
    if (m.mm !== mm) continue;
    for (let i = 0; i < nr; i++) {
      const vpn = m.vma.addressOf(f.index[head]! + i);
      if (vpn < 0) continue;
      const t = pteTable(k, mm, vpn);
      if (t === -2) {
        if (i === 0 && k.pt.val[hugePmdSlot(k, mm, vpn)] === head) n++;
        continue;
      }
      if (t < 0) continue;
      const kk = t * PTRS_PER_TABLE + (vpn & 511);
      if ((k.pt.fl[kk]! & PTE.present) !== 0 && k.pt.val[kk] === head + i) n++;
    }
  }
  return n;
}

/* ------------------------------------------------------------------ mTHP swap-in */

/**
 * alloc_swap_folio() (v6.12+, synchronous swap devices only): when do_swap_page() skips the
 * swap cache, swap in a large folio of the highest order allowed by fault.anonOrders (below
 * the PMD order) whose aligned range lies in the VMA and the PTE table and whose PTEs are swap
 * entries with contiguous slots congruent with the addresses (thp_swap_suitable_orders,
 * can_swapin_thp), each with swap count 1 and none in the swap cache. Maps every page (the
 * folio is fresh, so exclusive); `fault.swapinWritable` decides writability for all of them.
 * Returns false when no large order fits (do_swap_page continues with one page).
 */
export function swapinLargeFolio(k: Kernel, mm: MmStruct, vma: Vma, vpn: number, write: boolean): boolean {
  const vmf = k.vmf;
  const table = vmf.table;
  const pt = k.pt;
  const swap = k.swap;
  const slot = pt.val[table * PTRS_PER_TABLE + vmf.index]!;
  const orders = k.hooks.fault.anonOrders.call(1, vmf) & ((1 << PMD_ORDER) - 1) & ~1;
  if (orders === 0) return false;
  let order = 0;
  for (let o = PMD_ORDER - 1; o > 0 && order === 0; o--) {
    if ((orders & (1 << o)) === 0) continue;
    const nr = 1 << o;
    const start = vpn - (vpn & (nr - 1));
    const s0 = slot - (vpn - start);
    if (start < vma.start || start + nr > vma.end || s0 < 0 || s0 % nr !== 0) continue;
    const b = table * PTRS_PER_TABLE + (start & (PTRS_PER_TABLE - 1));
    let ok = true;
    for (let j = 0; j < nr && ok; j++) {
      const fl = pt.fl[b + j]!;
      if ((fl & PTE.swap) === 0 || pt.val[b + j] !== s0 + j || swap.count[s0 + j] !== 1 || swap.cache[s0 + j]! >= 0) ok = false;
    }
    if (ok) order = o;
  }
  if (order === 0) return false;
  const nr = 1 << order;
  const start = vpn - (vpn & (nr - 1));
  const s0 = slot - (vpn - start);
  const b = table * PTRS_PER_TABLE + (start & (PTRS_PER_TABLE - 1));
  let head: number;
  try {
    head = k.allocFolio(order, false);
  } catch (e) {
    if (e instanceof SimError && e.code === 'enomem') return false;
    throw e;
  }
  const f = k.f;
  const keep: number[] = [];
  for (let j = 0; j < nr; j++) {
    f.data[head + j] = swap.data[s0 + j]!;
    keep.push(pt.fl[b + j]! & (PTE.uffdWp | PTE.softDirty));
  }
  k.charge(k.hw.costs.swapIoPage * nr);
  k.stats.v[C.pswpin]! += nr;
  k.stats.v[C.pgmajfault]!++;
  k.stats.v[C.swapin_skip_swapcache]!++;
  f.ref[head] = nr;
  addNewAnonRmap(k, head, mm, vma, start, nr);
  lruAdd(k, head);
  vmf.pfn = head + (vpn - start);
  vmf.head = head;
  vmf.swapSlot = slot;
  vmf.swapExclusive = (pt.fl[table * PTRS_PER_TABLE + vmf.index]! & PTE.swpExclusive) !== 0;
  vmf.swapCacheBypassed = true;
  for (let j = 0; j < nr; j++) swapFree(k, s0 + j);
  mm.swapEnts -= nr;
  const uffd = keep.some((x) => (x & PTE.uffdWp) !== 0);
  const writable = (vma.flags & VM.write) !== 0 && !uffd && (k.hooks.fault.swapinWritable.call(vmf) ?? false);
  k.hooks.pte.beforeChange.call(mm, start, start + nr, 'do_swap_page');
  for (let j = 0; j < nr; j++) {
    let nfl = PTE.present | PTE.young | keep[j]!;
    if (writable) nfl |= PTE.write | (write && start + j === vpn ? PTE.dirty : 0);
    pt.set(table, (start & (PTRS_PER_TABLE - 1)) + j, head + j, nfl);
  }
  if (writable) k.stats.v[C.swapin_map_writable]!++;
  k.charge(k.hw.costs.pteUpdate * nr);
  k.hooks.pte.afterSet.call(mm, start, start + nr);
  done(k, mm, vpn, write, 'swapin', order);
  return true;
}
