/**
 * Counters. Names follow /proc/vmstat where the kernel has one; project counters are
 * documented in docs/counters.md. Hot paths use the numeric ids of `C`.
 */
export const CORE_COUNTERS = [
  // /proc/vmstat names
  'pgfault',
  'pgmajfault',
  'pgreuse',
  'pswpin',
  'pswpout',
  'swpin_zero',
  'swpout_zero',
  'pgalloc',
  'pgfree',
  'pgactivate',
  'pgdeactivate',
  'pglazyfree',
  'pgsteal',
  'pgscan_kswapd',
  'pgscan_direct',
  'pgsteal_kswapd',
  'pgsteal_direct',
  'pgrefill',
  'allocstall_normal',
  'oom_kill',
  'workingset_refault_anon',
  'workingset_activate_anon',
  'workingset_restore_anon',
  'thp_fault_alloc',
  'thp_fault_fallback',
  'thp_split_pmd',
  'thp_split_page',
  'thp_zero_page_alloc',
  'thp_deferred_split_page',
  'nr_tlb_remote_flush',
  'nr_tlb_remote_flush_received',
  'nr_tlb_local_flush_one',
  'nr_tlb_local_flush_all',
  // project counters (see docs/counters.md)
  'cow_copy',
  'cow_zero',
  'fork_page_copy',
  'fork_pte_copy',
  'pgtable_alloc',
  'pgtable_free',
  'tlb_flush_request',
  'lru_add_batched',
  'lru_batch_drain',
  'swapin_skip_swapcache',
  'swapin_cache_hit',
  'swapin_map_writable',
  'swap_cache_add',
  'swap_cache_del',
  'reclaim_keep',
  'gup_pin',
  'gup_unpin',
  'gup_unshare',
  'uffd_fault',
  'uffd_copy',
  'uffd_wp_change',
  'context_switch',
  'mprotect_pte',
  'mremap_pte_move',
] as const;

export type CoreCounter = (typeof CORE_COUNTERS)[number];

/** Numeric ids of the core counters, for `stats.v[C.pgfault]++` on hot paths. */
export const C = Object.freeze(
  Object.fromEntries(CORE_COUNTERS.map((n, i) => [n, i])) as { [K in CoreCounter]: number },
);
