/**
 * The page allocator's watermark logic for a bounded memory (mm/page_alloc.c): __alloc_pages()
 * → get_page_from_freelist() at the low watermark; __alloc_pages_slowpath(): wake kswapd, retry
 * at min, __alloc_pages_direct_reclaim() (try_to_free_pages()), should_reclaim_retry(), and
 * __alloc_pages_may_oom() when reclaim cannot make progress. Unlimited memory (k.wmark null)
 * never gets here.
 */
import { C } from '../stats/counters.js';
import type { Kernel } from './kernel.js';
import { kswapdCatchUp, wakeupKswapd } from './kswapd.js';
import { outOfMemory } from './oom.js';
import { MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX, canReclaimAnon, lruvecPages, doTryToFreePages } from './vmscan.js';
import { LRU } from '../mem/lru.js';

/** NR_FREE_PAGES: memory not handed out to folios or page tables. */
export function freePages(k: Kernel): number {
  return k.config.memoryPages - k.mem.allocatedPages - k.pt.liveAccounted;
}

/** __zone_watermark_ok() for one zone without lowmem reserve: free - (2^order - 1) > mark. */
export function watermarkOk(k: Kernel, order: number, mark: number): boolean {
  return freePages(k) - ((1 << order) - 1) > mark;
}

/**
 * Make room for 2^order pages before the buddy allocator hands them out (the caller then
 * allocates). `order` > 0 is a THP / mTHP allocation (GFP_TRANSHUGE_LIGHT): no kswapd wakeup, no
 * direct reclaim; returns false when it does not fit. Order 0 (GFP_HIGHUSER_MOVABLE, page
 * tables) reclaims as needed and ends the run out of memory when nothing can be reclaimed.
 */
export function prepareAlloc(k: Kernel, order: number, held: number): boolean {
  const s = k.vmscan;
  // PF_MEMALLOC: reclaim's own allocations (ALLOC_NO_WATERMARKS) take what is left
  if (s.inReclaim) return freePages(k) >= 1 << order;
  // the caller's folio stays out of kswapd's and direct reclaim's way while it allocates
  s.heldFolio = held;
  try {
    return allocSlowpath(k, order);
  } finally {
    s.heldFolio = -1;
  }
}

function allocSlowpath(k: Kernel, order: number): boolean {
  // kswapd0 has run on its own clock up to this CPU's time (kswapd.ts)
  kswapdCatchUp(k);
  const wm = k.wmark!;
  // get_page_from_freelist(ALLOC_WMARK_LOW)
  if (watermarkOk(k, order, wm.low)) return true;
  if (order > 0) {
    // GFP_TRANSHUGE_LIGHT has no __GFP_KSWAPD_RECLAIM / __GFP_DIRECT_RECLAIM: min, else fail
    return watermarkOk(k, order, wm.min);
  }
  // __alloc_pages_slowpath(): wake_all_kswapds(), then ALLOC_WMARK_MIN
  wakeupKswapd(k);
  if (watermarkOk(k, order, wm.min)) return true;
  let noProgress = 0;
  for (;;) {
    const progress = directReclaim(k);
    if (watermarkOk(k, order, wm.min)) return true;
    // should_reclaim_retry()
    if (progress > 0) noProgress = 0;
    else noProgress++;
    if (noProgress > MAX_RECLAIM_RETRIES) break;
    // zone_reclaimable_pages(): the node's lists, every memcg's
    const lv = k.lruvec;
    let reclaimable = lruvecPages(k, lv, LRU.inactiveFile) + lruvecPages(k, lv, LRU.activeFile);
    if (canReclaimAnon(k)) reclaimable += lruvecPages(k, lv, LRU.inactiveAnon) + lruvecPages(k, lv, LRU.activeAnon);
    if (!(freePages(k) + reclaimable - ((1 << order) - 1) > wm.min)) break;
    wakeupKswapd(k);
  }
  outOfMemory(k, order);
  return false;
}

/**
 * __alloc_pages_direct_reclaim() → __perform_reclaim() → try_to_free_pages() →
 * do_try_to_free_pages(): allocstall, then shrink_node() at falling priority until
 * SWAP_CLUSTER_MAX pages are reclaimed; once more with force_deactivate when active lists were
 * skipped. Charged to the allocating CPU. Returns the pages reclaimed.
 */
function directReclaim(k: Kernel): number {
  const sc = k.vmscan.directSc;
  k.stats.v[C.allocstall_normal]!++;
  sc.nrToReclaim = SWAP_CLUSTER_MAX;
  sc.targetMemcg = 0;
  return doTryToFreePages(k, sc);
}
