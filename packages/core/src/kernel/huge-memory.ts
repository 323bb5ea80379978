/**
 * PMD-mapped transparent huge pages, mm/huge_memory.c: the THP state (deposited tables, huge
 * zero page), PMD lookups (follow_trans_huge_pmd), the PMD-level rmap (folio_add_new_anon_rmap /
 * folio_add_anon_rmap_pmd / folio_remove_rmap_pmd), pgtable_trans_huge_deposit/withdraw and
 * __split_huge_pmd(). The PMD fault paths are in huge-pmd-fault.ts, zap/copy/change/move/pageout
 * of a huge PMD in huge-pmd-ops.ts, MADV_COLLAPSE in khugepaged.ts.
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
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { HUGE_ZERO_PFN, ZERO_PFN } from '../mem/phys-mem.js';
import { C } from '../stats/counters.js';
import { HPAGE_PMD_NR, PMD_ORDER, pmdIndex, pmdStart } from '../units.js';
import { tableAt } from './pgwalk.js';
import { anonVmaPrepare } from './rmap.js';
import { flush } from './tlb-flush.js';

/** Stride of a PMD-sized TLB flush (flush_pmd_tlb_range). */
export const PMD_SHIFT = 21;

interface ThpState {
  /** PMD slot (pt.slot(table, index)) → the PTE table deposited with that PMD mapping */
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

/** Forget a kernel's THP state (resetKernelState(): its counters stay defined, thpState() makes the rest anew). */
export function forgetThpState(k: Kernel): void {
  states.delete(k);
}

/** Global slot of the PMD entry covering vpn when it is a huge leaf, else -1. */
export function hugePmdSlot(k: Kernel, mm: MmStruct, vpn: number): number {
  const pmd = tableAt(k, mm, vpn, 1, false);
  if (pmd < 0) return -1;
  const kk = k.pt.slot(pmd, pmdIndex(vpn));
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
export function addNewAnonRmapPmd(k: Kernel, head: number, mm: MmStruct, vma: Vma, start: number): void {
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
export function addRmapPmd(k: Kernel, head: number, mm: MmStruct): void {
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
export function removeRmapPmd(k: Kernel, head: number, mm: MmStruct): void {
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
    if (c > 0 && c < HPAGE_PMD_NR) deferredSplitFolio(k, head);
  } else if (f.entireMapcount[head]! < 0) throw new SimError(`entire mapcount underflow on folio ${head}`, 'internal');
}

/**
 * deferred_split_folio(folio, partially_mapped): queue a partially mapped anon large folio for
 * a split under memory pressure, counting the events once per folio.
 */
export function deferredSplitFolio(k: Kernel, head: number): void {
  const f = k.f;
  const order = f.order[head]!;
  // order-1 folios have no deferred list (8897277acfef, v6.8)
  if (order <= 1) return;
  // PageSwapCache: reclaim handles the folio already (memcg-aware deferred split, v5.4)
  if ((f.flags[head]! & PG.swapcache) !== 0) return;
  if ((f.flags[head]! & PG.partiallyMapped) !== 0) return;
  f.flags[head]! |= PG.partiallyMapped;
  const feat = k.config.features;
  // folio_test_pmd_mappable() before count_vm_event() (98046944a159, v6.10)
  if (order >= PMD_ORDER || !feat.deferredSplitPmdOnly) k.stats.v[C.thp_deferred_split_page]!++;
  // count_mthp_stat(order, MTHP_STAT_SPLIT_DEFERRED) (f216c845f3c7, v6.11)
  if (feat.mthpSplitStats) k.stats.v[k.mthpSplitDeferred[order]!]!++;
}

export function setExclusive(k: Kernel, head: number, on: boolean): void {
  const f = k.f;
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    if (on) f.flags[head + i]! |= PG.anonExclusive;
    else f.flags[head + i]! &= ~PG.anonExclusive;
  }
}

export function deposit(k: Kernel, mm: MmStruct, slot: number): void {
  thpState(k).deposited.set(slot, k.allocTable(mm, 0));
}

/** pgtable_trans_huge_withdraw() */
export function withdraw(k: Kernel, mm: MmStruct, slot: number): number {
  const s = thpState(k);
  const t = s.deposited.get(slot);
  s.deposited.delete(slot);
  return t ?? k.allocTable(mm, 0);
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
  const kk = pt.slot(pmd, i);
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
  const i = pmdIndex(vpn);
  if ((k.pt.fl[k.pt.slot(pmd, i)]! & PTE.huge) === 0) return false;
  splitHugePmd(k, mm, pmd, i, pmdStart(vpn), reason);
  return true;
}

/** count_swpout_vm_event(): a PMD-sized folio written to swap (thp_swpout). */
export function countThpSwpout(k: Kernel, head: number): void {
  if (k.f.order[head] !== PMD_ORDER) return;
  // the id first: thpState() may define counters, and define() may replace stats.v
  const id = thpState(k).ids.thp_swpout;
  k.stats.v[id]!++;
}
