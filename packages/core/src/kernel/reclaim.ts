/** Reclaim of anonymous folios: shrink_folio_list(), try_to_unmap() (mm/vmscan.c, mm/rmap.c). */
import type { Kernel } from './kernel.js';
import { discardLazyfree, tryToUnmapLazyfree } from './lazyfree.js';
import { mlockVmaFolio } from './mlock.js';
import { putbackUnevictable } from './lru-batch.js';
import { VM } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { C } from '../stats/counters.js';
import { pteIndex } from '../units.js';
import { ReclaimCtx } from '../hooks/contexts.js';
import type { ReclaimReason } from '../api/contexts.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { removeRmapPtes } from './rmap.js';
import { putbackLru } from './lru-batch.js';
import { addToSwap, deleteFromSwapCache } from './swap-cache.js';
import { countThpSwpout, splitFolio } from './huge-memory.js';
import { flushPage, tlbBatchAdd, tlbBatchFlush } from './tlb-flush.js';
import { folioReferenced } from './referenced.js';
import { moveFolioToLru, type ScanControl } from './vmscan.js';
import { workingsetEviction } from './workingset.js';
import { shrinkFileFolio } from './file-reclaim.js';
import { lruGenSetRefs } from './lru-gen.js';
import { ME, memcgEvent } from './memcontrol.js';

/**
 * reclaim_pages() → shrink_folio_list() for folios already isolated from the LRU (each holds
 * the isolation reference). Anonymous folios go to swap: add_to_swap(), try_to_unmap() with a
 * batched flush, try_to_unmap_flush_dirty() before pageout(), then __remove_mapping().
 */
export function reclaimFolios(k: Kernel, heads: number[], reason: ReclaimReason): void {
  const f = k.f;
  const ctx = new ReclaimCtx(k, k.cpu, reason);
  for (const head of heads) {
    ctx.head = head;
    ctx.pfn = head;
    // KSM folios: rmap_walk_ksm() is not modelled, they stay (docs: "Not modelled yet")
    if (k.hooks.reclaim.shouldReclaim.call(ctx) === false || (f.flags[head]! & (PG.anon | PG.ksm)) !== PG.anon) {
      keep(k, head);
      continue;
    }
    if ((f.flags[head]! & PG.mlocked) !== 0) {
      putbackUnevictable(k, head); // !folio_evictable() (mapped by a VM_LOCKED VMA elsewhere)
      continue;
    }
    // a lazyfree folio (MADV_FREE) needs no swap: discarded once unmapped (lazyfree.ts)
    const lazyfree = (f.flags[head]! & PG.lazyfree) !== 0;
    if ((f.flags[head]! & PG.swapcache) === 0 && !lazyfree) {
      if (!k.swap.enabled || (!addToSwap(k, head) && !swapoutFallback(k, head, heads))) {
        keep(k, head);
        continue;
      }
    }
    if (f.folioMapcount(head) > 0) {
      const mode = k.hooks.reclaim.unmapFlush.call(ctx) ?? 'batch';
      tryToUnmap(k, head, mode === 'batch');
      if (f.folioMapcount(head) > 0) {
        keep(k, head);
        continue;
      }
    }
    if (lazyfree) {
      if (discardLazyfree(k, head)) k.hooks.reclaim.reclaimed.call(ctx);
      else keep(k, head);
      continue;
    }
    if ((f.flags[head]! & PG.dirty) !== 0) {
      // the TLB must not hold a writable entry while the page is written out
      tlbBatchFlush(k, true);
      pageout(k, head);
    }
    if ((f.flags[head]! & PG.writeback) !== 0) {
      keep(k, head);
      continue;
    }
    // __remove_mapping(): only the isolation and swap-cache references may remain
    const nr = 1 << f.order[head]!;
    if ((f.flags[head]! & PG.swapcache) !== 0 && f.ref[head] === 1 + nr) {
      deleteFromSwapCache(k, head);
      k.stats.v[C.pgsteal]! += nr;
      k.hooks.reclaim.reclaimed.call(ctx);
      k.folioPut(head); // the isolation reference: frees it
    } else {
      keep(k, head);
    }
  }
  tlbBatchFlush(k, false);
}

/**
 * shrink_folio_list(): a large folio that found no free run of swap slots is split
 * (split_folio_to_list(): its mapped pages join the list being reclaimed) and its head page
 * tried alone; count_mthp_stat(order, MTHP_STAT_SWPOUT_FALLBACK) ("mm: add per-order mTHP
 * anon_swpout and anon_swpout_fallback counters", v6.10; `mthpSwapStats`). Whether the head got a slot.
 */
function swapoutFallback(k: Kernel, head: number, list: number[]): boolean {
  const order = k.f.order[head]!;
  if (order === 0 || !splitFolio(k, head, list)) return false;
  if (k.config.features.mthpSwapStats) k.stats.v[k.mthpSwpoutFallback[order]!]!++;
  return addToSwap(k, head);
}

/**
 * shrink_folio_list() for kswapd and direct reclaim (vmscan.ts): folios isolated from the tail of
 * the inactive list, oldest first. folio_check_references() first: referenced PTEs keep the folio
 * for another trip (PG_referenced) or activate it; unreferenced anon folios go to swap as in
 * reclaimFolios(). Returns the pages reclaimed; every folio not freed goes back to the head of
 * its list (move_folios_to_lru()).
 */
export function shrinkFolioList(k: Kernel, heads: number[], sc: ScanControl): number {
  const f = k.f;
  const ctx = new ReclaimCtx(k, k.cpu, 'pressure');
  let reclaimed = 0;
  sc.nrPageout = 0;
  const held = k.vmscan.heldFolio;
  const workingset = k.config.features.workingsetAnon;
  for (let i = 0; i < heads.length; i++) {
    const head = heads[i]!;
    const nr = 1 << f.order[head]!;
    ctx.head = head;
    ctx.pfn = head;
    // folio_trylock() fails on the folio the faulting task works on; PMD-mapped THPs are not
    // split for reclaim in this model: both stay
    if (head === held || f.entireMapcount[head]! > 0) {
      moveFolioToLru(k, head);
      continue;
    }
    // !folio_evictable(): activate_locked, then lru_add() culls it to the unevictable list
    if ((f.flags[head]! & PG.mlocked) !== 0) {
      putbackUnevictable(k, head);
      continue;
    }
    if ((f.flags[head]! & PG.filemap) !== 0) {
      // page cache and shmem: file-reclaim.ts
      if (k.hooks.reclaim.shouldReclaim.call(ctx) === false) moveFolioToLru(k, head);
      else reclaimed += shrinkFileFolio(k, head, sc);
      continue;
    }
    // KSM folios stay: their rmap (rmap_walk_ksm()) is not modelled
    if ((f.flags[head]! & (PG.anon | PG.ksm)) !== PG.anon) {
      moveFolioToLru(k, head);
      continue;
    }
    if (k.hooks.reclaim.shouldReclaim.call(ctx) === false) {
      moveFolioToLru(k, head);
      continue;
    }
    // folio_check_references()
    const referencedPtes = folioReferenced(k, head);
    // folio_referenced_one() met a VM_LOCKED VMA: "Restore the mlock which got missed"
    if ((f.flags[head]! & PG.mlocked) !== 0) {
      putbackUnevictable(k, head);
      continue;
    }
    if (k.lrugen !== null) {
      // lru_gen: lru_gen_set_refs() ? FOLIOREF_ACTIVATE : FOLIOREF_KEEP; unreferenced: reclaim
      if (referencedPtes > 0) {
        if (lruGenSetRefs(k, head)) activate(k, head, nr);
        else moveFolioToLru(k, head);
        continue;
      }
    } else {
      const referencedFolio = (f.flags[head]! & PG.referenced) !== 0;
      f.flags[head]! &= ~PG.referenced;
      if (referencedPtes > 0) {
        f.flags[head]! |= PG.referenced;
        // before v5.9 one referenced PTE activated a swap-backed page (not a lazyfree one)
        const oneRef = !k.config.features.anonTwoReferences && (f.flags[head]! & PG.lazyfree) === 0;
        if (oneRef || referencedFolio || referencedPtes > 1) activate(k, head, nr);
        else moveFolioToLru(k, head); // FOLIOREF_KEEP: another trip around the inactive list
        continue;
      }
    }
    const lazyfree = (f.flags[head]! & PG.lazyfree) !== 0;
    if ((f.flags[head]! & PG.swapcache) === 0 && !lazyfree) {
      // add_to_swap() failing (swap full) activates the folio (activate_locked)
      if (!k.swap.enabled || !addToSwap(k, head)) {
        activate(k, head, nr);
        continue;
      }
    }
    if (f.folioMapcount(head) > 0) {
      const mode = k.hooks.reclaim.unmapFlush.call(ctx) ?? 'batch';
      tryToUnmap(k, head, mode === 'batch');
      if (f.folioMapcount(head) > 0) {
        // try_to_unmap() failed (a pinned page, a redirtied lazyfree folio): activate_locked
        activate(k, head, nr);
        continue;
      }
    }
    if (lazyfree) {
      // PGLAZYFREED: freed without swap, no shadow entry
      if (discardLazyfree(k, head)) {
        k.hooks.reclaim.reclaimed.call(ctx);
        reclaimed += nr;
      } else moveFolioToLru(k, head);
      continue;
    }
    if ((f.flags[head]! & PG.dirty) !== 0) {
      tlbBatchFlush(k, true);
      pageout(k, head);
      sc.nrPageout += nr;
    }
    if ((f.flags[head]! & PG.writeback) !== 0) {
      moveFolioToLru(k, head); // under writeback: kept, reclaimed by a later pass
      continue;
    }
    // __remove_mapping(): only the isolation and swap-cache references may remain
    if ((f.flags[head]! & PG.swapcache) !== 0 && f.ref[head] === 1 + nr) {
      const slot = f.swap[head]!;
      const shadow = workingset ? workingsetEviction(k, head, sc.targetMemcg) : 0;
      deleteFromSwapCache(k, head);
      // __delete_from_swap_cache(folio, entry, shadow): the shadow stays in the (still used) slots
      if (shadow !== 0) for (let j = 0; j < nr; j++) if (k.swap.count[slot + j]! > 0) k.swap.shadow[slot + j] = shadow;
      k.stats.v[C.pgsteal]! += nr;
      k.hooks.reclaim.reclaimed.call(ctx);
      f.flags[head]! &= ~(PG.active | PG.workingset | PG.referenced);
      k.folioPut(head); // the isolation reference: frees it
      reclaimed += nr;
    } else {
      moveFolioToLru(k, head);
    }
  }
  tlbBatchFlush(k, false);
  return reclaimed;
}

/** activate_locked: PG_active set, counted, back at the head of the active list. */
function activate(k: Kernel, head: number, nr: number): void {
  k.f.flags[head]! |= PG.active;
  k.stats.v[C.pgactivate]! += nr;
  memcgEvent(k, k.f.memcg[head]!, ME.pgactivate, nr);
  moveFolioToLru(k, head);
}

function keep(k: Kernel, head: number): void {
  k.stats.v[C.reclaim_keep]!++;
  putbackLru(k, head);
}

/** swap_writepage(): write the folio to its swap slots. Synchronous devices finish at once. */
function pageout(k: Kernel, head: number): void {
  const f = k.f;
  const nr = 1 << f.order[head]!;
  const slot = f.swap[head]!;
  const swap = k.swap;
  if (k.config.features.swapZeromap) {
    // is_folio_zero_filled(): reads the folio up to its first non-zero page
    let zero = 0;
    while (zero < nr && f.data[head + zero] === 0) zero++;
    k.charge(k.hw.costs.zeroPage * zero);
    const z = zero === nr ? 1 : 0;
    for (let i = 0; i < nr; i++) swap.zeromap[slot + i] = z; // swap_zeromap_folio_set() / _clear()
    if (z === 1) {
      // no I/O, no pswpout / thp_swpout: the folio is clean at once
      f.flags[head]! &= ~PG.dirty;
      k.stats.v[C.swpout_zero]! += nr;
      return;
    }
  }
  for (let i = 0; i < nr; i++) swap.data[slot + i] = f.data[head + i]!;
  f.flags[head]! &= ~PG.dirty;
  countThpSwpout(k, head);
  // count_swpout_vm_event(): count_mthp_stat(order, MTHP_STAT_SWPOUT)
  if (nr > 1 && k.config.features.mthpSwapStats) k.stats.v[k.mthpSwpout[f.order[head]!]!]!++;
  k.stats.v[C.pswpout]! += nr;
  k.charge(k.hw.costs.swapIoPage * nr);
  if (!k.swap.opts.synchronousIo) {
    // asynchronous I/O: the folio stays in the swap cache under writeback; it completes
    // later (completeWriteback) and the clean folio waits for a later reclaim pass
    f.flags[head]! |= PG.writeback;
    k.pendingWriteback.push(head);
  }
}

/** try_to_unmap(): replace every PTE mapping the folio by a swap entry. */
export function tryToUnmap(k: Kernel, head: number, batch: boolean): void {
  const f = k.f;
  if ((f.flags[head]! & PG.lazyfree) !== 0) return tryToUnmapLazyfree(k, head);
  const fam = f.anonVma[head]!;
  if (fam < 0) return;
  const nr = 1 << f.order[head]!;
  const slot = f.swap[head]!;
  for (const { mm, vma } of [...k.anonVmas.members(fam)]) {
    for (let i = 0; i < nr; i++) {
      const pfn = head + i;
      if (f.mapcount[pfn] === 0) continue;
      const vpn = vma.addressOf(f.index[head]! + i);
      if (vpn < 0) continue;
      const probe = pteTable(k, mm, vpn);
      if (probe < 0) continue;
      const pk = k.pt.slot(probe, pteIndex(vpn));
      if ((k.pt.fl[pk]! & PTE.present) === 0 || k.pt.val[pk] !== pfn) continue;
      // try_to_unmap_one(): never from a VM_LOCKED VMA ("Restore the mlock which got missed")
      if ((vma.flags & VM.locked) !== 0) {
        mlockVmaFolio(k, head, vma);
        return;
      }
      // folio_try_share_anon_rmap_pte(): a maybe-pinned exclusive page cannot be unmapped
      const exclusive = (f.flags[pfn]! & PG.anonExclusive) !== 0;
      if (exclusive && f.maybeDmaPinned(head)) return;
      const t = pteTableForWrite(k, mm, vpn, false, 'reclaim');
      k.hooks.pte.beforeChange.call(mm, vpn, vpn + 1, 'try_to_unmap');
      const kk = k.pt.slot(t, pteIndex(vpn));
      const fl = k.pt.fl[kk]!;
      k.pt.clear(t, pteIndex(vpn));
      const saved = k.cpu;
      // should_defer_flush(): TTU_BATCH_FLUSH and arch_tlbbatch_should_defer(), else flush now
      if (batch && (k.hw.tlbbatchShouldDefer?.(mm, k.cpu) ?? true)) tlbBatchAdd(k, mm, (fl & PTE.dirty) !== 0, vpn);
      else flushPage(k, mm, vpn, 'try_to_unmap');
      k.cpu = saved;
      if ((fl & PTE.dirty) !== 0) f.flags[head]! |= PG.dirty;
      k.swap.count[slot + i]!++;
      k.pt.set(
        t,
        pteIndex(vpn),
        slot + i,
        PTE.swap | (exclusive ? PTE.swpExclusive : 0) | (fl & (PTE.uffdWp | PTE.softDirty)),
      );
      f.flags[pfn]! &= ~PG.anonExclusive;
      removeRmapPtes(k, head, pfn, 1, mm);
      mm.swapEnts++;
      k.charge(k.hw.costs.pteUpdate);
      k.folioPut(head);
    }
  }
}
