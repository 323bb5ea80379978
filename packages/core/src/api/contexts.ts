/**
 * The contexts hooks pass to policy taps, and the literal unions of their reasons, kinds and
 * answers. Every context is Readonly and reused from call to call: read it inside the tap.
 */
import type { EntryView, FolioView, MmView, PageView, VmaView } from './views.js';

/** Where a fault or decision sits in the page table. */
export type Level = 'pte' | 'pmd';

/**
 * struct vm_fault, as policies see it: the fault being handled (handle_mm_fault()), its folio
 * and page once known, and the actions a fault-time policy may take.
 */
export interface FaultContext {
  readonly mm: MmView;
  readonly vma: VmaView;
  /** the faulting virtual page number */
  readonly address: number;
  /** the CPU taking the fault */
  readonly cpu: number;
  /** FAULT_FLAG_WRITE */
  readonly write: boolean;
  /** FAULT_FLAG_UNSHARE (a R/O GUP pin of a maybe-shared page) */
  readonly unshare: boolean;
  /** 'pmd' for a fault on a PMD mapping (do_huge_pmd_wp_page, the huge zero PMD) */
  readonly level: Level;
  /** the mapped folio (present: false before one is known, e.g. in anonOrders) */
  readonly folio: FolioView;
  /** the mapped page of that folio */
  readonly page: PageView;
  /** the faulting entry (PTE, or PMD when level is 'pmd'); all false before a table exists */
  readonly entry: EntryView;
  /** do_swap_page(): the swap PTE carried the exclusive marker (SWP_EXCLUSIVE) */
  readonly swapExclusive: boolean;
  /** do_swap_page(): the page was read without entering the swap cache (SWP_SYNCHRONOUS_IO) */
  readonly swapCacheBypassed: boolean;

  /* reads of the faulting PTE table */
  /** PFN mapped by a present PTE at `vpn` of the faulting PTE table, or -1 (none, swap, other table) */
  pfnAt(vpn: number): number;
  /** the PTE at `vpn` carries a uffd-wp or PROT_NONE marker */
  markedAt(vpn: number): boolean;
  /**
   * The order a copy-on-write replacement may have here (validated as wp_page_copy() needs:
   * aligned, inside the VMA and the PTE table, every PTE mapping the same source folio
   * read-only, or none / the zero page): `order` or lower, 0 for one page.
   */
  cowOrderFits(order: number): number;

  /* actions */
  /** lru_add_drain() on `cpu` (default: the faulting CPU) */
  lruAddDrain(cpu?: number): void;
  /** lru_add_drain_all(): every CPU's LRU batches */
  lruAddDrainAll(): void;
  /** folio_free_swap() / try_to_free_swap(): drop the folio from the swap cache if no swap entry uses it */
  freeSwapCache(): boolean;
  /**
   * reuse_swap_page() of v5.8 (mm/swapfile.c): mapcount plus swap count of the page; frees the
   * swap cache when that is 1 (and marks the folio dirty). Returns whether the count is <= 1.
   */
  reuseSwapPage(): boolean;
  /**
   * A `fault.wpReuse` answer: reuse the folio and make the PTEs [start, start + nr) writable at
   * once (they must map pages of this folio in this PTE table and contain the faulting address).
   * Core validates the range and applies it. Return the value this gives.
   */
  reuseRange(start: number, nr: number): WpReuseRange;
}

/** A `fault.wpReuse` answer naming a range of PTEs to make writable (from `ctx.reuseRange()`). */
export interface WpReuseRange {
  readonly reuse: 'range';
  readonly start: number;
  readonly nr: number;
}

/** do_wp_page(): reuse the page in place, copy it, or reuse a range of the folio. */
export type WpAnswer = 'reuse' | 'copy' | WpReuseRange;

/** copy_page_range(): per PTE table of a private anonymous VMA. */
export interface ForkTableContext {
  readonly parent: MmView;
  readonly child: MmView;
  /** the parent's VMA being copied */
  readonly vma: VmaView;
  /** first vpn covered by the PTE table */
  readonly tableStart: number;
  /** the parent's PTE table (an id for `ctx.tables`) */
  readonly table: number;
  /** whether [tableStart, tableStart + 512) lies inside `vma` */
  readonly fullyCovered: boolean;
}

/** copy_present_pte(): per anonymous page duplicated into the child. */
export interface ForkPageContext extends ForkTableContext {
  /** the page's virtual page number */
  readonly address: number;
  readonly folio: FolioView;
  readonly page: PageView;
}

/** What is about to modify a PTE table (the kernel path). */
export type TableChangeReason =
  | 'fault'
  | 'fork'
  | 'gup'
  | 'madvise'
  | 'madvise_dontneed'
  | 'mremap'
  | 'mprotect'
  | 'munmap'
  | 'exit'
  | 'reclaim'
  | 'uffd_copy'
  | 'uffd_wp';

/** A shared (or PMD write-protected) PTE table is about to be modified. */
export interface TableUnshareContext {
  readonly mm: MmView;
  /** first vpn of the table's span */
  readonly tableStart: number;
  /** the shared PTE table */
  readonly table: number;
  readonly reason: TableChangeReason;
  /** the range [start, end) of this table the caller is about to modify (vpns) */
  readonly start: number;
  readonly end: number;
}

/** Why reclaim runs. */
export type ReclaimReason = 'pageout' | 'pressure';

/** shrink_folio_list() / try_to_unmap() on one folio. */
export interface ReclaimContext {
  readonly folio: FolioView;
  readonly cpu: number;
  readonly reason: ReclaimReason;
}

/** How a fault was resolved (fault.handled). */
export type FaultKind =
  | 'anon'
  | 'zero'
  | 'huge'
  | 'huge-zero'
  | 'wp-reuse'
  | 'wp-copy'
  | 'wp-zero'
  | 'swapin'
  | 'spurious';

export interface FaultEvent {
  readonly mm: MmView;
  readonly vpn: number;
  readonly cpu: number;
  readonly write: boolean;
  readonly kind: FaultKind;
  readonly order: number;
}

/** How handle_mm_fault() ended (fault.exited): VM_FAULT_* in words. */
export type FaultOutcome = 'ok' | 'uffd-missing' | 'uffd-wp' | 'segv';

/** fault.entered: handle_mm_fault() was called (before any work is charged for the fault). */
export interface FaultEnteredEvent {
  readonly mm: MmView;
  readonly vpn: number;
  readonly cpu: number;
  readonly write: boolean;
  /** FAULT_FLAG_UNSHARE (GUP's read pin of a shared anon page) */
  readonly unshare: boolean;
}

/** fault.exited: handle_mm_fault() returned; one per fault.entered (and per pgfault). */
export interface FaultExitedEvent extends FaultEnteredEvent {
  readonly outcome: FaultOutcome;
}

export interface MadviseEvent {
  readonly mm: MmView;
  readonly start: number;
  readonly end: number;
  readonly cpu: number;
}

/** A page-table page left an address space (free_pte_range / free_pgtables, or a shared table's reference dropped). */
export interface TableFreedEvent {
  readonly mm: MmView;
  readonly table: number;
  /** 0 = PTE table … 3 = PGD */
  readonly level: number;
  /** references left: 0 when the page was freed, > 0 when only `mm`'s reference went */
  readonly refcount: number;
}
