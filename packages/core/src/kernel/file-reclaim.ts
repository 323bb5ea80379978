/**
 * Reclaim of page-cache and shmem folios (mm/vmscan.c shrink_folio_list() for a
 * !folio_test_anon() folio; mm/rmap.c try_to_unmap() over i_mmap; mm/filemap.c
 * __filemap_remove_folio(); mm/shmem.c shmem_writeout()).
 *   folio_check_references(): referenced PTEs keep the folio once (PG_referenced), activate it
 *     when it was referenced before or by more than one PTE; an unmapped folio referenced by
 *     read() (PG_referenced) that is clean is reclaimed (FOLIOREF_RECLAIM_CLEAN)
 *   mapped: try_to_unmap() clears the PTEs (the dirty bits go to the folio)
 *   dirty file folio: writeback starts (standing for the flusher reclaim wakes), PG_reclaim set;
 *     when it ends (the next shrink_node()) folio_rotate_reclaimable() moves it to the inactive
 *     tail, and a later pass frees it
 *   clean: __remove_mapping() with a shadow entry in i_pages (workingset_eviction())
 *   shmem (swap-backed, on the anon lists): a dirty folio is written to swap (shmem_writeout()),
 *     a clean one (never written: zero-filled) is dropped
 */
import { PG } from '../mem/folios.js';
import { LRU } from '../mem/lru.js';
import { PTE } from '../mm/pte.js';
import { C } from '../stats/counters.js';
import { pteIndex } from '../units.js';
import type { Kernel } from './kernel.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { removeRmapPtes } from './rmap.js';
import { flushPage, tlbBatchAdd, tlbBatchFlush } from './tlb-flush.js';
import { folioReferenced } from './referenced.js';
import { canReclaimAnon, moveFolioToLru, type ScanControl } from './vmscan.js';
import { workingsetEviction } from './workingset.js';
import { filemapRemoveFolio } from './filemap.js';
import { shmemWriteout } from './shmem-swap.js';

/** shrink_folio_list() for one isolated page-cache or shmem folio: the pages freed (0: kept). */
export function shrinkFileFolio(k: Kernel, head: number, sc: ScanControl): number {
  const f = k.f;
  const nr = 1 << f.order[head]!;
  const shmem = (f.flags[head]! & PG.swapbacked) !== 0;
  if ((f.flags[head]! & PG.writeback) !== 0) {
    moveFolioToLru(k, head); // under writeback: kept, PG_reclaim set when reclaim started it
    return 0;
  }
  // folio_check_references()
  const referencedPtes = folioReferenced(k, head);
  const referencedFolio = (f.flags[head]! & PG.referenced) !== 0;
  f.flags[head]! &= ~PG.referenced;
  if (referencedPtes > 0) {
    f.flags[head]! |= PG.referenced;
    // before v5.9 one referenced PTE activated a swap-backed folio (anonTwoReferences)
    const once = shmem && !k.config.features.anonTwoReferences;
    if (once || referencedFolio || referencedPtes > 1) activate(k, head, nr);
    else moveFolioToLru(k, head); // FOLIOREF_KEEP
    return 0;
  }
  if (shmem && !canReclaimAnon(k) && (f.flags[head]! & PG.dirty) !== 0) {
    activate(k, head, nr);
    return 0;
  }
  if (f.folioMapcount(head) > 0) {
    tryToUnmapFile(k, head, true);
    if (f.folioMapcount(head) > 0) {
      activate(k, head, nr);
      return 0;
    }
  }
  const as = k.pageCache.spaces[f.anonVma[head]!]!;
  if ((f.flags[head]! & PG.dirty) !== 0 && !shmem) {
    // the TLB must not hold a writable entry while the page is written out
    tlbBatchFlush(k, true);
    pageoutFile(k, head);
    sc.nrPageout += nr;
    moveFolioToLru(k, head);
    return 0;
  }
  // __remove_mapping(): only the isolation and the page cache's references may remain
  if (f.ref[head] !== 1 + nr) {
    moveFolioToLru(k, head);
    return 0;
  }
  if (shmem && (f.flags[head]! & PG.dirty) !== 0) {
    tlbBatchFlush(k, true);
    if (!shmemWriteout(k, as, head)) {
      activate(k, head, nr);
      return 0;
    }
    sc.nrPageout += nr;
  } else filemapRemoveFolio(k, as, head, workingsetEviction(k, head));
  k.stats.v[C.pgsteal]! += nr;
  f.flags[head]! &= ~(PG.active | PG.workingset | PG.referenced | PG.reclaim);
  k.folioPut(head); // the isolation reference: frees it
  return nr;
}

/** activate_locked */
function activate(k: Kernel, head: number, nr: number): void {
  k.f.flags[head]! |= PG.active;
  k.stats.v[C.pgactivate]! += nr;
  moveFolioToLru(k, head);
}

/**
 * pageout() → writepage of a dirty page-cache folio: its contents to the file, the folio clean
 * and under writeback with PG_reclaim until the next shrink_node() (Kernel.completeWriteback).
 */
function pageoutFile(k: Kernel, head: number): void {
  const f = k.f;
  const as = k.pageCache.spaces[f.anonVma[head]!]!;
  as.disk[f.index[head]!] = f.data[head]!;
  f.flags[head]! = (f.flags[head]! & ~PG.dirty) | PG.writeback | PG.reclaim;
  k.pendingWriteback.push(head);
  k.stats.v[C.nr_written]!++;
  k.stats.v[C.pgpgout]! += 4;
  k.charge(k.hw.costs.swapIoPage);
}

/** folio_end_writeback() → folio_rotate_reclaimable(): a clean PG_reclaim folio to the inactive tail. */
export function folioRotateReclaimable(k: Kernel, head: number): void {
  const f = k.f;
  f.flags[head]! &= ~PG.reclaim;
  const fl = f.flags[head]!;
  if ((fl & PG.lru) === 0 || (fl & PG.dirty) !== 0) return;
  const nr = 1 << f.order[head]!;
  const lru = LRU.inactiveFile + ((fl & PG.active) !== 0 ? 1 : 0);
  k.lruvec.del(lru, head, nr);
  f.flags[head]! &= ~PG.active;
  k.lruvec.addTail(LRU.inactiveFile, head, nr);
}

/** try_to_unmap() of a page-cache folio: every PTE mapping it cleared (a later access faults it in again). */
export function tryToUnmapFile(k: Kernel, head: number, batch: boolean): void {
  const f = k.f;
  const as = k.pageCache.spaces[f.anonVma[head]!]!;
  const index = f.index[head]!;
  for (const { mm, vma } of [...as.iMmap]) {
    if (f.mapcount[head] === 0) break;
    const vpn = vma.addressOf(index);
    if (vpn < 0) continue;
    const probe = pteTable(k, mm, vpn);
    if (probe < 0) continue;
    const pk = k.pt.slot(probe, pteIndex(vpn));
    if ((k.pt.fl[pk]! & PTE.present) === 0 || k.pt.val[pk] !== head) continue;
    const t = pteTableForWrite(k, mm, vpn, false, 'reclaim');
    k.hooks.pte.beforeChange.call(mm, vpn, vpn + 1, 'try_to_unmap');
    const kk = k.pt.slot(t, pteIndex(vpn));
    const fl = k.pt.fl[kk]!;
    k.pt.clear(t, pteIndex(vpn));
    const saved = k.cpu;
    if (batch && (k.hw.tlbbatchShouldDefer?.(mm, k.cpu) ?? true)) tlbBatchAdd(k, mm, (fl & PTE.dirty) !== 0, vpn);
    else flushPage(k, mm, vpn, 'try_to_unmap');
    k.cpu = saved;
    if ((fl & PTE.dirty) !== 0) f.flags[head]! |= PG.dirty;
    removeRmapPtes(k, head, head, 1, mm);
    k.charge(k.hw.costs.pteUpdate);
    k.folioPut(head);
  }
}
