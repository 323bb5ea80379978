/**
 * MADV_FREE (v4.5): madvise_free_single_vma() → madvise_free_pte_range() (mm/madvise.c), lazyfree
 * folios (folio_mark_lazyfree() → lru_lazyfree(): PG_swapbacked cleared, on the inactive file
 * list since f7ad2a6cb9f7, v4.12) and their reclaim: try_to_unmap_one()'s "MADV_FREE page check"
 * (a clean folio is discarded without swap; a redirtied one gets PG_swapbacked back) and
 * shrink_folio_list()'s PGLAZYFREED. mmsim keeps anonymous folios' PG_swapbacked implicit
 * (PG.anon), so a lazyfree folio is PG.anon | PG.lazyfree. Large folios are left alone.
 */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { C } from '../stats/counters.js';
import { PTRS_PER_TABLE, pmdStart, pteIndex } from '../units.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { lruAddDrain, lruBatchAdd } from './lru-batch.js';
import { folioFreeSwap, freeSwapAndCache } from './swap-cache.js';
import { flushPage } from './tlb-flush.js';
import { removeRmapPtes } from './rmap.js';
import { mlockVmaFolio } from './mlock.js';

/**
 * MADV_FREE of [start, end): per VMA (a file or shared mapping is EINVAL, a VM_LOCKED one too:
 * madvise_dontneed_free_valid_vma(); the walk stops there), lru_add_drain(), then each PTE: a
 * swap entry is dropped (free_swap_and_cache(): the next access reads zeros), a present small
 * folio mapped only here, or clean and out of the swap cache, has its PTE's young and dirty bits
 * cleared (one flush at the end) and is marked lazyfree.
 */
export function madviseFree(k: Kernel, mm: MmStruct, start: number, end: number): void {
  const f = k.f;
  const pt = k.pt;
  lruAddDrain(k, k.cpu);
  const tlb = k.gather(mm);
  let error: SimError | null = null;
  for (const vma of mm.vmasIn(start, end)) {
    if (vma.file !== null || (vma.flags & (VM.shared | VM.locked)) !== 0) {
      error = new SimError('madvise(free): not a private anonymous, unlocked mapping', 'einval');
      break;
    }
    const s = Math.max(start, vma.start);
    const e = Math.min(end, vma.end);
    for (let v = s; v < e; ) {
      const tEnd = Math.min(e, pmdStart(v) + PTRS_PER_TABLE);
      k.condResched(tEnd - v);
      let t = pteTable(k, mm, v);
      if (t < 0) {
        v = tEnd; // no table, or a PMD-mapped THP (left alone)
        continue;
      }
      for (let a = v; a < tEnd; a++) {
        const kk = pt.slot(t, pteIndex(a));
        const fl = pt.fl[kk]!;
        if (fl === 0) continue;
        if ((fl & PTE.present) === 0) {
          if ((fl & PTE.swap) !== 0) {
            // "just clear page table to prevent swap-in which is more expensive"
            t = pteTableForWrite(k, mm, a, false, 'madvise');
            const slot = pt.val[pt.slot(t, pteIndex(a))]!;
            pt.clear(t, pteIndex(a));
            mm.swapEnts--;
            freeSwapAndCache(k, slot);
            k.charge(k.hw.costs.pteUpdate);
          }
          continue;
        }
        const pfn = pt.val[kk]!;
        if (k.mem.isZeroPfn(pfn)) continue;
        const head = f.head(pfn);
        if (f.order[head]! > 0) continue; // large folios: not modelled
        if ((f.flags[head]! & (PG.swapcache | PG.dirty)) !== 0) {
          if (f.folioMapcount(head) !== 1) continue;
          if ((f.flags[head]! & PG.swapcache) !== 0 && !folioFreeSwap(k, head)) continue;
          f.flags[head]! &= ~PG.dirty; // folio_clear_dirty()
        }
        if ((fl & (PTE.young | PTE.dirty)) !== 0) {
          // clear_young_dirty_ptes(CYDP_CLEAR_YOUNG | CYDP_CLEAR_DIRTY), tlb_remove_tlb_entries()
          t = pteTableForWrite(k, mm, a, false, 'madvise');
          pt.fl[pt.slot(t, pteIndex(a))]! &= ~(PTE.young | PTE.dirty);
          k.charge(k.hw.costs.pteUpdate);
          tlb.addRange(a);
        }
        folioMarkLazyfree(k, head);
      }
      v = tEnd;
    }
  }
  tlb.finish('madvise_free');
  if (error !== null) throw error;
}

/** folio_mark_lazyfree(): an anonymous, swap-backed folio outside the swap cache goes to the lru_lazyfree batch. */
export function folioMarkLazyfree(k: Kernel, head: number): void {
  const fl = k.f.flags[head]!;
  if ((fl & PG.anon) === 0 || (fl & (PG.lazyfree | PG.swapcache | PG.unevictable)) !== 0) return;
  lruBatchAdd(k, head, 'lazyfree');
}

/**
 * try_to_unmap_one() of a lazyfree folio (the MADV_FREE page check): each PTE is cleared and
 * flushed (its dirty bit goes to the folio); a dirty folio ("redirtied") gets its PTE back and
 * PG_swapbacked (no longer lazyfree), a folio with a reference besides the isolation and its
 * mappings (a pin, a batch) gets its PTE back; else the mapping is dropped (the PTE stays none:
 * the next access faults a new zero-filled page). A VM_LOCKED VMA stops the walk (mlocked).
 */
export function tryToUnmapLazyfree(k: Kernel, head: number): void {
  const f = k.f;
  const fam = f.anonVma[head]!;
  if (fam < 0) return;
  for (const { mm, vma } of [...k.anonVmas.members(fam)]) {
    if (f.mapcount[head] === 0) return;
    const vpn = vma.addressOf(f.index[head]!);
    if (vpn < 0) continue;
    const probe = pteTable(k, mm, vpn);
    if (probe < 0) continue;
    const pk = k.pt.slot(probe, pteIndex(vpn));
    if ((k.pt.fl[pk]! & PTE.present) === 0 || k.pt.val[pk] !== head) continue;
    if ((vma.flags & VM.locked) !== 0) {
      mlockVmaFolio(k, head, vma);
      return;
    }
    const t = pteTableForWrite(k, mm, vpn, false, 'reclaim');
    k.hooks.pte.beforeChange.call(mm, vpn, vpn + 1, 'try_to_unmap');
    const i = pteIndex(vpn);
    const fl = k.pt.fl[k.pt.slot(t, i)]!;
    k.pt.clear(t, i);
    const saved = k.cpu;
    flushPage(k, mm, vpn, 'try_to_unmap'); // ptep_clear_flush()
    k.cpu = saved;
    if ((fl & PTE.dirty) !== 0) f.flags[head]! |= PG.dirty;
    if ((f.flags[head]! & PG.dirty) !== 0) {
      // "redirtied either using the page table or a previously obtained GUP reference"
      k.pt.set(t, i, head, fl);
      f.flags[head]! &= ~PG.lazyfree; // folio_set_swapbacked()
      return;
    }
    if (f.ref[head] !== 1 + f.folioMapcount(head)) {
      k.pt.set(t, i, head, fl); // an additional reference: act as if nothing happened
      return;
    }
    removeRmapPtes(k, head, head, 1, mm);
    k.charge(k.hw.costs.pteUpdate);
    k.folioPut(head);
  }
}

/**
 * shrink_folio_list() of an unmapped lazyfree folio: only the isolation reference left
 * (folio_ref_freeze(folio, 1)) frees it without swap (pglazyfreed, pgsteal). Whether it did.
 */
export function discardLazyfree(k: Kernel, head: number): boolean {
  const f = k.f;
  if (f.folioMapcount(head) !== 0 || f.ref[head] !== 1) return false;
  const nr = 1 << f.order[head]!;
  k.stats.v[C.pglazyfreed]! += nr;
  k.stats.v[C.pgsteal]! += nr;
  f.flags[head]! &= ~(PG.active | PG.workingset | PG.referenced);
  k.folioPut(head);
  return true;
}
