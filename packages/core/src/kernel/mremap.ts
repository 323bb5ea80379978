/** mremap(MREMAP_MAYMOVE) of part of a mapping to a new place (mm/mremap.c). */
import { uffdRemapEvent } from './uffd-ctx.js';
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { Vma } from '../mm/vma.js';
import { C } from '../stats/counters.js';
import { HPAGE_PMD_NR, PTRS_PER_TABLE, pmdStart, pteIndex } from '../units.js';
import { vmasForRange } from './mmap.js';
import { freePgtables, removeVma } from './zap.js';
import { moveHugePmd } from './huge-pmd-ops.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { flush } from './tlb-flush.js';
import { getUnmappedArea, lowerMmapBase } from './unmapped-area.js';

/** Move [start, end) to a fresh address range; returns the new VMA (named `name`). */
export function mremapMove(k: Kernel, mm: MmStruct, start: number, end: number, name: string): Vma {
  k.charge(k.hw.costs.syscall);
  const pages = end - start;
  // get_unmapped_area() first: an ENOMEM leaves the mapping as it was
  const nstart = getUnmappedArea(k, mm, pages, HPAGE_PMD_NR);
  const vmas = vmasForRange(k, mm, start, end);
  if (vmas.length !== 1 || vmas[0]!.start !== start || vmas[0]!.end !== end) {
    throw new SimError('mremap: the range must lie inside one mapping', 'einval');
  }
  const old = vmas[0]!;
  lowerMmapBase(mm, nstart);
  // move_vma(): the new VMA keeps the pgoff and anon_vma, so rmap still finds the pages
  const nv = new Vma(nstart, nstart + pages, old.flags, old.pgoff, old.anonVma, name, old.file);
  mm.insertVma(nv);
  // mremap_userfaultfd_complete(): UFFD_EVENT_REMAP (the registration moves with the VMA)
  uffdRemapEvent(mm, start, nstart, pages);
  if (nv.anonVma >= 0) k.anonVmas.link(nv.anonVma, mm, nv);
  if (nv.file !== null) nv.file.iMmap.push({ mm, vma: nv }); // vma_link_file()
  // move_page_tables() → move_ptes()
  let moved = 0;
  for (let v = start; v < end; ) {
    const tEnd = Math.min(end, pmdStart(v) + PTRS_PER_TABLE);
    let probe = pteTable(k, mm, v);
    if (probe === -2) {
      // move_huge_pmd() for a whole, aligned PMD; else split it and move the PTEs
      if (moveHugePmd(k, mm, v, end, nstart + (v - start))) {
        moved += HPAGE_PMD_NR;
        v = tEnd;
        continue;
      }
      probe = pteTable(k, mm, v);
    }
    if (probe >= 0) {
      let st = -1;
      for (let a = v; a < tEnd; a++) {
        const fl = k.pt.fl[k.pt.slot(probe, pteIndex(a))]!;
        if (fl === 0) continue;
        if (st < 0) {
          st = pteTableForWrite(k, mm, a, false, 'mremap');
          k.hooks.pte.beforeChange.call(mm, v, tEnd, 'mremap');
        }
        const sk = k.pt.slot(st, pteIndex(a));
        const val = k.pt.val[sk]!;
        const sfl = k.pt.fl[sk]!;
        k.pt.clear(st, pteIndex(a));
        const na = nstart + (a - start);
        const dt = pteTableForWrite(k, mm, na, true, 'mremap');
        k.pt.set(dt, pteIndex(na), val, sfl);
        k.charge(k.hw.costs.pteUpdate);
        k.hooks.pte.afterSet.call(mm, na, na + 1);
        moved++;
      }
    }
    v = tEnd;
  }
  k.stats.v[C.mremap_pte_move]! += moved;
  if (moved > 0) flush(k, 'range', mm, start, end, 'move_ptes');
  removeVma(k, mm, old);
  const tlb = k.gather(mm);
  freePgtables(k, mm, start, end, tlb);
  tlb.finish('mremap');
  return nv;
}
