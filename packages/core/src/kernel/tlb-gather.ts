import type { Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { PG } from '../mem/folios.js';
import { lruAddDrain } from './lru-batch.js';
import { folioFreeSwap } from './swap-cache.js';
import { flush } from './tlb-flush.js';

/**
 * struct mmu_gather (mm/mmu_gather.c): collects the range whose PTEs were changed and the
 * folios whose references may only be dropped once the TLB no longer maps them.
 */
export class MmGather {
  start = Number.MAX_SAFE_INTEGER;
  end = 0;
  freedTables = false;
  private readonly pages: number[] = [];

  constructor(
    private readonly k: Kernel,
    readonly mm: MmStruct,
    readonly fullmm: boolean,
  ) {}

  /** tlb_remove_tlb_entry() / tlb_flush_pte_range() */
  addRange(vpn: number, nr = 1): void {
    if (vpn < this.start) this.start = vpn;
    if (vpn + nr > this.end) this.end = vpn + nr;
  }

  /** tlb_remove_page(): the folio reference is put after the flush. */
  removePage(head: number, vpn: number, nr = 1): void {
    this.addRange(vpn, nr);
    this.pages.push(head);
  }

  /** tlb_finish_mmu(): flush what was gathered, then free the batched pages. */
  finish(reason: string): void {
    if (this.end > this.start || this.freedTables) {
      if (this.fullmm) flush(this.k, 'fullmm', this.mm, 0, Number.MAX_SAFE_INTEGER, reason, true);
      else flush(this.k, 'range', this.mm, this.start, Math.max(this.end, this.start + 1), reason, this.freedTables);
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
    for (const head of this.pages) this.k.folioPut(head);
    this.pages.length = 0;
    this.start = Number.MAX_SAFE_INTEGER;
    this.end = 0;
    this.freedTables = false;
  }
}
