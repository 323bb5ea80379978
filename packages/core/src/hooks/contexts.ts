/**
 * Internal shapes behind the public contexts (api/contexts.ts): what core fills in, with the
 * fields hardware models and the page-table API need and policies do not see.
 */
import type { Kernel } from '../kernel/kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import type { Vma } from '../mm/vma.js';
import type {
  ForkPageContext,
  ReclaimContext,
  ReclaimReason,
  TableChangeReason,
  TableUnshareContext,
} from '../api/contexts.js';
import { FolioRef, PageRef } from '../api/folio-ref.js';

export type { VmFault } from '../kernel/vm-fault.js';

/** The object behind fork.pteTable and fork.page (one per fork). */
export class ForkCtx implements ForkPageContext {
  parent: MmStruct;
  child: MmStruct;
  vma: Vma = null as unknown as Vma;
  tableStart = 0;
  table = -1;
  fullyCovered = false;
  vpn = 0;
  pfn = -1;
  head = -1;
  readonly folio: FolioRef;
  readonly page: PageRef;
  constructor(
    readonly kernel: Kernel,
    parent: MmStruct,
    child: MmStruct,
  ) {
    this.parent = parent;
    this.child = child;
    this.folio = new FolioRef(kernel, this);
    this.page = new PageRef(kernel, this);
  }
  get address(): number {
    return this.vpn;
  }
}

/** fork.unshareTable's context, with the PMD entry that points at the table. */
export interface TableUnshareRequest extends TableUnshareContext {
  readonly mm: MmStruct;
  /** the PMD table and index pointing at the shared table */
  readonly pmdTable: number;
  readonly pmdIndex: number;
}

/** The object behind the reclaim hooks (one per reclaim call). */
export class ReclaimCtx implements ReclaimContext {
  head = -1;
  pfn = -1;
  readonly folio: FolioRef;
  constructor(
    readonly kernel: Kernel,
    public cpu: number,
    public reason: ReclaimReason,
  ) {
    this.folio = new FolioRef(kernel, this);
  }
}

export type { TableChangeReason };

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
  /**
   * stride of the range: 12 for PTEs; 21 for flush_pmd_tlb_range() (pmdp_invalidate,
   * pmdp_huge_clear_flush), which each architecture maps itself (x86: flush_tlb_range() at 12),
   * or, with `gather`, tlb_get_unmap_shift() of an mmu_gather (21 when it cleared only PMDs)
   */
  strideShift: number;
  /**
   * tlb_flush() of an mmu_gather (tlb_finish_mmu): strideShift is tlb_get_unmap_shift(), which
   * x86 passes to flush_tlb_mm_range() as is (a whole THP: one 2 MiB INVLPG, 016c4d92cd16, v5.0)
   */
  gather: boolean;
  /** page-table pages were freed (the paging-structure caches must go too) */
  freedTables: boolean;
  /** batch-add: the unmapped PTE was dirty (try_to_unmap_flush_dirty must flush) */
  writable: boolean;
  /** the kernel path that asked, e.g. 'wp_page_copy', 'madvise', 'reclaim' */
  reason: string;
}
