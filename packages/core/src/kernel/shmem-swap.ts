/**
 * Shmem folios and swap (mm/shmem.c): shmem_writeout() moves a clean-or-dirty, unmapped shmem
 * folio to a swap slot whose entry replaces it in i_pages (shmem_add_to_page_cache() of the
 * swap entry, one swap count held by the mapping), and shmem_swapin_folio() reads it back on
 * the next fault. Simplified: the folio goes straight to its slot, without passing through the
 * swap cache.
 */
import { PG } from '../mem/folios.js';
import type { AddressSpace } from '../mem/page-cache.js';
import { C } from '../stats/counters.js';
import type { Kernel } from './kernel.js';
import { allocPageCacheFolio, filemapAddFolio, filemapRemoveFolio } from './filemap.js';
import { swapFree } from './swap-cache.js';

/** shmem_writeout(): whether the (unmapped, isolated) folio went to swap. */
export function shmemWriteout(k: Kernel, as: AddressSpace, head: number): boolean {
  const swap = k.swap;
  if (!swap.enabled) return false;
  const slot = swap.allocSlots(1);
  if (slot < 0) return false;
  const f = k.f;
  const index = f.index[head]!;
  swap.count[slot] = 1;
  swap.data[slot] = f.data[head]!;
  k.stats.v[C.pswpout]!++;
  k.charge(k.hw.costs.swapIoPage);
  filemapRemoveFolio(k, as, head, 0);
  as.swap[index] = slot;
  k.pageCache.nrShmemSwapped++;
  return true;
}

/** shmem_swapin_folio(): the swapped-out page at `index` back in a new folio (one reference for the caller). */
export function shmemSwapin(k: Kernel, as: AddressSpace, index: number): number {
  const slot = as.swap[index]!;
  const head = allocPageCacheFolio(k, false);
  const f = k.f;
  f.data[head] = k.swap.data[slot]!;
  k.charge(k.hw.costs.swapIoPage);
  k.stats.v[C.pswpin]!++;
  k.stats.v[C.pgmajfault]!++;
  as.swap[index] = -1;
  k.pageCache.nrShmemSwapped--;
  swapFree(k, slot);
  f.flags[head]! |= PG.dirty; // shmem folios are always dirty: no backing store but swap
  filemapAddFolio(k, as, index, head);
  f.ref[head]!++;
  return head;
}
