/**
 * Zone watermarks of the (one) zone, as the kernel derives them at boot (mm/page_alloc.c):
 * calculate_min_free_kbytes() and __setup_per_zone_wmarks(). All memory is one ZONE_NORMAL
 * whose managed pages are `system.memory`; there is no lowmem reserve below it.
 */
import type { KernelConfig } from './config.js';

/**
 * The smallest `system.memory` a scenario may set: 4 MiB (1024 pages). Below it the watermarks
 * (min_free_kbytes is at least 128 kB) would leave next to nothing for the workload.
 */
export const MIN_MEMORY_PAGES = 1024;

export interface Watermarks {
  /** pages: WMARK_MIN, WMARK_LOW, WMARK_HIGH */
  min: number;
  low: number;
  high: number;
  /** vm.min_free_kbytes in effect */
  minFreeKbytes: number;
}

/** int_sqrt(): the integer square root (floor). */
export function intSqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/**
 * calculate_min_free_kbytes(): int_sqrt(lowmem_kbytes * 16), clamped to [128, 262144]
 * (the upper bound was 65536 before "mm/page_alloc: increase default min_free_kbytes bound",
 * ee8eb9a5fe86, v5.7: every preset has the larger one). lowmem_kbytes is nr_free_buffer_pages()
 * at boot: the managed pages (no watermark set yet).
 */
export function calculateMinFreeKbytes(managedPages: number): number {
  const lowmemKbytes = managedPages * 4;
  return Math.min(262144, Math.max(128, intSqrt(lowmemKbytes * 16)));
}

/**
 * __setup_per_zone_wmarks() for one zone: min = min_free_kbytes in pages; the gap to low and
 * to high is max(min / 4, managed * watermark_scale_factor / 10000) (mult_frac()).
 */
export function zoneWatermarks(managedPages: number, vm: KernelConfig['vm']): Watermarks {
  const minFreeKbytes = vm.minFreeKbytes > 0 ? vm.minFreeKbytes : calculateMinFreeKbytes(managedPages);
  const min = minFreeKbytes >> 2; // pages_min = min_free_kbytes >> (PAGE_SHIFT - 10)
  const wsf = vm.watermarkScaleFactor;
  const frac = Math.floor(managedPages / 10000) * wsf + Math.floor(((managedPages % 10000) * wsf) / 10000);
  const gap = Math.max(min >> 2, frac);
  return { min, low: min + gap, high: min + 2 * gap, minFreeKbytes };
}
