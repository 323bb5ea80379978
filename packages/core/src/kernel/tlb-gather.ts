import type { Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { PG } from '../mem/folios.js';
import { lruAddDrain } from './lru-batch.js';
import { folioFreeSwap } from './swap-cache.js';
import { flush } from './tlb-flush.js';
import { PAGE_SHIFT } from '../units.js';

/** Page-table level a gathered range was cleared at (struct mmu_gather's cleared_* bits). */
export const CLEARED_PTE = 1;
export const CLEARED_PMD = 2;
export const CLEARED_PUD = 4;
export const CLEARED_P4D = 8;

/**
 * struct mmu_gather (mm/mmu_gather.c): collects the range whose PTEs were changed and the
 * folios whose references may only be dropped once the TLB no longer maps them.
 */
export class MmGather {
  start = Number.MAX_SAFE_INTEGER;
  end = 0;
  freedTables = false;
  /** cleared_ptes / cleared_pmds / cleared_puds / cleared_p4ds (CLEARED_*) */
  cleared = 0;
  private readonly pages: number[] = [];

  constructor(
    private readonly k: Kernel,
    readonly mm: MmStruct,
    readonly fullmm: boolean,
  ) {}

  /**
   * __tlb_adjust_range() and the level's cleared_* bit: tlb_remove_tlb_entry() /
   * tlb_flush_pte_range() (CLEARED_PTE), tlb_remove_pmd_tlb_entry() and pte_free_tlb()
   * (CLEARED_PMD), pmd_free_tlb() (CLEARED_PUD), pud_free_tlb() (CLEARED_P4D).
   */
  addRange(vpn: number, nr = 1, level = CLEARED_PTE): void {
    if (vpn < this.start) this.start = vpn;
    if (vpn + nr > this.end) this.end = vpn + nr;
    this.cleared |= level;
  }

  /** tlb_remove_page(): the folio reference is put after the flush. */
  removePage(head: number, vpn: number, nr = 1, level = CLEARED_PTE): void {
    this.addRange(vpn, nr, level);
    this.pages.push(head);
  }

  /**
   * tlb_get_unmap_shift() (include/asm-generic/tlb.h): the stride tlb_flush() passes, the
   * smallest level whose entries were cleared: PMD_SHIFT when only PMDs (a whole THP) were.
   */
  unmapShift(): number {
    const c = this.cleared;
    if ((c & CLEARED_PTE) !== 0 || c === 0) return PAGE_SHIFT;
    if ((c & CLEARED_PMD) !== 0) return PAGE_SHIFT + 9;
    if ((c & CLEARED_PUD) !== 0) return PAGE_SHIFT + 18;
    return PAGE_SHIFT + 27;
  }

  /** tlb_finish_mmu(): flush what was gathered, then free the batched pages. */
  finish(reason: string): void {
    if (this.end > this.start || this.freedTables) {
      if (this.fullmm) flush(this.k, 'fullmm', this.mm, 0, Number.MAX_SAFE_INTEGER, reason, true);
      else
        flush(
          this.k,
          'range',
          this.mm,
          this.start,
          Math.max(this.end, this.start + 1),
          reason,
          this.freedTables,
          false,
          this.unmapShift(),
          true,
        );
    }
    if (this.pages.length > 0) {
      // free_pages_and_swap_cache(): lru_add_drain() on this CPU, then free_swap_cache() on
      // each folio no longer mapped, so an unmapped swap-cache folio does not linger
      lruAddDrain(this.k, this.k.cpu);
      const f = this.k.f;
      for (const head of this.pages) {
        if ((f.flags[head]! & PG.swapcache) !== 0 && f.folioMapcount(head) === 0) folioFreeSwap(this.k, head);
      }
    }
    // freeing a 64 GiB unmap's folios takes long: cond_resched() polls for an interruption (the
    // kernel frees per batch of MAX_GATHER_BATCH pages; mmsim frees them all here, unmodelled cost)
    for (const head of this.pages) {
      this.k.folioPut(head);
      this.k.condResched(1);
    }
    this.pages.length = 0;
    this.start = Number.MAX_SAFE_INTEGER;
    this.end = 0;
    this.freedTables = false;
    this.cleared = 0;
  }
}
