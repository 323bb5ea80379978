/**
 * Read-only views of the machine state a policy decides on. Views read the kernel's state at
 * call time; the objects a hook passes are reused from call to call (like the kernel's on-stack
 * struct vm_fault): read them inside the tap, never keep them.
 */

/** struct vm_area_struct: a private anonymous VMA. Addresses are virtual page numbers. */
export interface VmaView {
  readonly start: number;
  /** exclusive */
  readonly end: number;
  /** the scenario region this VMA belongs to */
  readonly name: string;
  /** VM_* bits: test with the `VM` constants, e.g. `(vma.flags & VM.hugepage) !== 0` */
  readonly flags: number;
}

/** struct mm_struct: an address space. */
export interface MmView {
  /** stable id of the address space (the owner id of page tables) */
  readonly id: number;
  /** MMF_HAS_PINNED: this mm ever took a FOLL_PIN pin */
  readonly hasPinned: boolean;
  /** the mm has been torn down (exit_mmap done) */
  readonly dead: boolean;
  /** MM_ANONPAGES (pages) */
  readonly rssAnon: number;
  /** MM_SWAPENTS */
  readonly swapEnts: number;
  /** mm_pgtables_bytes() */
  readonly pgtablesBytes: number;
  /** find_vma(): the VMA containing `vpn`, if any */
  findVma(vpn: number): VmaView | undefined;
}

/** One page (struct page) of a folio. */
export interface PageView {
  /** page frame number */
  readonly pfn: number;
  /** PageAnonExclusive(): this page is mapped by exactly one process, which may write it */
  readonly exclusive: boolean;
  /** page_mapcount(): PTE mappings of this page */
  readonly mapcount: number;
  /** swap count of the slot that backs this page (0 when not in the swap cache) */
  readonly swapCount: number;
}

/** struct folio: a naturally aligned power-of-two block of pages. */
export interface FolioView {
  /** false when the context has no folio (e.g. a first-touch fault) */
  readonly present: boolean;
  /** PFN of the head page: the folio's identity */
  readonly head: number;
  /** folio_order() */
  readonly order: number;
  /** folio_nr_pages() */
  readonly nrPages: number;
  /**
   * folio_ref_count(): one per mapping PTE (or PMD), one per LRU-batch slot holding it, one per
   * swap-cache page, GUP_PIN_COUNTING_BIAS (small folios) or 1 (large) per pin, one per other
   * temporary holder
   */
  readonly refcount: number;
  /** folio_mapcount(): all mappings of all its pages (PMD mappings count once per page… see docs) */
  readonly mapcount: number;
  /** _large_mapcount: every PTE mapping of every page plus PMD mappings (0 for small folios) */
  readonly largeMapcount: number;
  /** _entire_mapcount: PMD mappings of the whole folio */
  readonly entireMapcount: number;
  /** _pincount: FOLL_PIN pins */
  readonly pincount: number;
  /** folio_maybe_dma_pinned() */
  readonly maybePinned: boolean;
  /** folio_test_anon() */
  readonly anon: boolean;
  /** folio_test_swapcache(): the folio is in the swap cache (one reference per page) */
  readonly swapcache: boolean;
  /** folio_test_lru(): on an LRU list */
  readonly lru: boolean;
  /** a reference to the folio sits in some CPU's LRU batch (lru_add, deactivate, ...) */
  readonly inBatch: boolean;
  /** folio_test_writeback() */
  readonly writeback: boolean;
  /** the shared zero page or a page of the huge zero page */
  readonly isZero: boolean;
  /** whether `pfn` is one of this folio's pages */
  contains(pfn: number): boolean;
  /** PageAnonExclusive() of the page `pfn` of this folio */
  isExclusive(pfn: number): boolean;
  /** how many of the folio's mappings belong to `mm` (folio_mapped_in_mm-style scan) */
  mappingsIn(mm: MmView): number;
}

/** The faulting page-table entry (the PTE, or the PMD for a PMD-level fault), as it is now. */
export interface EntryView {
  /** the entry maps a page (pte_present) */
  readonly present: boolean;
  /** a swap entry (is_swap_pte) */
  readonly swap: boolean;
  /** pte_write */
  readonly writable: boolean;
  /** pte_dirty */
  readonly dirty: boolean;
  /** pte_young (the accessed bit) */
  readonly young: boolean;
  /** pte_uffd_wp / pte_swp_uffd_wp */
  readonly uffdWp: boolean;
  /** pte_soft_dirty */
  readonly softDirty: boolean;
  /** pte_protnone (PROT_NONE) */
  readonly protNone: boolean;
  /** a swap entry's exclusive marker (pte_swp_exclusive) */
  readonly swapExclusive: boolean;
}

/** A counter the plugin defined, vmstat style (`ctx.stats.define(name)`). */
export interface Counter {
  readonly name: string;
  readonly value: number;
  inc(n?: number): void;
}

/** What a plugin may know of the hardware it runs on. */
export interface HardwareInfo {
  /** 'x86', 'arm64', 'flat', or a package's own name */
  readonly name: string;
  readonly ncpus: number;
  /** the cost profile, in cycles per event */
  readonly costs: Readonly<Record<string, number>>;
  /** the MMU sets accessed/dirty bits itself */
  readonly managesAccessFlags: boolean;
}
