/**
 * mm/khugepaged.c: madvise_collapse() → hpage_collapse_scan_pmd() → collapse_huge_page().
 */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM } from '../mm/vma.js';
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

/**
 * madvise(MADV_COLLAPSE) (madvise_collapse → hpage_collapse_scan_pmd → collapse_huge_page):
 * every PMD-aligned 2 MiB of the range inside one VMA whose PTEs are none, the zero page, or
 * present anonymous pages with no extra references (is_refcount_suitable: no pins, no LRU batch
 * reference; the swap cache's own is expected), or swap entries, is copied into a new order-9
 * folio mapped by a PMD; the old PTE table becomes the deposited table. MADV_COLLAPSE ignores
 * the sysfs THP switches but not VM_NOHUGEPAGE. Ranges that cannot be collapsed are counted in
 * thp_collapse_failed (the syscall would return EAGAIN) and left as they are.
 * Swap PTEs: hpage_collapse_scan_pmd() counts them (`unmapped`) and, for MADV_COLLAPSE
 * (!cc->is_khugepaged: no max_ptes_swap limit), carries on unless one has the uffd-wp bit;
 * collapse_huge_page() then swaps them in (__collapse_huge_page_swapin(), which drains this CPU's
 * LRU batch after) before isolating the pages.
 */
export function madviseCollapse(k: Kernel, mm: MmStruct, start: number, end: number): void {
  // alloc_charge_folio(): mem_cgroup_charge(folio, mm)
  k.memcgCharge = mm.memcg;
  const s = thpState(k);
  lruAddDrainAll(k);
  const f = k.f;
  const pt = k.pt;
  let first = pmdStart(start);
  if (first < start) first += HPAGE_PMD_NR;
  for (let v = first; v + HPAGE_PMD_NR <= end; v += HPAGE_PMD_NR) {
    const vma = mm.findVma(v);
    // file and shmem VMAs: collapse_file() (file THPs) is not modelled
    if (!vma || vma.file !== null || vma.end < v + HPAGE_PMD_NR || (vma.flags & VM.nohugepage) !== 0) {
      failed(k, 'EINVAL'); // SCAN_VMA_CHECK
      continue;
    }
    const pmd = tableAt(k, mm, v, 1, false);
    if (pmd < 0) {
      failed(k, 'EINVAL'); // SCAN_PMD_NULL: nothing mapped
      continue;
    }
    const i = pmdIndex(v);
    const kk = pt.slot(pmd, i);
    const pfl = pt.fl[kk]!;
    if ((pfl & PTE.huge) !== 0) continue; // already a THP (SCAN_PMD_MAPPED)
    if ((pfl & PTE.table) === 0 || pt.refcount[pt.val[kk]!]! > 1) {
      failed(k, 'EINVAL');
      continue;
    }
    const t = pt.val[kk]!;
    const base = pt.slot(t, 0);
    // hpage_collapse_scan_pmd(): swap PTEs are counted, not checked
    let scan = scanPtes(k, base, true);
    if (scan < 0 || (scan === 0 && !hasSwapPtes(k, base))) {
      failed(k, scan === SCAN_PAGE_COUNT ? 'EAGAIN' : 'EINVAL');
      continue;
    }
    let nh: number;
    try {
      nh = k.allocFolio(PMD_ORDER, false);
    } catch (e) {
      if (e instanceof SimError && e.code === 'enomem') {
        failed(k, 'ENOMEM'); // SCAN_ALLOC_HUGE_PAGE_FAIL
        continue;
      }
      throw e;
    }
    if (hasSwapPtes(k, base)) {
      // __collapse_huge_page_swapin(): a read fault per swap PTE, then lru_add_drain()
      let swapped = true;
      for (let j = 0; j < HPAGE_PMD_NR && swapped; j++)
        if ((pt.fl[base + j]! & PTE.swap) !== 0) swapped = collapseSwapinPte(k, mm, vma, v + j, t);
      lruAddDrain(k, k.cpu);
      // __collapse_huge_page_isolate(): the pages as they are now
      scan = swapped ? scanPtes(k, base, false) : SCAN_FAIL;
      if (scan < 0 || scan === 0) {
        k.folioPut(nh);
        failed(k, scan === SCAN_PAGE_COUNT ? 'EAGAIN' : 'EINVAL');
        continue;
      }
    }
    const writable = scan === SCAN_WRITABLE;
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
      } else {
        f.data[nh + j] = 0;
        // __collapse_huge_page_copy_succeeded(): ksm_might_unmap_zero_page()
        if (pfn === ZERO_PFN && (fl & PTE.dirty) !== 0 && k.ksm !== null) ksmMightUnmapZeroPage(k, mm);
      }
      pt.clear(t, j);
    }
    k.charge(k.hw.costs.copyPage * HPAGE_PMD_NR);
    for (const h of toPut) k.folioPut(h);
    // the emptied PTE table is deposited with the new PMD mapping
    s.deposited.set(kk, t);
    addNewAnonRmapPmd(k, nh, mm, vma, v);
    lruAdd(k, nh, false);
    const w = writable || (vma.flags & VM.write) !== 0 ? PTE.write | PTE.dirty | k.sd : 0;
    pt.set(pmd, i, nh, PTE.present | PTE.huge | PTE.young | w);
    k.hooks.pte.afterSet.call(mm, v, v + HPAGE_PMD_NR);
    k.stats.v[s.ids.thp_collapse_alloc]!++;
  }
}

/** scanPtes(): a PTE that stops the collapse for good (uffd-wp, not present: EINVAL) */
const SCAN_FAIL = -1;
/** scanPtes(): a page with extra references (is_refcount_suitable() fails): EAGAIN */
const SCAN_PAGE_COUNT = -2;
/** scanPtes(): present anonymous pages found, none writable */
const SCAN_READONLY = 1;
/** scanPtes(): present anonymous pages found, one writable */
const SCAN_WRITABLE = 2;

/**
 * The PTE checks of hpage_collapse_scan_pmd() / __collapse_huge_page_isolate() over one table:
 * SCAN_FAIL / SCAN_PAGE_COUNT (a PTE that stops the collapse), 0 (no page but the zero page), SCAN_READONLY or
 * SCAN_WRITABLE. `swapOk`: swap PTEs are skipped (counted by the caller) unless uffd-wp.
 */
function scanPtes(k: Kernel, base: number, swapOk: boolean): number {
  const f = k.f;
  const pt = k.pt;
  let any = false;
  let writable = false;
  for (let j = 0; j < HPAGE_PMD_NR; j++) {
    const fl = pt.fl[base + j]!;
    if (fl === 0) continue;
    if ((fl & PTE.uffdWp) !== 0) return SCAN_FAIL; // SCAN_PTE_UFFD_WP (pte_swp_uffd_wp_any too)
    if ((fl & PTE.swap) !== 0 && swapOk) continue;
    if ((fl & PTE.present) === 0 || (fl & PTE.protNone) !== 0) return SCAN_FAIL;
    const pfn = pt.val[base + j]!;
    if (pfn === ZERO_PFN) continue;
    any = true;
    if ((fl & PTE.write) !== 0) writable = true;
    const head = f.head(pfn);
    const expect = f.folioMapcount(head) + ((f.flags[head]! & PG.swapcache) !== 0 ? f.nrPages(head) : 0);
    if ((f.flags[head]! & PG.anon) === 0) return SCAN_FAIL;
    if (f.ref[head] !== expect || f.maybeDmaPinned(head)) return SCAN_PAGE_COUNT;
  }
  return !any ? 0 : writable ? SCAN_WRITABLE : SCAN_READONLY;
}

function hasSwapPtes(k: Kernel, base: number): boolean {
  for (let j = 0; j < HPAGE_PMD_NR; j++) if ((k.pt.fl[base + j]! & PTE.swap) !== 0) return true;
  return false;
}

/**
 * A 2 MiB range not collapsed: thp_collapse_failed, and the errno madvise_collapse() returns
 * for its last failure (madvise_collapse_errno(): ENOMEM for the allocation, EAGAIN for
 * SCAN_PAGE_COUNT and the other transient results, EINVAL for the rest).
 */
function failed(k: Kernel, errno: string): void {
  k.stats.v[thpState(k).ids.thp_collapse_failed]!++;
  k.lastErrno = errno;
}
