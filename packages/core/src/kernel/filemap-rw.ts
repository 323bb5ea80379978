/**
 * read(2) and write(2) of a file through the page cache (mm/filemap.c filemap_read(),
 * generic_perform_write(); mm/shmem.c shmem_file_read_iter()), and folio_mark_accessed()
 * (mm/swap.c), the reference an unmapped page-cache folio gets from a read.
 */
import { PG } from '../mem/folios.js';
import type { AddressSpace } from '../mem/page-cache.js';
import { C } from '../stats/counters.js';
import type { Kernel } from './kernel.js';
import { allocPageCacheFolio, filemapAddFolio, folioMarkDirty } from './filemap.js';
import { lruBatchAdd } from './lru-batch.js';
import { shmemSwapin } from './shmem-swap.js';
import { workingsetAgeNonresident } from './workingset.js';

/**
 * folio_mark_accessed(): the first reference sets PG_referenced; a second one activates the
 * folio (folio_activate() through the activate batch when it is on an LRU list; in this CPU's
 * lru_add batch, __lru_cache_activate_folio() sets PG_active so it is added active) and ages the
 * workingset (workingset_activation()).
 */
export function folioMarkAccessed(k: Kernel, head: number): void {
  const f = k.f;
  const fl = f.flags[head]!;
  if ((fl & PG.referenced) === 0) {
    f.flags[head]! |= PG.referenced;
    return;
  }
  if ((fl & PG.active) !== 0) return;
  if ((fl & PG.lru) !== 0) lruBatchAdd(k, head, 'activate');
  else if ((fl & PG.inBatch) !== 0 && k.cpus[k.cpu]!.lru.add.includes(head)) f.flags[head]! |= PG.active;
  f.flags[head]! &= ~PG.referenced;
  workingsetAgeNonresident(k, k.folioLruvec(head), 1 << f.order[head]!);
}

/**
 * filemap_read() of pages [from, to) of `as`: each page found in the page cache or read from the
 * disk (page_cache_sync_readahead() of one page: pgpgin, no fault), copied to the user buffer
 * and marked accessed. A hole of a shmem file reads as zeros without allocating. Returns the
 * value of the last page read.
 */
export function filemapRead(k: Kernel, as: AddressSpace, from: number, to: number): number {
  const f = k.f;
  let last = 0;
  k.charge(k.hw.costs.syscall);
  for (let i = from; i < to; i++) {
    let head = as.folio[i]!;
    if (head < 0) {
      if (as.shmem) {
        if (as.swap[i]! < 0) {
          last = 0;
          continue;
        }
        head = shmemSwapin(k, as, i);
        k.folioPut(head); // shmemSwapin's reference for a caller that maps it
      } else {
        head = allocPageCacheFolio(k, false);
        f.data[head] = as.disk[i]!;
        k.charge(k.hw.costs.swapIoPage);
        k.stats.v[C.pgpgin]! += 4;
        filemapAddFolio(k, as, i, head);
      }
    }
    last = f.data[head]!;
    k.charge(k.hw.costs.copyPage);
    folioMarkAccessed(k, head);
  }
  return last;
}

/**
 * generic_perform_write() / shmem_write_begin() of whole pages [from, to) with `value`: the
 * page-cache folio found or created (a whole-page write reads nothing), the data copied in and the
 * folio dirtied (folio_mark_dirty()). No folio_mark_accessed(): a buffered write only clears the
 * idle flag.
 */
export function filemapWrite(k: Kernel, as: AddressSpace, from: number, to: number, value: number): void {
  const f = k.f;
  k.charge(k.hw.costs.syscall);
  for (let i = from; i < to; i++) {
    let head = as.folio[i]!;
    if (head < 0) {
      if (as.shmem && as.swap[i]! >= 0) {
        head = shmemSwapin(k, as, i);
        k.folioPut(head);
      } else {
        head = allocPageCacheFolio(k, false);
        filemapAddFolio(k, as, i, head);
      }
    }
    f.data[head] = value;
    k.charge(k.hw.costs.copyPage);
    folioMarkDirty(k, head);
  }
}
