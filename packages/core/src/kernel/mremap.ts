/** mremap() (mm/mremap.c): move, grow, shrink; MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP. */
import { uffdRemapEvent } from './uffd-ctx.js';
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { Vma, VM } from '../mm/vma.js';
import { unmergeKsmPages } from './ksm-unmerge.js';
import { C } from '../stats/counters.js';
import { HPAGE_PMD_NR, PAGE_SIZE, PTRS_PER_TABLE, pmdStart, pteIndex } from '../units.js';
import { mergeVmas, vmasForRange } from './mmap.js';
import { freePgtables, munmap, removeVma } from './zap.js';
import { moveHugePmd } from './huge-pmd-ops.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { flush } from './tlb-flush.js';
import { getUnmappedArea, lowerMmapBase } from './unmapped-area.js';
import { PTE } from '../mm/pte.js';
import { movePageTablesExtents } from './move-page-tables.js';

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
  // move_vma(): ksm_madvise(MADV_UNMERGEABLE) breaks the KSM pages but keeps VM_MERGEABLE
  if (k.ksm !== null && (old.flags & VM.mergeable) !== 0 && old.anonVma >= 0) unmergeKsmPages(k, mm, old, start, end);
  lowerMmapBase(mm, nstart);
  // move_vma(): the new VMA keeps the pgoff and anon_vma, so rmap still finds the pages
  const nv = new Vma(nstart, nstart + pages, old.flags, old.pgoff, old.anonVma, name, old.file);
  mm.insertVma(nv);
  // mremap_userfaultfd_complete(): UFFD_EVENT_REMAP (the registration moves with the VMA)
  uffdRemapEvent(mm, start, nstart, pages);
  if (nv.anonVma >= 0) k.anonVmas.link(nv.anonVma, mm, nv);
  if (nv.file !== null) nv.file.iMmap.push({ mm, vma: nv }); // vma_link_file()
  const moved = movePageTables(k, mm, start, end, nstart);
  k.stats.v[C.mremap_pte_move]! += moved;
  if (moved > 0) flush(k, 'range', mm, start, end, 'move_ptes');
  removeVma(k, mm, old);
  const tlb = k.gather(mm);
  freePgtables(k, mm, start, end, tlb);
  tlb.finish('mremap');
  return nv;
}

/**
 * move_page_tables() → move_ptes() of [start, end) to nstart: huge PMDs whole (move_huge_pmd)
 * when aligned, else PTE by PTE. move_soft_dirty_pte(): a moved entry is soft-dirty (the new
 * address was never reported clean). Returns the PTEs (and PMD pages) moved.
 */
export function movePageTables(k: Kernel, mm: MmStruct, start: number, end: number, nstart: number): number {
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
        const sfl = k.pt.fl[sk]! | ((k.pt.fl[sk]! & (PTE.present | PTE.swap)) !== 0 ? k.sd : 0);
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
  return moved;
}

/** mremap(2)'s arguments, in pages: MREMAP_MAYMOVE, MREMAP_FIXED (`fixed` ≥ 0), MREMAP_DONTUNMAP. */
export interface MremapArgs {
  addr: number;
  oldPages: number;
  newPages: number;
  mayMove: boolean;
  /** new_addr with MREMAP_FIXED, else -1 */
  fixed: number;
  dontUnmap: boolean;
  /** the scenario name of a VMA created at the new place */
  name: string;
}

/** What do_mremap() did, for the scenario's observers. */
export interface MremapResult {
  /** the returned address */
  start: number;
  /** what moved: [from, from + pages) to `to` (one entry per VMA; none when nothing moved) */
  moves: Array<{ from: number; pages: number; to: number }>;
  /** ranges do_munmap() removed (the MREMAP_FIXED target, a shrunk tail) */
  unmapped: Array<[number, number]>;
  /** the old range stays mapped, empty (MREMAP_DONTUNMAP) */
  keptOld: boolean;
}

/**
 * do_mremap() (mm/mremap.c): shrink in place, grow in place (vma_expandable), else move with
 * MREMAP_MAYMOVE; mremap_to() for MREMAP_FIXED / MREMAP_DONTUNMAP. Errors as the syscall's:
 * EINVAL (flags, overlap), EFAULT (vma_to_resize: no VMA at addr, or the range leaves it),
 * ENOMEM (cannot grow without MREMAP_MAYMOVE, no room).
 */
export function doMremap(
  k: Kernel,
  mm: MmStruct,
  r: MremapArgs,
  /** filled in as it goes: what a partly completed move did is there when it throws */
  res: MremapResult = { start: r.addr, moves: [], unmapped: [], keptOld: false },
): MremapResult {
  k.charge(k.hw.costs.syscall);
  if (r.newPages <= 0) throw new SimError('mremap: new_len is 0', 'einval');
  if (r.fixed >= 0 && !r.mayMove) throw new SimError('mremap: MREMAP_FIXED without MREMAP_MAYMOVE', 'einval');
  if (r.dontUnmap && (!r.mayMove || r.oldPages !== r.newPages))
    throw new SimError('mremap: MREMAP_DONTUNMAP needs MREMAP_MAYMOVE and old_len == new_len', 'einval');
  let old = r.oldPages;
  if (r.fixed >= 0 || r.dontUnmap) {
    // mremap_to()
    if (r.fixed >= 0) {
      if (r.addr + old > r.fixed && r.fixed + r.newPages > r.addr)
        throw new SimError('mremap: the old and new ranges overlap', 'einval');
      unmapRange(k, mm, r.fixed, r.fixed + r.newPages, res);
    }
    if (old > r.newPages) {
      unmapRange(k, mm, r.addr + r.newPages, r.addr + old, res);
      old = r.newPages;
    }
    // v6.17: a move of old_len = new_len with MREMAP_FIXED may span several VMAs (remap_move())
    if (r.fixed >= 0 && old === r.newPages && k.config.features.mremapMultiVma) {
      const first = mm.findVma(r.addr);
      if (first && r.addr + old > first.end) return moveMultiple(k, mm, r, res);
    }
    const vma = vmaToResize(mm, r.addr, old);
    // MREMAP_DONTUNMAP: private anonymous only before v5.13
    if (r.dontUnmap && !k.config.features.mremapDontunmapAny && (vma.file !== null || (vma.flags & VM.shared) !== 0))
      throw new SimError('mremap: MREMAP_DONTUNMAP of a file or shared mapping (before v5.13)', 'einval');
    let to = r.fixed;
    if (to < 0) {
      to = getUnmappedArea(k, mm, r.newPages, HPAGE_PMD_NR);
      lowerMmapBase(mm, to);
    }
    return moveVma(k, mm, vma, r.addr, old, r.newPages, to, r, res);
  }
  if (old >= r.newPages) {
    // shrink: do_vmi_munmap() of the tail (any VMAs in it), nothing else
    if (old > r.newPages) unmapRange(k, mm, r.addr + r.newPages, r.addr + old, res);
    return res;
  }
  const vma = vmaToResize(mm, r.addr, old);
  // grow in place: the range ends the VMA and vma_expandable() (nothing mapped after it)
  if (r.addr + old === vma.end && expandable(k, mm, vma.end, r.newPages - old)) {
    // vma_merge_extend(): the grown VMA merges with a compatible next one
    vma.end += r.newPages - old;
    mergeVmas(k, mm);
    return res;
  }
  if (!r.mayMove) throw new SimError('mremap: cannot grow in place without MREMAP_MAYMOVE', 'enomem');
  const to = getUnmappedArea(k, mm, r.newPages, HPAGE_PMD_NR);
  lowerMmapBase(mm, to);
  return moveVma(k, mm, vma, r.addr, old, r.newPages, to, r, res);
}

/** vma_to_resize(): the VMA at addr must hold the whole old range (EFAULT). */
function vmaToResize(mm: MmStruct, addr: number, pages: number): Vma {
  const vma = mm.findVma(addr);
  if (!vma) throw new SimError('mremap: no mapping at old_address', 'efault');
  if (pages > vma.end - addr) throw new SimError('mremap: the old range spans more than one mapping', 'efault');
  return vma;
}

/** vma_expandable(): [end, end + delta) maps nothing and lies below TASK_SIZE. */
function expandable(k: Kernel, mm: MmStruct, end: number, delta: number): boolean {
  if ((end + delta) * PAGE_SIZE > k.taskSize) return false;
  return mm.vmasIn(end, end + delta).length === 0;
}

function unmapRange(k: Kernel, mm: MmStruct, a: number, b: number, res: MremapResult): void {
  if (mm.vmasIn(a, b).length === 0) return;
  munmap(k, mm, a, b);
  res.unmapped.push([a, b]);
}

/**
 * move_vma(): copy_vma() at `to` (the pgoff of old_addr; an anon VMA never faulted in takes the
 * new address, so it merges anywhere), move_page_tables(), then do_munmap() of the old range
 * unless MREMAP_DONTUNMAP (the old VMA stays, empty). Neighbours merge (vma_merge_new_range).
 */
function moveVma(
  k: Kernel,
  mm: MmStruct,
  vma: Vma,
  from: number,
  pages: number,
  newPages: number,
  to: number,
  r: MremapArgs,
  res: MremapResult,
): MremapResult {
  // ksm_madvise(MADV_UNMERGEABLE) on the old range: KSM pages are broken, VM_MERGEABLE kept
  if (k.ksm !== null && (vma.flags & VM.mergeable) !== 0 && vma.anonVma >= 0)
    unmergeKsmPages(k, mm, vma, from, from + pages);
  const pgoff = vma.anonVma < 0 && vma.file === null ? to : vma.pgoffOf(from);
  const nv = new Vma(to, to + newPages, vma.flags, pgoff, vma.anonVma, r.name, vma.file);
  mm.insertVma(nv);
  if (nv.anonVma >= 0) k.anonVmas.link(nv.anonVma, mm, nv);
  if (nv.file !== null) nv.file.iMmap.push({ mm, vma: nv }); // vma_link_file()
  movePageTablesExtents(k, mm, vma, from, from + pages, to);
  if (!r.dontUnmap) munmap(k, mm, from, from + pages);
  mergeVmas(k, mm);
  res.start = to;
  res.moves.push({ from, pages, to });
  res.keptOld = r.dontUnmap;
  return res;
}

/**
 * remap_move() (v6.17, "mm/mremap: permit mremap() move of multiple VMAs"): each VMA of
 * [addr, addr + old_len) moves to the same offset from new_addr, gaps kept. old_address must
 * be mapped; a userfaultfd-registered VMA stops the move there (EFAULT): what moved before
 * stays moved.
 */
function moveMultiple(k: Kernel, mm: MmStruct, r: MremapArgs, res: MremapResult): MremapResult {
  const end = r.addr + r.oldPages;
  for (const vma of mm.vmasIn(r.addr, end)) {
    if ((vma.flags & (VM.uffdMissing | VM.uffdWp)) !== 0)
      throw new SimError('mremap: a move of several VMAs over a userfaultfd-registered one', 'efault');
    const s = Math.max(r.addr, vma.start);
    const e = Math.min(end, vma.end);
    // the VMA may have merged with a moved one: look it up again by address
    const cur = mm.findVma(s);
    if (!cur) continue;
    moveVma(k, mm, cur, s, e - s, e - s, r.fixed + (s - r.addr), r, res);
  }
  res.start = r.fixed;
  return res;
}
