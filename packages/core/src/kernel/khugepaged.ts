/**
 * mm/khugepaged.c: the collapse of a PTE table's small pages into a PMD-mapped THP, shared by
 * madvise(MADV_COLLAPSE) (madvise_collapse()) and the khugepaged thread (khugepaged-scan.ts):
 * hpage_collapse_scan_pmd() → collapse_huge_page() → __collapse_huge_page_isolate().
 * `cc.isKhugepaged` is struct collapse_control's is_khugepaged: only khugepaged enforces the
 * max_ptes_* limits and wants referenced pages.
 */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { ksmMightUnmapZeroPage } from './ksm-unmerge.js';
import { HPAGE_PMD_NR, PMD_ORDER, pmdIndex, pmdStart } from '../units.js';
import { tableAt } from './pgwalk.js';
import { removeRmapPtes } from './rmap.js';
import { lruAdd, lruAddDrain, lruAddDrainAll } from './lru-batch.js';
import { collapseSwapinPte } from './fault.js';
import { flush } from './tlb-flush.js';
import { addNewAnonRmapPmd, thpState } from './huge-memory.js';
import { maybeMappedShared } from './mapped-shared.js';
import { type KhugepagedKnobs, khugepagedKnobs } from './khugepaged-knobs.js';

/** enum scan_result (the results mmsim can reach). */
export const SCAN = Object.freeze({
  FAIL: 0,
  SUCCEED: 1,
  PMD_NULL: 2,
  PMD_NONE: 3,
  PMD_MAPPED: 4,
  EXCEED_NONE_PTE: 5,
  EXCEED_SWAP_PTE: 6,
  EXCEED_SHARED_PTE: 7,
  PTE_NON_PRESENT: 8,
  PTE_UFFD_WP: 9,
  PAGE_RO: 11,
  LACK_REFERENCED_PAGE: 12,
  PAGE_NULL: 13,
  PAGE_COUNT: 15,
  PAGE_LRU: 16,
  PAGE_ANON: 18,
  VMA_CHECK: 22,
  ALLOC_HUGE_PAGE_FAIL: 25,
} as const);
export type ScanResult = (typeof SCAN)[keyof typeof SCAN];

/**
 * struct collapse_control, and hpage_collapse_scan_pmd()'s `*mmap_locked`: false once
 * collapse_huge_page() was entered (it drops mmap_lock), whatever its result.
 */
export interface CollapseControl {
  readonly isKhugepaged: boolean;
  mmapLocked: boolean;
}
const MADVISE_CONTROL: CollapseControl = { isKhugepaged: false, mmapLocked: true };

/**
 * madvise(MADV_COLLAPSE) (madvise_collapse()), per VMA of the range: every PMD-aligned 2 MiB
 * inside the VMA is scanned and collapsed (MADV_COLLAPSE ignores the sysfs THP switches and the
 * max_ptes_* limits, not VM_NOHUGEPAGE). A range that cannot be collapsed counts in
 * thp_collapse_failed (mmsim's own) and sets the errno the syscall returns
 * (madvise_collapse_errno() of the last failure); results outside the "continue" list of
 * madvise_collapse() end the VMA's loop.
 */
export function madviseCollapse(k: Kernel, mm: MmStruct, start: number, end: number): void {
  for (const vma of mm.vmasIn(start, end)) {
    // thp_vma_allowable_order(vma, vm_flags, 0, PMD_ORDER): anonymous, not VM_NOHUGEPAGE
    // (file and shmem VMAs: collapse_file() is not modelled)
    if (vma.file !== null || (vma.flags & VM.nohugepage) !== 0) {
      failed(k, SCAN.VMA_CHECK);
      continue;
    }
    // alloc_charge_folio(): mem_cgroup_charge(folio, mm)
    k.memcgCharge = mm.memcg;
    lruAddDrainAll(k);
    let hstart = pmdStart(Math.max(start, vma.start));
    if (hstart < Math.max(start, vma.start)) hstart += HPAGE_PMD_NR;
    const hend = pmdStart(Math.min(end, vma.end));
    for (let v = hstart; v < hend; v += HPAGE_PMD_NR) {
      const r = hpageCollapseScanPmd(k, mm, vma, v, MADVISE_CONTROL);
      if (r === SCAN.SUCCEED || r === SCAN.PMD_MAPPED) continue;
      failed(k, r);
      if (!CONTINUE_AFTER.has(r)) break;
    }
  }
}

/** madvise_collapse()'s "whitelisted set of results where continuing OK" */
const CONTINUE_AFTER: ReadonlySet<number> = new Set([
  SCAN.PMD_NULL,
  SCAN.PTE_NON_PRESENT,
  SCAN.PTE_UFFD_WP,
  SCAN.PAGE_RO,
  SCAN.LACK_REFERENCED_PAGE,
  SCAN.PAGE_NULL,
  SCAN.PAGE_COUNT,
  SCAN.PAGE_LRU,
]);

/**
 * A 2 MiB range not collapsed by MADV_COLLAPSE: thp_collapse_failed, and the errno
 * madvise_collapse_errno() gives its result (ENOMEM for the allocation, EBUSY for the charge and
 * EXCEED_NONE_PTE, EAGAIN for SCAN_PAGE_COUNT / _LOCK / _LRU, EINVAL for the rest).
 */
function failed(k: Kernel, r: ScanResult): void {
  const id = thpState(k).ids.thp_collapse_failed;
  k.stats.v[id]!++;
  k.lastErrno =
    r === SCAN.ALLOC_HUGE_PAGE_FAIL
      ? 'ENOMEM'
      : r === SCAN.EXCEED_NONE_PTE
        ? 'EBUSY'
        : r === SCAN.PAGE_COUNT || r === SCAN.PAGE_LRU
          ? 'EAGAIN'
          : 'EINVAL';
}

/**
 * find_pmd_or_thp_or_none(): the PTE table under the PMD of `v` (≥ 0), or a SCAN result
 * (negated, so callers tell them apart): PMD_NULL (no PMD table), PMD_NONE, PMD_MAPPED (a THP).
 * A PTE table shared by several mms (copy-on-write page tables of a policy) is PMD_NULL.
 */
function findPmdTable(k: Kernel, mm: MmStruct, v: number): number {
  const pt = k.pt;
  const pmd = tableAt(k, mm, v, 1, false);
  if (pmd < 0) return -SCAN.PMD_NULL;
  const fl = pt.fl[pt.slot(pmd, pmdIndex(v))]!;
  if (fl === 0) return -SCAN.PMD_NONE;
  if ((fl & PTE.huge) !== 0) return -SCAN.PMD_MAPPED;
  if ((fl & PTE.table) === 0) return -SCAN.PMD_NULL;
  const t = pt.val[pt.slot(pmd, pmdIndex(v))]!;
  if (pt.refcount[t]! > 1) return -SCAN.PMD_NULL;
  return t;
}

/** userfaultfd_armed(): the VMA is registered with userfaultfd (missing or wp). */
const uffdArmed = (vma: Vma) => (vma.flags & (VM.uffdMissing | VM.uffdWp)) !== 0;

/**
 * hpage_collapse_scan_pmd(): scan the PTE table of the 2 MiB at `v` and, when it qualifies,
 * collapse it (collapse_huge_page()). Returns the scan_result.
 */
export function hpageCollapseScanPmd(k: Kernel, mm: MmStruct, vma: Vma, v: number, cc: CollapseControl): ScanResult {
  cc.mmapLocked = true;
  const t = findPmdTable(k, mm, v);
  if (t < 0) return -t as ScanResult;
  const knobs = khugepagedKnobs(k);
  const f = k.f;
  const pt = k.pt;
  const base = pt.slot(t, 0);
  let unmapped = 0;
  let noneOrZero = 0;
  let shared = 0;
  let referenced = 0;
  let writable = false;
  for (let j = 0; j < HPAGE_PMD_NR; j++) {
    const fl = pt.fl[base + j]!;
    if ((fl & PTE.swap) !== 0) {
      // is_swap_pte()
      ++unmapped;
      if (!cc.isKhugepaged || unmapped <= knobs.maxPtesSwap) {
        if ((fl & PTE.uffdWp) !== 0) return SCAN.PTE_UFFD_WP; // pte_swp_uffd_wp_any()
        continue;
      }
      bump(k, 'thp_scan_exceed_swap_pte');
      return SCAN.EXCEED_SWAP_PTE;
    }
    const pfn = pt.val[base + j]!;
    if (fl === 0 || ((fl & PTE.present) !== 0 && pfn === ZERO_PFN)) {
      if (noneOrZeroOk(k, vma, cc, ++noneOrZero, knobs)) continue;
      return SCAN.EXCEED_NONE_PTE;
    }
    if ((fl & PTE.uffdWp) !== 0) return SCAN.PTE_UFFD_WP;
    if ((fl & PTE.write) !== 0) writable = true;
    // vm_normal_page(): a PROT_NONE entry maps no page for the scan (NUMA hinting aside)
    if ((fl & PTE.present) === 0 || (fl & PTE.protNone) !== 0) return SCAN.PAGE_NULL;
    const head = f.head(pfn);
    if ((f.flags[head]! & PG.anon) === 0) return SCAN.PAGE_ANON;
    if (isShared(k, t, v + j, pfn, head) && !sharedOk(k, cc, ++shared, knobs)) return SCAN.EXCEED_SHARED_PTE;
    if ((f.flags[head]! & PG.lru) === 0) return SCAN.PAGE_LRU;
    if (!isRefcountSuitable(k, head)) return SCAN.PAGE_COUNT;
    // pte_young() || folio_test_young() || folio_test_referenced()
    if (cc.isKhugepaged && ((fl & PTE.young) !== 0 || (f.flags[head]! & PG.referenced) !== 0)) referenced++;
  }
  if (!writable && !k.config.features.collapseReadOnly) return SCAN.PAGE_RO;
  if (cc.isKhugepaged && (referenced === 0 || (unmapped > 0 && referenced < HPAGE_PMD_NR / 2)))
    return SCAN.LACK_REFERENCED_PAGE;
  return collapseHugePage(k, mm, vma, v, unmapped, cc);
}

/**
 * The none-or-zero PTE rule of the scan and of the isolation: never in a userfaultfd-armed VMA,
 * at most max_ptes_none for khugepaged (THP_SCAN_EXCEED_NONE_PTE when over).
 */
function noneOrZeroOk(k: Kernel, vma: Vma, cc: CollapseControl, n: number, knobs: Readonly<KhugepagedKnobs>): boolean {
  if (!uffdArmed(vma) && (!cc.isKhugepaged || n <= knobs.maxPtesNone)) return true;
  bump(k, 'thp_scan_exceed_none_pte');
  return false;
}

/** The shared-page rule: at most max_ptes_shared for khugepaged (THP_SCAN_EXCEED_SHARED_PTE when over). */
function sharedOk(k: Kernel, cc: CollapseControl, n: number, knobs: Readonly<KhugepagedKnobs>): boolean {
  if (!cc.isKhugepaged || n <= knobs.maxPtesShared) return true;
  bump(k, 'thp_scan_exceed_share_pte');
  return false;
}

/** folio_maybe_mapped_shared() of the folio of a present PTE */
function isShared(k: Kernel, t: number, vpn: number, pfn: number, head: number): boolean {
  const f = k.f;
  if (f.order[head] === 0) return f.mapcount[head]! > 1;
  return maybeMappedShared(k, t, vpn - (pfn - head), head, vpn);
}

/**
 * is_refcount_suitable(): one reference per mapping, plus the swap cache's; mmsim keeps pins
 * apart from the refcount of a large folio, so a maybe-DMA-pinned folio fails too.
 */
function isRefcountSuitable(k: Kernel, head: number): boolean {
  const f = k.f;
  const expect = f.folioMapcount(head) + ((f.flags[head]! & PG.swapcache) !== 0 ? f.nrPages(head) : 0);
  return f.ref[head] === expect && !f.maybeDmaPinned(head);
}

/**
 * collapse_huge_page(): allocate the THP (alloc_charge_folio(): thp_collapse_alloc, or
 * thp_collapse_alloc_failed), swap in the swap PTEs (__collapse_huge_page_swapin(), then
 * lru_add_drain()), clear and flush the PMD (pmdp_collapse_flush()), isolate the pages again
 * (__collapse_huge_page_isolate(); on failure the PTE table goes back), copy them into the new
 * folio and map it by the PMD, the old PTE table deposited with it.
 */
function collapseHugePage(
  k: Kernel,
  mm: MmStruct,
  vma: Vma,
  v: number,
  unmapped: number,
  cc: CollapseControl,
): ScanResult {
  cc.mmapLocked = false;
  const s = thpState(k);
  const f = k.f;
  const pt = k.pt;
  let nh: number;
  k.memcgCharge = mm.memcg;
  try {
    nh = k.allocFolio(PMD_ORDER, false);
  } catch (e) {
    if (e instanceof SimError && e.code === 'enomem') {
      bump(k, 'thp_collapse_alloc_failed');
      return SCAN.ALLOC_HUGE_PAGE_FAIL;
    }
    throw e;
  }
  k.stats.v[s.ids.thp_collapse_alloc]!++;
  const t = findPmdTable(k, mm, v);
  if (t < 0) {
    k.folioPut(nh);
    return -t as ScanResult;
  }
  const base = pt.slot(t, 0);
  if (unmapped > 0) {
    // __collapse_huge_page_swapin(): a read fault per swap PTE, then lru_add_drain()
    let swappedIn = 0;
    for (let j = 0; j < HPAGE_PMD_NR; j++) {
      if ((pt.fl[base + j]! & PTE.swap) === 0) continue;
      if (!collapseSwapinPte(k, mm, vma, v + j, t)) {
        k.folioPut(nh);
        return SCAN.FAIL;
      }
      swappedIn++;
    }
    if (swappedIn > 0) lruAddDrain(k, k.cpu);
  }
  // pmdp_collapse_flush(): the PMD is cleared and flushed before the pages are isolated
  const pmd = tableAt(k, mm, v, 1, false);
  const i = pmdIndex(v);
  const kk = pt.slot(pmd, i);
  const pmdFl = pt.fl[kk]!;
  k.hooks.pte.beforeChange.call(mm, v, v + HPAGE_PMD_NR, 'collapse');
  pt.clear(pmd, i);
  flush(k, 'range', mm, v, v + HPAGE_PMD_NR, 'collapse_huge_page', true, false);
  const r = collapseIsolate(k, vma, t, v, cc);
  if (r !== SCAN.SUCCEED) {
    // pmd_populate(): the PTE table goes back under the PMD
    pt.set(pmd, i, t, pmdFl);
    k.folioPut(nh);
    return r;
  }
  // __collapse_huge_page_copy() / _copy_succeeded()
  const toPut: number[] = [];
  for (let j = 0; j < HPAGE_PMD_NR; j++) {
    const fl = pt.fl[base + j]!;
    const pfn = pt.val[base + j]!;
    if (fl !== 0 && pfn !== ZERO_PFN) {
      f.data[nh + j] = f.data[pfn]!;
      const head = f.head(pfn);
      removeRmapPtes(k, head, pfn, 1, mm);
      toPut.push(head);
    } else {
      f.data[nh + j] = 0;
      // __collapse_huge_page_copy_succeeded(): ksm_might_unmap_zero_page()
      if (pfn === ZERO_PFN && (fl & PTE.dirty) !== 0 && k.ksm !== null) ksmMightUnmapZeroPage(k, mm);
    }
    pt.clear(t, j);
  }
  k.charge(k.hw.costs.copyPage * HPAGE_PMD_NR);
  for (const h of toPut) k.folioPut(h);
  // pgtable_trans_huge_deposit(): the emptied PTE table is deposited with the new PMD mapping
  s.deposited.set(kk, t);
  addNewAnonRmapPmd(k, nh, mm, vma, v);
  lruAdd(k, nh, false);
  // maybe_pmd_mkwrite(pmd_mkdirty(mk_huge_pmd()))
  const w = (vma.flags & VM.write) !== 0 ? PTE.write : 0;
  pt.set(pmd, i, nh, PTE.present | PTE.huge | PTE.young | PTE.dirty | k.sd | w);
  k.hooks.pte.afterSet.call(mm, v, v + HPAGE_PMD_NR);
  return SCAN.SUCCEED;
}

/**
 * __collapse_huge_page_isolate(): the checks of the scan again, on the pages as they are after
 * the swap-in (a swap PTE left is PTE_NON_PRESENT), and whether any PTE is writable and (for
 * khugepaged) any page referenced.
 */
function collapseIsolate(k: Kernel, vma: Vma, t: number, v: number, cc: CollapseControl): ScanResult {
  const knobs = khugepagedKnobs(k);
  const f = k.f;
  const pt = k.pt;
  const base = pt.slot(t, 0);
  let noneOrZero = 0;
  let shared = 0;
  let referenced = 0;
  let writable = false;
  for (let j = 0; j < HPAGE_PMD_NR; j++) {
    const fl = pt.fl[base + j]!;
    const pfn = pt.val[base + j]!;
    if (fl === 0 || ((fl & PTE.present) !== 0 && pfn === ZERO_PFN)) {
      if (noneOrZeroOk(k, vma, cc, ++noneOrZero, knobs)) continue;
      return SCAN.EXCEED_NONE_PTE;
    }
    if ((fl & PTE.present) === 0) return SCAN.PTE_NON_PRESENT;
    if ((fl & PTE.uffdWp) !== 0) return SCAN.PTE_UFFD_WP;
    if ((fl & PTE.protNone) !== 0) return SCAN.PAGE_NULL;
    const head = f.head(pfn);
    if (isShared(k, t, v + j, pfn, head) && !sharedOk(k, cc, ++shared, knobs)) return SCAN.EXCEED_SHARED_PTE;
    if (!isRefcountSuitable(k, head)) return SCAN.PAGE_COUNT;
    if (cc.isKhugepaged && ((fl & PTE.young) !== 0 || (f.flags[head]! & PG.referenced) !== 0)) referenced++;
    if ((fl & PTE.write) !== 0) writable = true;
  }
  if (!writable && !k.config.features.collapseReadOnly) return SCAN.PAGE_RO;
  if (cc.isKhugepaged && referenced === 0) return SCAN.LACK_REFERENCED_PAGE;
  return SCAN.SUCCEED;
}

interface KhugepagedIds {
  thp_collapse_alloc_failed: number;
  thp_scan_exceed_none_pte: number;
  thp_scan_exceed_swap_pte: number;
  thp_scan_exceed_share_pte: number;
}
const ids = new WeakMap<Kernel, KhugepagedIds>();

/** The vmstat events of the collapse paths, defined on first use (runs without them stay as they were). */
function khugepagedIds(k: Kernel): KhugepagedIds {
  let s = ids.get(k);
  if (!s) {
    s = {
      thp_collapse_alloc_failed: k.stats.define('thp_collapse_alloc_failed'),
      thp_scan_exceed_none_pte: k.stats.define('thp_scan_exceed_none_pte'),
      thp_scan_exceed_swap_pte: k.stats.define('thp_scan_exceed_swap_pte'),
      thp_scan_exceed_share_pte: k.stats.define('thp_scan_exceed_share_pte'),
    };
    ids.set(k, s);
  }
  return s;
}

/** count_vm_event() of one of those (the id first: define() may grow `stats.v`) */
function bump(k: Kernel, name: keyof KhugepagedIds): void {
  const id = khugepagedIds(k)[name];
  k.stats.v[id]!++;
}
