import type { Stats } from '@mmsim/core';

/** Counters of the arm64 model (project counters; see README "Counters"). */
export const ARM64_COUNTERS = [
  'tlb_miss',
  'tlb_l1_miss',
  'page_walk',
  'tlbi_broadcast',
  'tlbi_va',
  'tlbi_asid',
  'dsb_ish',
  'tlb_local_flush_all',
  'contpte_fold',
  'contpte_unfold',
  'tlb_fill_contpte',
  'tlb_fill_coalesced',
  'asid_alloc',
  'asid_rollover',
  // comparable across architectures (hw-x86 counts the same names; docs/counters.md)
  /** TLBI sequences (one per flush request or completed reclaim batch) with another CPU in the mask */
  'tlb_remote_inval',
  /** per tlb_remote_inval: CPUs of the mask other than the initiator */
  'tlb_remote_inval_cpus',
  /** TLBI sequences with no other CPU in the mask, the initiator having the mm loaded */
  'tlb_local_inval',
  /** base (4 KiB) pages covered by counted sequences of per-VA / range TLBIs */
  'tlb_inval_pages',
  /** counted sequences that invalidated the whole ASID (TLBI ASIDE1IS) */
  'tlb_inval_full',
] as const;

export type Arm64Counter = (typeof ARM64_COUNTERS)[number];
export type CounterIds = { readonly [K in Arm64Counter]: number };

export function defineCounters(stats: Stats): CounterIds {
  const ids = {} as { [K in Arm64Counter]: number };
  for (const n of ARM64_COUNTERS) ids[n] = stats.define(n);
  return Object.freeze(ids);
}
