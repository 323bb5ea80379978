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
import { memcgModAnon } from './memcontrol.js';
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { HUGE_ZERO_PFN, ZERO_PFN } from '../mem/phys-mem.js';
import { C } from '../stats/counters.js';
import { HPAGE_PMD_NR, PMD_ORDER, pmdIndex, pmdStart, pteIndex } from '../units.js';
import { pteTable, tableAt } from './pgwalk.js';
import { anonVmaPrepare } from './rmap.js';
import { flush, flushPage, tlbBatchAdd, tlbBatchFlush } from './tlb-flush.js';
import { folioLru } from './lru-batch.js';
import { lruGenSplitHead, lruGenSplitTail } from './lru-gen.js';

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
  // folio_add_new_anon_rmap(): mod_mthp_stat(order, MTHP_STAT_NR_ANON, 1) (5d65c8d758f2, v6.12)
  if (k.config.features.mthpNrAnonStats) k.stats.v[k.mthpNrAnon[PMD_ORDER]!]!++;
  k.nrAnonThp += HPAGE_PMD_NR;
  k.nrAnonMapped += HPAGE_PMD_NR;
  memcgModAnon(k, head, HPAGE_PMD_NR);
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
    memcgModAnon(k, head, c);
  }
  f.largeMapcount[head]!++;
  mm.rssAnon += HPAGE_PMD_NR;
}

/** folio_remove_rmap_pmd(): drop a PMD mapping; a folio left partially PTE-mapped is queued for deferred split. */
export function removeRmapPmd(k: Kernel, head: number, mm: MmStruct): void {
  const f = k.f;
  f.largeMapcount[head]!--;
  mm.updateHiwaterRss();
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
    memcgModAnon(k, head, -c);
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
  // mod_mthp_stat(order, MTHP_STAT_NR_ANON_PARTIALLY_MAPPED, 1) (8175ebfd30b1, v6.12)
  if (feat.mthpNrAnonStats) k.stats.v[k.mthpNrAnonPartiallyMapped[order]!]!++;
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

/**
 * split_folio() → __folio_split() (mm/huge_memory.c) of a PTE-mapped anonymous large folio into
 * order-0 folios. The caller holds one reference. Not modelled (returns false, counts nothing):
 * a folio that a PMD maps, or one in the swap cache or under writeback. Returns whether it split;
 * `list` (reclaim's split_folio_to_list()) receives the mapped tail folios, isolated.
 */
export function splitFolio(k: Kernel, head: number, list: number[] | null): boolean {
  const f = k.f;
  const order = f.order[head]!;
  const fl = f.flags[head]!;
  const fam = f.anonVma[head]!;
  if (order === 0 || (fl & PG.anon) === 0 || fam < 0 || f.entireMapcount[head] !== 0) return false;
  if ((fl & (PG.swapcache | PG.writeback)) !== 0) return false;
  const feat = k.config.features;
  // can_split_folio(): no reference but the mappings' and the caller's (an LRU batch or a pin
  // holds one more): -EAGAIN, counted as split_failed (f216c845f3c7, v6.11)
  if (f.ref[head] !== f.largeMapcount[head]! + 1) {
    if (feat.mthpSplitStats) k.stats.v[k.mthpSplitFailed[order]!]!++;
    return false;
  }
  const nr = 1 << order;
  // unmap_folio(): try_to_migrate(TTU_BATCH_FLUSH) puts a migration entry in each PTE, flushed
  // at once unless should_defer_flush() (then try_to_unmap_flush() at the end), and drops the
  // page's rmap: the first one leaves the folio partially mapped (deferred_split_folio(folio,
  // true) in __folio_remove_rmap()). remove_migration_ptes() maps the same pages back after the
  // split, with the same bits: the PTEs end as they were.
  let first = true;
  for (const { mm, vma } of k.anonVmas.members(fam)) {
    for (let i = 0; i < nr; i++) {
      const pfn = head + i;
      if (f.mapcount[pfn] === 0) continue;
      const vpn = vma.addressOf(f.index[head]! + i);
      if (vpn < 0) continue;
      const t = pteTable(k, mm, vpn);
      if (t < 0) continue;
      const kk = k.pt.slot(t, pteIndex(vpn));
      const pfl = k.pt.fl[kk]!;
      if ((pfl & PTE.present) === 0 || k.pt.val[kk] !== pfn) continue;
      if (first) {
        first = false;
        if (f.largeMapcount[head]! > 1) deferredSplitFolio(k, head);
      }
      k.hooks.pte.beforeChange.call(mm, vpn, vpn + 1, 'try_to_migrate');
      const saved = k.cpu;
      if (k.hw.tlbbatchShouldDefer?.(mm, k.cpu) ?? true) tlbBatchAdd(k, mm, (pfl & PTE.dirty) !== 0, vpn);
      else flushPage(k, mm, vpn, 'try_to_migrate');
      k.cpu = saved;
      k.charge(k.hw.costs.pteUpdate * 2); // the migration entry, then remove_migration_pte()
      k.hooks.pte.afterSet.call(mm, vpn, vpn + 1);
    }
  }
  tlbBatchFlush(k, false);
  const f2 = k.f.flags[head]!; // deferredSplitFolio() may have set PG.partiallyMapped
  // __folio_split(): off the deferred split queue: NR_ANON_PARTIALLY_MAPPED -1; the old order's
  // NR_ANON -1 (the order-0 folios are not counted in sysfs) (v6.12)
  if (feat.mthpNrAnonStats) {
    if ((f2 & PG.partiallyMapped) !== 0) k.stats.v[k.mthpNrAnonPartiallyMapped[order]!]!--;
    k.stats.v[k.mthpNrAnon[order]!]!--;
  }
  const keep = f2 & (PG.anon | PG.dirty | PG.active | PG.referenced | PG.lru | PG.allocated);
  const idx = f.index[head]!;
  for (let i = 0; i < nr; i++) f.order[head + i] = 0;
  f.flags[head] = (f.flags[head]! & PG.anonExclusive) | keep;
  if (f.largeMapcount[head] !== 0) f.largeMapcount[head] = 0;
  if (f.pincount[head] !== 0) f.pincount[head] = 0;
  // the new folios: one reference per mapping (remove_migration_pte()), the caller's stays on the head
  f.ref[head] = f.mapcount[head]! + 1;
  // a folio on an LRU list stays there as its order-0 head: its list counts one page now
  const onLru = (keep & PG.lru) !== 0;
  const lrugen = k.lrugen !== null && onLru;
  const lru = lrugen ? lruGenSplitHead(k, head, nr) : folioLru(keep);
  if (onLru) k.lruvec.pages[lru]! -= nr - 1;
  for (let i = 1; i < nr; i++) {
    const p = head + i;
    f.flags[p] = (f.flags[p]! & PG.anonExclusive) | (keep & ~PG.lru);
    f.anonVma[p] = fam;
    f.index[p] = idx + i;
    if (f.mapcount[p] === 0) {
      // free_folio_and_swap_cache(): an unmapped tail is freed (it was never on a list)
      f.ref[p] = 1;
      k.folioPut(p);
      continue;
    }
    f.ref[p] = f.mapcount[p]!;
    if (list !== null) {
      // lru_add_split_folio(): reclaim's tails go on its list, isolated (a reference each)
      f.ref[p]!++;
      list.push(p);
    } else if (onLru) {
      // lru_add_split_folio(): folio_set_lru(new_folio); list_add_tail(&new_folio->lru, &folio->lru)
      f.flags[p]! |= PG.lru;
      k.folioLruvec(head).addBefore(lru, head, p, 1);
      if (lrugen) lruGenSplitTail(k, head, p);
    }
  }
  // count_vm_event(THP_SPLIT_PAGE) for a PMD-sized folio; count_mthp_stat(old_order,
  // MTHP_STAT_SPLIT) (f216c845f3c7, v6.11)
  if (order === PMD_ORDER) k.stats.v[C.thp_split_page]!++;
  if (feat.mthpSplitStats) k.stats.v[k.mthpSplit[order]!]!++;
  return true;
}
