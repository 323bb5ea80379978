/** Package name, as scenario files and the CLI refer to this hardware model. */
export const PLUGIN_NAME = '@mmsim/hw-x86';

/** arch/x86/include/asm/tlbflush.h: dynamic ASIDs (PCIDs) each CPU keeps for recent mms. */
export const TLB_NR_DYN_ASIDS = 6;

/**
 * arch/x86/mm/tlb.c: tlb_single_page_flush_ceiling. flush_tlb_mm_range() flushes a range
 * page by page (INVLPG) when it covers at most this many strides, else the whole ASID.
 */
export const TLB_SINGLE_PAGE_FLUSH_CEILING = 33;
