/** mmap(), VMA splitting and merging (mm/mmap.c, mm/vma.c). */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { Vma, VM } from '../mm/vma.js';
import { HPAGE_PMD_NR, PTRS_PER_TABLE } from '../units.js';
import { splitHugePmdAt } from './huge-memory.js';
import { getUnmappedArea, lowerMmapBase } from './unmapped-area.js';
import { RESERVE_HINT_PAGES } from '../mem/phys-mem.js';
import { unlinkFileVma } from './file-rmap.js';
import { khugepagedEnterVma } from './khugepaged-scan.js';
import { ksmVmaFlags } from './ksm-unmerge.js';

/** mmap(MAP_PRIVATE|MAP_ANONYMOUS) of `pages` pages; returns the VMA. ENOMEM when it does not fit (unmapped-area.ts). */
export function mmapAnon(
  k: Kernel,
  mm: MmStruct,
  pages: number,
  name: string,
  opts: { alignPages?: number; flags?: number } = {},
): Vma {
  if (!Number.isSafeInteger(pages) || pages <= 0) throw new SimError(`mmap of ${pages} pages`, 'einval');
  let align = opts.alignPages ?? 1;
  // thp_get_unmapped_area(): PMD-align anonymous mappings of at least 2 MiB (v6.7+)
  if (align === 1 && k.config.features.thpAlignAnon && pages >= HPAGE_PMD_NR) align = HPAGE_PMD_NR;
  const start = getUnmappedArea(k, mm, pages, align);
  // keep a guard gap below the previous mapping, as top-down allocation leaves holes rarely
  // mmap_region(): vm_flags |= VM_SOFTDIRTY (a new mapping is all soft-dirty)
  const vma = new Vma(start, start + pages, (opts.flags ?? VM.read | VM.write) | k.vmSoftDirty, start, -1, name);
  if (mm.ksmMergeAny) vma.flags = ksmVmaFlags(mm, vma.flags); // PR_SET_MEMORY_MERGE (kernel/ksm-unmerge.ts)
  lowerMmapBase(mm, start); // one PMD gap: no two regions share a PTE table
  mm.insertVma(vma);
  // __mmap_region(): khugepaged_enter_vma(vma, vm_flags)
  khugepagedEnterVma(k, mm, vma);
  // room for what faulting it all in allocates (frames and PTE tables), so the typed arrays
  // grow (copy) now, while little of them is in use, rather than in the middle of the touch
  k.mem.reserveFor(pages);
  k.pt.reserve(Math.ceil(Math.min(pages, RESERVE_HINT_PAGES) / PTRS_PER_TABLE) + 2);
  return vma;
}

/** __split_vma(): split at `at`; returns the upper half. */
export function splitVma(k: Kernel, mm: MmStruct, vma: Vma, at: number): Vma {
  if (at <= vma.start || at >= vma.end) throw new SimError(`split of [${vma.start},${vma.end}) at ${at}`, 'internal');
  // vma_adjust_trans_huge(): a huge PMD straddling the new boundary is split first
  if ((at & (HPAGE_PMD_NR - 1)) !== 0) splitHugePmdAt(k, mm, at, 'split_vma');
  const hi = new Vma(at, vma.end, vma.flags, vma.pgoff + (at - vma.start), vma.anonVma, vma.name, vma.file);
  if (vma.file !== null) vma.file.iMmap.push({ mm, vma: hi });
  vma.end = at;
  mm.insertVma(hi);
  if (hi.anonVma >= 0) k.anonVmas.link(hi.anonVma, mm, hi);
  return hi;
}

/** Split VMAs so that [start, end) is covered by whole VMAs; return them (in order). */
export function vmasForRange(k: Kernel, mm: MmStruct, start: number, end: number): Vma[] {
  for (const v of mm.vmasIn(start, end)) {
    if (v.start < start) splitVma(k, mm, v, start);
  }
  for (const v of mm.vmasIn(start, end)) {
    if (v.end > end) splitVma(k, mm, v, end);
  }
  return mm.vmasIn(start, end);
}

/**
 * vma_merge(): merge neighbours that became compatible again: adjacent, the same flags (but
 * VM_SOFTDIRTY), file, compatible anon_vma (is_mergeable_anon_vma: the same, or one has none)
 * and vm_pgoff continuity. The scenario's region names play no part (the kernel has none).
 */
export function mergeVmas(k: Kernel, mm: MmStruct): void {
  const v = mm.vmas;
  for (let i = 0; i + 1 < v.length; ) {
    const a = v[i]!;
    const b = v[i + 1]!;
    const anonOk = a.anonVma === b.anonVma || a.anonVma < 0 || b.anonVma < 0;
    if (
      a.end === b.start &&
      // is_mergeable_vma(): VM_SOFTDIRTY does not keep VMAs apart
      ((a.flags ^ b.flags) & ~VM.softDirty) === 0 &&
      a.file === b.file &&
      anonOk &&
      a.pgoff + (a.end - a.start) === b.pgoff
    ) {
      a.end = b.end;
      // the merged VMA is soft-dirty if either part was (vma_merge() sets VM_SOFTDIRTY on it)
      a.flags |= b.flags & VM.softDirty;
      if (a.anonVma < 0 && b.anonVma >= 0) {
        a.anonVma = b.anonVma;
        k.anonVmas.link(a.anonVma, mm, a);
      }
      if (b.anonVma >= 0) k.anonVmas.unlink(b.anonVma, b);
      if (b.file !== null) unlinkFileVma(b.file, b);
      v.splice(i + 1, 1);
    } else i++;
  }
}
