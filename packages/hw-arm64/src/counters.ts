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
] as const;

export type Arm64Counter = (typeof ARM64_COUNTERS)[number];
export type CounterIds = { readonly [K in Arm64Counter]: number };

export function defineCounters(stats: Stats): CounterIds {
  const ids = {} as { [K in Arm64Counter]: number };
  for (const n of ARM64_COUNTERS) ids[n] = stats.define(n);
  return Object.freeze(ids);
}
