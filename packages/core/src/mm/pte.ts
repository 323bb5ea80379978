/**
 * Page-table entry bits. One 16-bit flag word per entry plus a 32-bit value: the PFN for a
 * present leaf, the swap slot for a swap entry, the table id for a non-leaf entry.
 * The same encoding serves every level (pgd, pud, pmd, pte).
 */
export const PTE = Object.freeze({
  present: 1 << 0,
  write: 1 << 1,
  dirty: 1 << 2,
  young: 1 << 3,
  /** a PMD (or PUD) entry that maps a folio directly (pmd_trans_huge) */
  huge: 1 << 4,
  /** a non-leaf entry pointing at a lower-level table */
  table: 1 << 5,
  /** a non-present swap entry; value = swap slot */
  swap: 1 << 6,
  /** pte_swp_exclusive: the swapped page was PageAnonExclusive */
  swpExclusive: 1 << 7,
  /** _PAGE_UFFD_WP / pte_swp_uffd_wp */
  uffdWp: 1 << 8,
  softDirty: 1 << 9,
  /** PROT_NONE mapping: present for the kernel, inaccessible for the hardware */
  protNone: 1 << 10,
  /**
   * A PTE marker (not present, not swap) with PTE_MARKER_GUARD (include/linux/swapops.h,
   * 662df3e5c376, v6.13): MADV_GUARD_INSTALL's guard region; an access is SIGSEGV.
   */
  guard: 1 << 11,
  /** Hardware-specific bits (arm64 PTE_CONT etc.); core never interprets them. */
  hw0: 1 << 12,
  hw1: 1 << 13,
  hw2: 1 << 14,
  hw3: 1 << 15,
  /** PTE_MARKER_POISONED (UFFDIO_POISON): a non-present marker; an access is SIGBUS */
  poisoned: 1 << 16,
} as const);

export const PTE_HW_MASK = PTE.hw0 | PTE.hw1 | PTE.hw2 | PTE.hw3;
