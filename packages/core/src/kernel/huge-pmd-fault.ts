/**
 * The PMD level of the anonymous fault paths, mm/huge_memory.c: do_huge_pmd_anonymous_page()
 * (with set_huge_zero_folio() for reads), do_huge_pmd_wp_page() / do_huge_zero_wp_pmd(),
 * huge_pmd_set_accessed(), map_anon_folio_pmd().
 */
import { SimError, type Kernel } from './kernel.js';
import { khugepagedEnterVma } from './khugepaged-scan.js';
import type { VmFault } from './vm-fault.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { HUGE_ZERO_PFN } from '../mem/phys-mem.js';
import { C } from '../stats/counters.js';
import { HPAGE_PMD_NR, PMD_ORDER, pmdIndex, pmdStart } from '../units.js';
import { tableAt } from './pgwalk.js';
import { anonVmaPrepare } from './rmap.js';
import { lruAdd } from './lru-batch.js';
import { folioFreeSwap } from './swap-cache.js';
import { flush } from './tlb-flush.js';
import { faultDone } from './fault-done.js';
import { clearDecider, decider } from '../di/instrument.js';
import { addNewAnonRmapPmd, deposit, PMD_SHIFT, setExclusive, splitHugePmd, thpState } from './huge-memory.js';

/* ------------------------------------------------------------------ faults */

/**
 * The PMD level of __handle_mm_fault(): a fault on a huge PMD (do_huge_pmd_wp_page / spurious),
 * or on a none PMD when order 9 is allowed and the aligned 2 MiB lies inside the VMA
 * (do_huge_pmd_anonymous_page). Returns a FaultResult (0 = OK, 3 = SEGV), or -1 to continue on
 * the PTE level (no THP, a fallback, or a split). `pmd`: the PMD table covering vmf.vpn
 * (tableAt(mm, vpn, 1, alloc)), when the caller has walked there already.
 */
export function hugePmdFault(k: Kernel, vmf: VmFault, pmd: number = tableAt(k, vmf.mm, vmf.vpn, 1, true)): number {
  const { mm, vma, vpn, write, unshare } = vmf;
  if (pmd < 0) return -1;
  const i = pmdIndex(vpn);
  const kk = k.pt.slot(pmd, i);
  const fl = k.pt.fl[kk]!;
  if ((fl & PTE.huge) !== 0) {
    if ((fl & PTE.protNone) !== 0) return 3;
    vmf.table = pmd;
    vmf.index = i;
    if ((write || unshare) && (fl & PTE.write) === 0) return doHugePmdWpPage(k, vmf, pmd, i);
    // huge_pmd_set_accessed(): a spurious fault
    k.pt.fl[kk] = fl | PTE.young | (write ? PTE.dirty | k.sd : 0);
    faultDone(k, mm, vpn, write, 'spurious', PMD_ORDER);
    return 0;
  }
  if (fl !== 0) return -1;
  if (vma.file !== null) return -1; // no file THPs: create_huge_pmd() only for vma_is_anonymous()
  if ((vma.flags & VM.uffdMissing) !== 0) return -1;
  const start = pmdStart(vpn);
  if (start < vma.start || start + HPAGE_PMD_NR > vma.end) return -1;
  // thp_vma_allowable_orders(vma, TVA_PAGEFAULT, PMD_ORDER); untapped it is order 0 only
  const h = k.hooks.fault.anonOrders;
  const orders = h.isUsed() ? h.call(1, vmf) : 1;
  if ((orders & (1 << PMD_ORDER)) === 0) return -1;
  return doHugePmdAnonymousPage(k, vmf, pmd, i);
}

function doHugePmdAnonymousPage(k: Kernel, vmf: VmFault, pmd: number, i: number): number {
  const { mm, vma, vpn, write } = vmf;
  const start = pmdStart(vpn);
  const slot = k.pt.slot(pmd, i);
  const s = thpState(k);
  khugepagedEnterVma(k, mm, vma);
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
    faultDone(k, mm, vpn, false, 'huge-zero', PMD_ORDER);
    return 0;
  }
  let head: number;
  try {
    head = k.allocFolio(PMD_ORDER, true);
  } catch (e) {
    if (e instanceof SimError && e.code === 'enomem') {
      k.stats.v[C.thp_fault_fallback]!++;
      // count_mthp_stat(MTHP_STAT_ANON_FAULT_FALLBACK) (ec33687c6749, v6.9); _CHARGE when the memcg charge failed
      if (k.config.features.mthpFaultStats) {
        k.stats.v[k.mthpFaultFallback[PMD_ORDER]!]!++;
        if (e.field === 'memcg') k.stats.v[k.mthpFaultFallbackCharge[PMD_ORDER]!]!++;
      }
      return -1;
    }
    throw e;
  }
  mapNewThp(k, mm, vma, head, start, pmd, i, true);
  k.stats.v[C.thp_fault_alloc]!++;
  if (k.config.features.mthpFaultStats) k.stats.v[k.mthpFaultAlloc[PMD_ORDER]!]!++; // MTHP_STAT_ANON_FAULT_ALLOC (v6.9)
  faultDone(k, mm, vpn, true, 'huge', PMD_ORDER);
  return 0;
}

/** map_anon_folio_pmd(): rmap, LRU, deposit (when `depositTable`), the PMD entry. */
function mapNewThp(
  k: Kernel,
  mm: MmStruct,
  vma: Vma,
  head: number,
  start: number,
  pmd: number,
  i: number,
  depositTable: boolean,
): void {
  addNewAnonRmapPmd(k, head, mm, vma, start);
  lruAdd(k, head);
  if (depositTable) deposit(k, mm, k.pt.slot(pmd, i));
  // maybe_pmd_mkwrite(pmd_mkdirty(entry), vma): dirty always (a FOLL_FORCE write into a
  // read-only VMA, gup-force.ts, maps it dirty but not writable)
  const w = (vma.flags & VM.write) !== 0 ? PTE.write | PTE.dirty | k.sd : PTE.dirty | k.sd;
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
function doHugePmdWpPage(k: Kernel, vmf: VmFault, pmd: number, i: number): number {
  const { mm, vma, vpn } = vmf;
  const kk = k.pt.slot(pmd, i);
  const val = k.pt.val[kk]!;
  const start = pmdStart(vpn);
  vmf.pfn = val + (vpn & (HPAGE_PMD_NR - 1));
  vmf.head = val;
  if (val === HUGE_ZERO_PFN) {
    // an unshare (a R/O longterm pin, v6.2+) splits and unshares the PTE: `goto fallback`
    const order = vmf.unshare ? 0 : k.hooks.fault.cowOrder.call(0, vmf);
    if (order === PMD_ORDER) {
      let head = -1;
      try {
        head = k.allocFolio(PMD_ORDER, true);
      } catch (e) {
        if (!(e instanceof SimError && e.code === 'enomem')) throw e;
        k.stats.v[C.thp_fault_fallback]!++;
        // vma_alloc_anon_folio_pmd(): MTHP_STAT_ANON_FAULT_FALLBACK (v6.9)
        if (k.config.features.mthpFaultStats) k.stats.v[k.mthpFaultFallback[PMD_ORDER]!]!++;
      }
      if (head >= 0) {
        // pmdp_huge_clear_flush(), then map the new folio; the deposited table stays
        k.hooks.pte.beforeChange.call(mm, start, start + HPAGE_PMD_NR, 'do_huge_zero_wp_pmd');
        k.pt.clear(pmd, i);
        flush(k, 'range', mm, start, start + HPAGE_PMD_NR, 'do_huge_zero_wp_pmd', false, false, PMD_SHIFT);
        mapNewThp(k, mm, vma, head, start, pmd, i, false);
        k.stats.v[C.thp_fault_alloc]!++;
        if (k.config.features.mthpFaultStats) k.stats.v[k.mthpFaultAlloc[PMD_ORDER]!]!++;
        k.stats.v[C.cow_zero]!++;
        faultDone(k, mm, vpn, true, 'wp-zero', PMD_ORDER);
        return 0;
      }
    }
    splitHugePmd(k, mm, pmd, i, start, 'do_huge_pmd_wp_page');
    return -1;
  }
  const f = k.f;
  if (vmf.unshare && (f.flags[val]! & PG.anonExclusive) !== 0) return 0;
  k.hooks.fault.beforeWpReuse.call(vmf);
  if (k.explain !== null) clearDecider();
  const decision = k.hooks.fault.wpReuse.call(vmf) ?? defaultPmdReuse(k, val);
  if (k.explain !== null) k.explain.wpReuse(vmf, val, decision === 'reuse' ? 'reuse' : 'copy', decider());
  if (decision === 'reuse') {
    setExclusive(k, val, true);
    const fl = k.pt.fl[kk]!;
    if (vmf.unshare) k.pt.fl[kk] = fl | PTE.young;
    else {
      k.hooks.pte.beforeChange.call(mm, start, start + HPAGE_PMD_NR, 'wp_page_reuse');
      k.pt.fl[kk] = fl | PTE.young | PTE.dirty | k.sd | (vmf.vma.flags & VM.write ? PTE.write : 0); // maybe_pmd_mkwrite()
      k.hooks.pte.afterSet.call(mm, start, start + HPAGE_PMD_NR);
    }
    k.stats.v[C.pgreuse]!++;
    k.charge(k.hw.costs.pteUpdate);
    faultDone(k, mm, vpn, vmf.write, 'wp-reuse', PMD_ORDER);
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
