/**
 * What kernel and hardware work costs, in cycles. A hardware model supplies one profile;
 * core charges these on its mechanisms, the hardware model adds TLB and flush costs itself.
 */
export interface CostProfile {
  /** exception entry + exit and handle_mm_fault() bookkeeping, per fault */
  faultEntry: number;
  /** syscall entry + exit (madvise, mprotect, ...) */
  syscall: number;
  /** clear_page() per 4 KiB */
  zeroPage: number;
  /** copy_page() per 4 KiB */
  copyPage: number;
  /** allocating one folio (buddy + memcg charge) */
  folioAlloc: number;
  /** freeing one folio */
  folioFree: number;
  /** installing or clearing one PTE with its rmap / accounting work */
  pteUpdate: number;
  /** copy_present_pte() at fork, per PTE (and the first PTE of a batch) */
  pteCopy: number;
  /**
   * copy_present_ptes(), each further PTE of a batch of one large folio (v6.9): the
   * folio_pte_batch() compare, the per-page rmap work and the PTE writes; the folio refcount
   * and the per-call work are paid once, in pteCopy. Default: pteCopy (no saving).
   */
  pteCopyBatched?: number;
  /**
   * zap_present_ptes(), each further PTE of a batch (v6.10): clearing it; the rmap call and
   * the mmu_gather entry are paid once, in pteUpdate. Default: pteUpdate.
   */
  pteZapBatched?: number;
  /** allocating (and zeroing) a page-table page */
  tableAlloc: number;
  /** freeing a page-table page */
  tableFree: number;
  /** synchronous swap I/O, per 4 KiB (pmem/zram class device) */
  swapIoPage: number;
  /** moving one folio from a per-CPU batch to an LRU list */
  lruMove: number;
  /** a user load or store that needs no fault */
  memAccess: number;
  /** a hardware page-walk step (per level) on a TLB miss */
  walkLevel: number;
  /** local INVLPG / TLBI VA */
  tlbFlushOne: number;
  /** local full flush (CR3 write / TLBI ASID) */
  tlbFlushAll: number;
  /** initiator: send a shootdown and wait for the acknowledgements */
  ipiSend: number;
  /** initiator: extra per additional target CPU */
  ipiPerTarget: number;
  /** target: taking the IPI and flushing */
  ipiHandle: number;
  /** switch_mm() */
  contextSwitch: number;
}

export type CostKey = keyof CostProfile;

/** Unit costs: every event costs 1, pages cost their page count. For core's own tests only. */
export const UNIT_COSTS: Readonly<CostProfile> = Object.freeze({
  faultEntry: 1,
  syscall: 1,
  zeroPage: 1,
  copyPage: 1,
  folioAlloc: 1,
  folioFree: 1,
  pteUpdate: 1,
  pteCopy: 1,
  tableAlloc: 1,
  tableFree: 1,
  swapIoPage: 1,
  lruMove: 1,
  memAccess: 1,
  walkLevel: 1,
  tlbFlushOne: 1,
  tlbFlushAll: 1,
  ipiSend: 1,
  ipiPerTarget: 1,
  ipiHandle: 1,
  contextSwitch: 1,
});
