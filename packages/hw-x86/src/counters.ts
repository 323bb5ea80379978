import type { Stats } from '@mmsim/core';

/** Counters this model adds to the vmstat-style set (core's nr_tlb_* are counted too). */
export const X86_COUNTERS = [
  /** IPIs sent for TLB shootdowns, one per target CPU */
  'ipi_sent',
  /** user accesses with no usable TLB entry (absent, or a write through a read-only / clean entry) */
  'tlb_miss',
  /** L1 dTLB misses that hit the STLB */
  'stlb_hit',
  /** successful hardware page walks (each fills the TLB) */
  'page_walk',
  /** page-walk levels actually read (after paging-structure-cache hits) */
  'page_walk_level',
  /** context switches that flushed the new ASID (no PCID, a new slot, or a stale tlb_gen) */
  'tlb_switch_flush',
  /** switch_mm_irqs_off() calls that change the loaded mm, the switch to init_mm of a lazy CPU
   *  included: one tlb:tlb_flush TLB_FLUSH_ON_TASK_SWITCH event each (pages 0 or ALL) */
  'tlb_switch_mm',
  /** lazy-TLB CPUs left out of a shootdown */
  'tlb_lazy_skip',
  /** lazy CPUs that caught up (full flush of the ASID) before using the mm again */
  'tlb_lazy_catchup',
  /** fills that coalesced 4 PTEs into one entry */
  'tlb_coalesced_fill',
  // comparable across architectures (hw-arm64 counts the same names; docs/counters.md)
  /** invalidation requests that had to reach another CPU of the mask (== nr_tlb_remote_flush) */
  'tlb_remote_inval',
  /** per tlb_remote_inval: CPUs of the mask other than the initiator (IPI'd or lazily skipped) */
  'tlb_remote_inval_cpus',
  /** invalidation requests with no other CPU in the mask, the initiator having the mm loaded */
  'tlb_local_inval',
  /** base (4 KiB) pages covered by counted requests done as a range (INVLPG per stride) */
  'tlb_inval_pages',
  /** counted requests done as a full flush of the mm (ASID) or of the batch's CPUs */
  'tlb_inval_full',
] as const;

export type X86Counter = (typeof X86_COUNTERS)[number];
export type X86CounterIds = { [K in X86Counter]: number };

export function defineX86Counters(stats: Stats): X86CounterIds {
  const ids = {} as X86CounterIds;
  for (const n of X86_COUNTERS) ids[n] = stats.define(n);
  return ids;
}
