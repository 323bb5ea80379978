/**
 * folio_referenced() (mm/rmap.c): walk the folio's reverse mappings and test-and-clear the
 * accessed bit of every PTE mapping it (folio_referenced_one → ptep_clear_flush_young_notify).
 * Whether clearing the bit also flushes the TLB entry is the architecture's
 * (HardwareModel.clearYoungFlushes): x86's ptep_clear_flush_young() does not flush ("clearing
 * the accessed bit without a TLB flush doesn't cause data corruption"), so a translation still
 * cached in a TLB keeps hitting without setting the bit again; arm64 flushes the entry
 * (flush_tlb_page_nosync), so the next access walks and sets it.
 */
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { pteIndex } from '../units.js';
import type { Kernel } from './kernel.js';
import { pteTable } from './pgwalk.js';
import { flushPage } from './tlb-flush.js';
import { lruGenLookAround } from './lru-gen-aging.js';
import { mlockVmaFolio } from './mlock.js';
import { VM } from '../mm/vma.js';

/** The number of young PTEs found (and cleared) mapping the folio at `head`. */
export function folioReferenced(k: Kernel, head: number): number {
  const f = k.f;
  const fam = f.anonVma[head]!;
  if (fam < 0) return 0;
  const nr = 1 << f.order[head]!;
  // rmap_walk_file() over i_mmap for a page-cache folio, rmap_walk_anon() over the anon_vma
  const members = (f.flags[head]! & PG.filemap) !== 0 ? k.pageCache.spaces[fam]!.iMmap : k.anonVmas.members(fam);
  const flushes = k.hw.clearYoungFlushes === true;
  let referenced = 0;
  for (let m = 0; m < members.length; m++) {
    const { mm, vma } = members[m]!;
    for (let i = 0; i < nr; i++) {
      const pfn = head + i;
      if (f.mapcount[pfn] === 0) continue;
      const vpn = vma.addressOf(f.index[head]! + i);
      if (vpn < 0) continue;
      const t = pteTable(k, mm, vpn);
      if (t < 0) continue;
      const kk = k.pt.slot(t, pteIndex(vpn));
      const fl = k.pt.fl[kk]!;
      k.charge(k.hw.costs.walkLevel); // page_vma_mapped_walk() reads the PTE
      if ((fl & PTE.present) === 0 || k.pt.val[kk] !== pfn) continue;
      if ((vma.flags & VM.locked) !== 0 && nr === 1) {
        // folio_referenced_one(): "Restore the mlock which got missed"; stop the walk
        mlockVmaFolio(k, head, vma);
        return referenced + 1;
      }
      if ((fl & PTE.young) === 0) continue;
      if (k.lrugen !== null) {
        // folio_referenced_one() with lru_gen: lru_gen_look_around() clears this bit
        // (ptep_clear_young_notify(): no flush) and those of the young PTEs around it
        k.pt.fl[kk] = fl & ~PTE.young;
        k.charge(k.hw.costs.pteUpdate);
        lruGenLookAround(k, vma, vpn, t);
        referenced++;
        continue;
      }
      // ptep_clear_flush_young(): clear the accessed bit (and flush on arm64)
      k.pt.fl[kk] = fl & ~PTE.young;
      k.charge(k.hw.costs.pteUpdate);
      if (flushes) flushPage(k, mm, vpn, 'ptep_clear_flush_young');
      referenced++;
    }
  }
  return referenced;
}
