/**
 * The page cache's folio operations (mm/filemap.c, mm/shmem.c): filemap_add_folio() (the
 * page cache's references, PG flags, the LRU), filemap_fault()'s lookup or read from disk, and
 * __filemap_remove_folio() with the shadow entry reclaim leaves (mm/workingset.c).
 */
import { PG } from '../mem/folios.js';
import type { AddressSpace } from '../mem/page-cache.js';
import { C } from '../stats/counters.js';
import type { Kernel } from './kernel.js';
import { lruAdd } from './lru-batch.js';
import { workingsetRefaultFile } from './workingset.js';
import { shmemSwapin } from './shmem-swap.js';

/**
 * filemap_add_folio(): `head` (ref 1 from the allocation, which becomes the page cache's)
 * enters `as` at `index`. The folio's routing flags are set before folio_add_lru() so the LRU
 * batch drains it onto the list its flags name (file lists; shmem, swap-backed: anon lists).
 * A shadow entry found in the slot is a refault (workingset_refault()).
 */
export function filemapAddFolio(k: Kernel, as: AddressSpace, index: number, head: number): void {
  const f = k.f;
  f.flags[head]! |= PG.filemap | (as.shmem ? PG.swapbacked : 0);
  f.anonVma[head] = as.id; // folio->mapping
  f.index[head] = index;
  as.folio[index] = head;
  as.nrPages++;
  k.pageCache.nrFilePages++;
  if (as.shmem) k.pageCache.nrShmem++;
  const shadow = as.shadow[index]!;
  if (shadow !== 0) {
    as.shadow[index] = 0;
    if (!as.shmem) workingsetRefaultFile(k, head, shadow);
  }
  lruAdd(k, head);
}

/**
 * filemap_fault() / shmem_fault(): the folio at `index` with one reference for the caller.
 * A folio not in the page cache is read from the disk (a major fault: pgmajfault, pgpgin in
 * kB as submit_bio() counts it); a shmem page is zero-filled (shmem_get_folio()) or swapped in.
 * No readahead: one page per major fault.
 */
export function filemapFault(k: Kernel, as: AddressSpace, index: number): number {
  const cached = as.folio[index]!;
  if (cached >= 0) {
    k.f.ref[cached]!++;
    return cached;
  }
  const f = k.f;
  const v = k.stats.v;
  if (as.shmem && as.swap[index]! >= 0) return shmemSwapin(k, as, index);
  const head = allocPageCacheFolio(k, as.shmem);
  if (as.shmem) f.data[head] = 0;
  else {
    f.data[head] = as.disk[index]!;
    k.charge(k.hw.costs.swapIoPage);
    v[C.pgmajfault]!++;
    v[C.pgpgin]! += 4;
  }
  filemapAddFolio(k, as, index, head);
  f.ref[head]!++; // the caller's reference
  return head;
}

/**
 * __filemap_remove_folio() of a clean, unmapped folio: it leaves i_pages (a shadow entry in its
 * place when reclaim evicts it, 0 for none) and the page cache drops its reference.
 */
export function filemapRemoveFolio(k: Kernel, as: AddressSpace, head: number, shadow: number): void {
  const f = k.f;
  const index = f.index[head]!;
  as.folio[index] = -1;
  as.shadow[index] = shadow;
  as.nrPages--;
  k.pageCache.nrFilePages--;
  if (as.shmem) k.pageCache.nrShmem--;
  f.flags[head]! &= ~(PG.filemap | PG.swapbacked | PG.dirty);
  f.anonVma[head] = -1;
  k.folioPut(head);
}

/** folio_mark_dirty() of a page-cache folio (a shared write, or a dirty PTE found by zap / reclaim). */
export function folioMarkDirty(k: Kernel, head: number): void {
  k.f.flags[head]! |= PG.dirty;
}

/**
 * A new page-cache (or shmem) folio: charged to no memcg. The kernel charges the page cache to
 * the reader's memcg (filemap_add_folio → mem_cgroup_charge()); mmsim does not model file and
 * shmem charges yet (docs/scenario-format.md, memory cgroups), so the folio stays the root's
 * whatever cgroup the faulting process is in; the fault's own anon allocations stay charged.
 */
export function allocPageCacheFolio(k: Kernel, zero: boolean): number {
  const mc = k.memcgCharge;
  k.memcgCharge = 0;
  try {
    return k.allocFolio(0, zero);
  } finally {
    k.memcgCharge = mc;
  }
}
