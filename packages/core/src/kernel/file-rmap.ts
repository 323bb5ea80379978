/**
 * Reverse mapping of page-cache folios (mm/rmap.c): folio_add_file_rmap_ptes(),
 * folio_remove_rmap_ptes() of a file folio (NR_FILE_MAPPED, MM_FILEPAGES / MM_SHMEMPAGES), and
 * the address_space's i_mmap (vma_link_file(), vma_interval_tree_remove()).
 */
import { PG } from '../mem/folios.js';
import type { AddressSpace } from '../mem/page-cache.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { PTE } from '../mm/pte.js';
import type { Vma } from '../mm/vma.js';
import { pteIndex } from '../units.js';
import { SimError, type Kernel } from './kernel.js';

/** mm_counter_file(): MM_SHMEMPAGES for a swap-backed (shmem) folio, else MM_FILEPAGES. */
function addRss(k: Kernel, mm: MmStruct, head: number, nr: number): void {
  if ((k.f.flags[head]! & PG.swapbacked) !== 0) mm.rssShmem += nr;
  else mm.rssFile += nr;
}

/** folio_add_file_rmap_ptes(): `nr` PTE mappings of pages from `pfn` (the caller took the references). */
export function addFileRmapPtes(k: Kernel, head: number, pfn: number, nr: number, mm: MmStruct): void {
  const f = k.f;
  for (let i = 0; i < nr; i++) if (f.mapcount[pfn + i]!++ === 0) k.pageCache.nrFileMapped++;
  if (f.order[head]! > 0) f.largeMapcount[head]! += nr;
  addRss(k, mm, head, nr);
}

/** folio_remove_rmap_ptes() of a file folio: the page cache keeps it. */
export function removeFileRmapPtes(k: Kernel, head: number, pfn: number, nr: number, mm: MmStruct): void {
  const f = k.f;
  for (let i = 0; i < nr; i++) {
    const m = --f.mapcount[pfn + i]!;
    if (m === 0) k.pageCache.nrFileMapped--;
    else if (m < 0) throw new SimError(`mapcount underflow on page ${pfn + i}`, 'internal');
  }
  if (f.order[head]! > 0) f.largeMapcount[head]! -= nr;
  mm.updateHiwaterRss();
  addRss(k, mm, head, -nr);
}

/** copy_present_ptes() for a file folio at fork: one more reference and mapping, the PTE made old. */
export function copyFilePte(
  k: Kernel,
  cmm: MmStruct,
  dt: number,
  a: number,
  fl: number,
  pfn: number,
  head: number,
): void {
  k.folioGet(head);
  addFileRmapPtes(k, head, pfn, 1, cmm);
  k.pt.set(dt, pteIndex(a), pfn, fl & ~(PTE.young | PTE.uffdWp));
}

/** vma_interval_tree_remove(): the VMA leaves the file's i_mmap. */
export function unlinkFileVma(as: AddressSpace, vma: Vma): void {
  const i = as.iMmap.findIndex((m) => m.vma === vma);
  if (i >= 0) as.iMmap.splice(i, 1);
}
