/**
 * The user address space: mmap_base() (arch/x86/mm/mmap.c, arch/arm64 via mm/util.c) below the
 * hardware's TASK_SIZE, and get_unmapped_area() for the top-down allocator (mm/mmap.c).
 */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { formatBytes } from '../hardware/limits.js';
import { HPAGE_PMD_NR, PAGE_SIZE } from '../units.js';

/** CONFIG_DEFAULT_MMAP_MIN_ADDR (x86-64 and most distribution configs): nothing maps below it. */
export const MMAP_MIN_ADDR = 65536;

/**
 * The gap mmap_base() leaves below TASK_SIZE for the stack and its randomisation: with x86-64's
 * TASK_SIZE_MAX it puts mmap_base at 0x7f00_0000_0000, where the simulator always started.
 */
const MMAP_GAP = 0xff_ffff_f000;

/** mmap_base(): the top of the top-down allocator in pages, PMD-aligned (gap at most TASK_SIZE/6*5, MAX_GAP). */
export function mmapBasePages(taskSize: number): number {
  const gap = Math.min(MMAP_GAP, Math.floor(taskSize / 6) * 5);
  const base = Math.floor((taskSize - gap) / PAGE_SIZE);
  return base - (base % HPAGE_PMD_NR);
}

/**
 * get_unmapped_area() for `pages` pages aligned to `alignPages`: the start (in pages) below
 * mm.mmapBase, which the caller moves down once the mapping exists. Everything below mmapBase
 * is free (the allocator never hands a hole back), so the only failure is running out of room:
 * ENOMEM (SimError code 'enomem'), as do_mmap() returns for a length beyond TASK_SIZE and
 * vm_unmapped_area() when no gap is big enough. There is no bottom-up fallback above mmap_base:
 * that gap is the stack's.
 */
export function getUnmappedArea(k: Kernel, mm: MmStruct, pages: number, alignPages = 1): number {
  const bytes = pages * PAGE_SIZE;
  const minPage = MMAP_MIN_ADDR / PAGE_SIZE;
  const size = `${formatBytes(bytes)} (${bytes} bytes)`;
  if (bytes > k.taskSize - MMAP_MIN_ADDR)
    throw new SimError(
      `ENOMEM: ${size} does not fit in the ${k.hw.name} user address space (TASK_SIZE 0x${k.taskSize.toString(16)}, ${formatBytes(k.taskSize)})`,
      'enomem',
    );
  let start = mm.mmapBase - pages;
  start -= start % alignPages;
  if (start < minPage) {
    const free = Math.max(0, mm.mmapBase - minPage) * PAGE_SIZE;
    throw new SimError(
      `ENOMEM: no free range of ${size} in the ${k.hw.name} user address space: ${formatBytes(free)} (${free} bytes) left below 0x${(mm.mmapBase * PAGE_SIZE).toString(16)}${alignPages > 1 ? ` (aligned to ${formatBytes(alignPages * PAGE_SIZE)})` : ''}`,
      'enomem',
    );
  }
  return start;
}

/** After a mapping at `start`: the next one goes at least one PMD lower (no two regions share a PTE table). */
export function lowerMmapBase(mm: MmStruct, start: number): void {
  mm.mmapBase = start - HPAGE_PMD_NR;
  mm.mmapBase -= mm.mmapBase % HPAGE_PMD_NR;
}
