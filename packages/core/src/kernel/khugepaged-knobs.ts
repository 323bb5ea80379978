/** /sys/kernel/mm/transparent_hugepage/khugepaged/ knobs (khugepaged_init()'s defaults). */
import { HPAGE_PMD_NR } from '../units.js';
import type { Kernel } from './kernel.js';

export interface KhugepagedKnobs {
  /** pages_to_scan: PTEs (or VMAs) one khugepaged_do_scan() pass covers; default 8 * 512 */
  pagesToScan: number;
  /** max_ptes_none: none or zero-page PTEs a collapse may fill; default 511 */
  maxPtesNone: number;
  /** max_ptes_swap: swap PTEs a collapse may swap in; default 64 */
  maxPtesSwap: number;
  /** max_ptes_shared: PTEs of pages mapped by another mm; default 256 (v5.8, 71a2c112a0f6) */
  maxPtesShared: number;
  /** defrag: khugepaged's allocations may reclaim and compact (GFP_TRANSHUGE); default 1 */
  defrag: boolean;
}

export const KHUGEPAGED_DEFAULTS: Readonly<KhugepagedKnobs> = Object.freeze({
  pagesToScan: HPAGE_PMD_NR * 8,
  maxPtesNone: HPAGE_PMD_NR - 1,
  maxPtesSwap: HPAGE_PMD_NR / 8,
  maxPtesShared: HPAGE_PMD_NR / 2,
  defrag: true,
});

/** The knobs in force: the scenario's `system.khugepaged`, else the defaults. */
export function khugepagedKnobs(k: Kernel): Readonly<KhugepagedKnobs> {
  return k.config.khugepaged ?? KHUGEPAGED_DEFAULTS;
}
