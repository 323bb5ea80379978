/**
 * Reverse mapping of anonymous folios at the PTE level (mm/rmap.c): anon_vma_prepare(),
 * folio_add_new_anon_rmap(), folio_add_anon_rmap_ptes(), folio_remove_rmap_ptes(). The PMD
 * level is in huge-memory.ts.
 */
import { PG } from '../mem/folios.js';
import type { MmStruct } from '../mm/mm-struct.js';
import type { Vma } from '../mm/vma.js';
import { SimError, type Kernel } from './kernel.js';
import { deferredSplitFolio } from './huge-memory.js';
import { removeFileRmapPtes } from './file-rmap.js';
import { memcgModAnon } from './memcontrol.js';
import { mlockNewFolio } from './mlock.js';
import { VM } from '../mm/vma.js';

/** anon_vma_prepare() */
export function anonVmaPrepare(k: Kernel, mm: MmStruct, vma: Vma): number {
  if (vma.anonVma < 0) {
    vma.anonVma = k.anonVmas.create();
    k.anonVmas.link(vma.anonVma, mm, vma);
  }
  return vma.anonVma;
}

/**
 * folio_add_new_anon_rmap(): a fresh folio mapped by `nr` PTEs starting at its head page
 * (mapped at `vpn`), every page exclusive.
 */
export function addNewAnonRmap(k: Kernel, head: number, mm: MmStruct, vma: Vma, vpn: number, nr: number): void {
  const f = k.f;
  f.flags[head]! |= PG.anon;
  f.anonVma[head] = anonVmaPrepare(k, mm, vma);
  f.index[head] = vma.pgoffOf(vpn);
  for (let i = 0; i < nr; i++) {
    f.mapcount[head + i] = 1;
    f.flags[head + i]! |= PG.anonExclusive;
  }
  const order = f.order[head]!;
  if (order > 0) {
    f.largeMapcount[head] = nr;
    // folio_add_new_anon_rmap(): mod_mthp_stat(order, MTHP_STAT_NR_ANON, 1) (5d65c8d758f2, v6.12)
    if (k.config.features.mthpNrAnonStats) k.stats.v[k.mthpNrAnon[order]!]!++;
  }
  k.nrAnonMapped += nr;
  memcgModAnon(k, head, nr);
  mm.rssAnon += nr;
  // folio_add_lru_vma() right after: mlock_new_folio() in a VM_LOCKED VMA (mlock.ts)
  if ((vma.flags & VM.locked) !== 0) mlockNewFolio(k, head);
}

/** folio_add_anon_rmap_ptes() / folio_dup_file_rmap: `nr` more PTE mappings of pages from `pfn`. */
export function addAnonRmapPtes(k: Kernel, head: number, pfn: number, nr: number, mm: MmStruct): void {
  const f = k.f;
  // a page of a PMD-mapped folio is already counted in NR_ANON_MAPPED (huge-memory.ts)
  const entire = f.entireMapcount[head]! > 0;
  for (let i = 0; i < nr; i++) {
    if (f.mapcount[pfn + i]!++ === 0 && !entire) {
      k.nrAnonMapped++;
      memcgModAnon(k, head, 1);
    }
  }
  if (f.order[head]! > 0) f.largeMapcount[head]! += nr;
  mm.rssAnon += nr;
}

/** folio_remove_rmap_ptes() */
export function removeRmapPtes(k: Kernel, head: number, pfn: number, nr: number, mm: MmStruct): void {
  const f = k.f;
  if ((f.flags[head]! & PG.filemap) !== 0) {
    removeFileRmapPtes(k, head, pfn, nr, mm);
    return;
  }
  const entire = f.entireMapcount[head]! > 0;
  let unmapped = 0;
  for (let i = 0; i < nr; i++) {
    const m = --f.mapcount[pfn + i]!;
    if (m === 0) {
      if (!entire) {
        k.nrAnonMapped--;
        memcgModAnon(k, head, -1);
      }
      unmapped++;
      f.flags[pfn + i]! &= ~PG.anonExclusive;
    } else if (m < 0) throw new SimError(`mapcount underflow on page ${pfn + i}`, 'internal');
  }
  if (f.order[head]! > 0) {
    f.largeMapcount[head]! -= nr;
    // __folio_remove_rmap(): pages became unmapped while others stay mapped (and no PMD
    // maps the folio): the partially mapped large folio goes on the deferred split queue
    if (unmapped > 0 && !entire && f.largeMapcount[head]! > 0) deferredSplitFolio(k, head);
  }
  mm.updateHiwaterRss();
  mm.rssAnon -= nr;
}
