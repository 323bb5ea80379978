/**
 * Huge PMDs in the other mechanisms, mm/huge_memory.c: zap_huge_pmd(), copy_huge_pmd(),
 * change_huge_pmd(), move_huge_pmd(), and the huge-PMD part of madvise_cold_or_pageout_pte_range()
 * (mm/madvise.c).
 */
import type { Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { HUGE_ZERO_PFN } from '../mem/phys-mem.js';
import { C } from '../stats/counters.js';
import { HPAGE_PMD_NR, pmdIndex, pmdStart } from '../units.js';
import { CLEARED_PMD, type MmGather } from './tlb-gather.js';
import { flush } from './tlb-flush.js';
import { tableAt } from './pgwalk.js';
import { folioDeactivate, isolateLru } from './lru-batch.js';
import {
  addRmapPmd,
  deposit,
  PMD_SHIFT,
  removeRmapPmd,
  setExclusive,
  splitHugePmd,
  splitHugePmdAt,
  thpState,
  withdraw,
} from './huge-memory.js';

/* ------------------------------------------------------------------ zap */

/**
 * zap_pmd_range() for a huge PMD covering [v, end): zap_huge_pmd() when the range covers the
 * whole PMD, else split it and let the PTE loop zap the part. Returns true when zapped whole.
 */
export function zapHugePmd(k: Kernel, mm: MmStruct, v: number, end: number, tlb: MmGather, reason: string): boolean {
  const start = pmdStart(v);
  if (v !== start || end < start + HPAGE_PMD_NR) {
    splitHugePmdAt(k, mm, v, reason);
    return false;
  }
  const pmd = tableAt(k, mm, v, 1, false);
  const i = pmdIndex(v);
  const kk = k.pt.slot(pmd, i);
  const fl = k.pt.fl[kk]!;
  const val = k.pt.val[kk]!;
  k.hooks.pte.beforeChange.call(mm, start, start + HPAGE_PMD_NR, reason);
  k.pt.clear(pmd, i);
  k.charge(k.hw.costs.pteUpdate);
  // zap_deposited_table()
  k.freeTable(mm, withdraw(k, mm, kk));
  // tlb_remove_pmd_tlb_entry(): cleared_pmds, so tlb_flush() strides by PMD_SHIFT
  if (val === HUGE_ZERO_PFN) {
    tlb.addRange(start, HPAGE_PMD_NR, CLEARED_PMD);
    return true;
  }
  if ((fl & PTE.dirty) !== 0) k.f.flags[val]! |= PG.dirty;
  removeRmapPmd(k, val, mm);
  tlb.removePage(val, start, HPAGE_PMD_NR, CLEARED_PMD);
  return true;
}

/* ------------------------------------------------------------------ fork */

/**
 * copy_huge_pmd(): share the THP with the child (both PMDs write-protected, the pages no
 * longer exclusive, a table deposited for the child), or — when `fork.page` says 'copy'
 * (a maybe-pinned exclusive folio: folio_try_dup_anon_rmap_pmd() fails) — split the parent's
 * PMD and return false so copy_pte_range() copies the PTEs.
 */
export function copyHugePmd(
  k: Kernel,
  parent: MmStruct,
  child: MmStruct,
  v: number,
  decide: (pfn: number, head: number) => 'share' | 'copy',
  /** userfaultfd_wp(dst_vma): the child keeps pmd_uffd_wp (UFFD_FEATURE_EVENT_FORK) */
  dstUffdWp = false,
): boolean {
  const pmd = tableAt(k, parent, v, 1, false);
  const i = pmdIndex(v);
  const kk = k.pt.slot(pmd, i);
  const fl = k.pt.fl[kk]!;
  const val = k.pt.val[kk]!;
  const start = pmdStart(v);
  if (val !== HUGE_ZERO_PFN && decide(val, val) === 'copy') {
    splitHugePmd(k, parent, pmd, i, start, 'fork');
    return false;
  }
  const dpmd = tableAt(k, child, v, 1, true);
  const dslot = k.pt.slot(dpmd, i);
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
  // copy_huge_pmd(): `if (!userfaultfd_wp(dst_vma)) pmd = pmd_clear_uffd_wp(pmd)`
  k.pt.set(dpmd, i, val, nfl & ~(PTE.young | (dstUffdWp ? 0 : PTE.uffdWp)));
  k.hooks.pte.afterSet.call(child, start, start + HPAGE_PMD_NR);
  return true;
}

/* ------------------------------------------------------------------ mprotect / mremap */

/**
 * change_huge_pmd(): apply `update` to a huge PMD when [v, end) covers it whole (returns the
 * pages changed), else split it (returns -1: continue on the PTEs).
 */
export function changeHugePmd(
  k: Kernel,
  mm: MmStruct,
  v: number,
  end: number,
  reason: string,
  update: (fl: number, pfn: number) => number,
): number {
  const start = pmdStart(v);
  if (v !== start || end < start + HPAGE_PMD_NR) {
    splitHugePmdAt(k, mm, v, reason);
    return -1;
  }
  const pmd = tableAt(k, mm, v, 1, false);
  const kk = k.pt.slot(pmd, pmdIndex(v));
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
  const start = pmdStart(v);
  if (v !== start || end < start + HPAGE_PMD_NR || (nv & (HPAGE_PMD_NR - 1)) !== 0) {
    splitHugePmdAt(k, mm, v, 'mremap');
    return false;
  }
  const pmd = tableAt(k, mm, v, 1, false);
  const i = pmdIndex(v);
  const kk = k.pt.slot(pmd, i);
  const dpmd = tableAt(k, mm, nv, 1, true);
  const di = pmdIndex(nv);
  if (k.pt.fl[k.pt.slot(dpmd, di)] !== 0) return false;
  const val = k.pt.val[kk]!;
  const fl = k.pt.fl[kk]!;
  k.hooks.pte.beforeChange.call(mm, v, v + HPAGE_PMD_NR, 'mremap');
  k.pt.clear(pmd, i);
  k.pt.set(dpmd, di, val, fl);
  const s = thpState(k);
  const dep = s.deposited.get(kk);
  s.deposited.delete(kk);
  if (dep !== undefined) s.deposited.set(k.pt.slot(dpmd, di), dep);
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
export function pageoutHugePmd(
  k: Kernel,
  mm: MmStruct,
  v: number,
  end: number,
  pageout: boolean,
  tlb: MmGather,
): number {
  const pmd = tableAt(k, mm, v, 1, false);
  const i = pmdIndex(v);
  const kk = k.pt.slot(pmd, i);
  const val = k.pt.val[kk]!;
  const fl = k.pt.fl[kk]!;
  const start = pmdStart(v);
  if (val === HUGE_ZERO_PFN) return -1;
  const f = k.f;
  if (f.folioMapcount(val) !== 1) return -1;
  if (v !== start || end < start + HPAGE_PMD_NR) {
    splitHugePmd(k, mm, pmd, i, start, 'madvise');
    return -2;
  }
  if ((fl & PTE.young) !== 0 && !(pageout && k.config.features.pageoutKeepsYoung)) {
    // madvise_cold_or_pageout_pte_range(): pmdp_invalidate() (flush_pmd_tlb_range()), pmd_mkold
    // (v6.9+: MADV_COLD only), then tlb_remove_pmd_tlb_entry() for the gather
    k.pt.fl[kk] = fl & ~PTE.young;
    flush(k, 'range', mm, start, start + HPAGE_PMD_NR, 'pmdp_invalidate', false, false, PMD_SHIFT);
    tlb.addRange(start, HPAGE_PMD_NR, CLEARED_PMD);
  }
  f.flags[val]! &= ~PG.referenced;
  if (!pageout) {
    folioDeactivate(k, val);
    return -1;
  }
  if ((f.flags[val]! & PG.lru) === 0) return -1;
  // TTU_SPLIT_HUGE_PMD: the mapping becomes PTEs; try_to_unmap then swaps them out
  splitHugePmd(k, mm, pmd, i, start, 'try_to_unmap');
  if (!isolateLru(k, val)) return -1;
  return val;
}

/** Count a whole THP swap-out (called by reclaim). */
