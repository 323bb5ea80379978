/**
 * Limit reclaim of one memcg (mm/vmscan.c: try_to_free_mem_cgroup_pages() →
 * do_try_to_free_pages() with sc->target_mem_cgroup set): shrink_node() at falling priority on
 * the memcg's lruvec only (shrink_node_memcgs() iterates the target's subtree: the memcg
 * itself), until max(nr, SWAP_CLUSTER_MAX) pages are reclaimed; once more with
 * force_deactivate when active lists were skipped. No allocstall (cgroup reclaim), charged to
 * the allocating CPU. Counted in the memcg's memory.stat pgscan_direct / pgsteal_direct, not in
 * /proc/vmstat's.
 */
import type { Kernel } from './kernel.js';
import type { MemCgroup } from './memcontrol.js';
import { SWAP_CLUSTER_MAX, doTryToFreePages } from './vmscan.js';

/** try_to_free_mem_cgroup_pages(memcg, nr_pages, GFP_KERNEL, MEMCG_RECLAIM_MAY_SWAP): the pages reclaimed. */
export function tryToFreeMemCgroupPages(k: Kernel, m: MemCgroup, nrPages: number): number {
  const sc = k.vmscan.memcgSc;
  sc.targetMemcg = m.id;
  sc.nrToReclaim = Math.max(nrPages, SWAP_CLUSTER_MAX);
  return doTryToFreePages(k, sc);
}
