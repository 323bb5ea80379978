import type { Kernel } from '../kernel/kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import type { Vma } from '../mm/vma.js';

/**
 * struct vm_fault: the state of the fault being handled. One object is reused for every fault
 * (like the kernel's on-stack vmf): read it inside a tap, never keep it.
 */
export interface Vmf {
  readonly kernel: Kernel;
  mm: MmStruct;
  vma: Vma;
  /** faulting virtual page number */
  vpn: number;
  /** CPU taking the fault */
  cpu: number;
  /** FAULT_FLAG_WRITE */
  write: boolean;
  /** FAULT_FLAG_UNSHARE (GUP R/O pin of a maybe-shared page) */
  unshare: boolean;
  /** PTE table id and index of the faulting entry (-1 when none yet) */
  table: number;
  index: number;
  /** the mapped page (PFN) and its folio head, -1 when none */
  pfn: number;
  head: number;
  /** swap-in: the swap slot and whether the swap PTE carried the exclusive bit */
  swapSlot: number;
  swapExclusive: boolean;
  /** swap-in: the page was read without entering the swap cache (SWP_SYNCHRONOUS_IO path) */
  swapCacheBypassed: boolean;
}

/** Reuse-or-copy answer of `fault.wpReuse` (do_wp_page). */
export type WpDecision = 'reuse' | 'copy';

/** Per-table and per-page decisions at fork (copy_page_range / copy_present_pte). */
export interface ForkContext {
  readonly kernel: Kernel;
  parent: MmStruct;
  child: MmStruct;
  vma: Vma;
  /** first vpn covered by the PTE table */
  tableStart: number;
  /** the parent's PTE table */
  table: number;
  /** whether [tableStart, tableStart + 512) lies inside `vma` */
  fullyCovered: boolean;
  /** for fork.page: the page being duplicated */
  vpn: number;
  pfn: number;
  head: number;
}

/** A PTE table that is about to be modified while shared (refcount > 1). */
export interface TableUnshareContext {
  readonly kernel: Kernel;
  mm: MmStruct;
  /** first vpn of the table's span */
  tableStart: number;
  /** the PMD table and index pointing at it */
  pmdTable: number;
  pmdIndex: number;
  /** the shared PTE table */
  table: number;
  reason: string;
  /** the range [start, end) of this table the caller is about to modify (vpns) */
  start: number;
  end: number;
}

export interface ReclaimContext {
  readonly kernel: Kernel;
  /** folio head being reclaimed */
  head: number;
  cpu: number;
  /** why: 'pageout' (MADV_PAGEOUT) or 'pressure' */
  reason: string;
}

export type FlushKind =
  /** flush_tlb_mm_range() over [start, end) */
  | 'range'
  /** flush_tlb_mm(): the whole address space */
  | 'mm'
  /** arch_tlbbatch_add_pending(): reclaim defers a flush for this mm */
  | 'batch-add'
  /** arch_tlbbatch_flush(): flush everything deferred by this CPU's reclaim */
  | 'batch-flush'
  /** exit_mmap(): the mm is being torn down (tlb_gather_mmu_fullmm) */
  | 'fullmm';

/** One TLB flush request, as the kernel issues it. The object is reused: copy what you keep. */
export interface FlushRequest {
  kind: FlushKind;
  /** the address space (null for batch-flush, which covers every batched mm) */
  mm: MmStruct | null;
  /** initiating CPU */
  cpu: number;
  /** [start, end) in virtual page numbers */
  start: number;
  end: number;
  /** stride of the range: 12 for PTEs, 21 for PMD mappings */
  strideShift: number;
  /** page-table pages were freed (the paging-structure caches must go too) */
  freedTables: boolean;
  /** batch-add: the unmapped PTE was dirty (try_to_unmap_flush_dirty must flush) */
  writable: boolean;
  /** the kernel path that asked, e.g. 'wp_page_copy', 'madvise', 'reclaim' */
  reason: string;
}

export interface FaultEvent {
  mm: MmStruct;
  vpn: number;
  cpu: number;
  write: boolean;
  /** 'anon' | 'zero' | 'wp-reuse' | 'wp-copy' | 'wp-zero' | 'swapin' | 'huge' | 'uffd' */
  kind: string;
  order: number;
}

export interface MadviseEvent {
  mm: MmStruct;
  start: number;
  end: number;
  cpu: number;
}
