/**
 * Leaks once every process has exited (no live mm): every frame still allocated must be held
 * by a pin that outlived its process, or only by per-CPU LRU batches (freed by the next
 * lru_add_drain), or be an orphaned swap-cache folio: unmapped, held by the swap cache alone, its
 * slots used by nothing else. The zap could not free those (free_swap_and_cache() →
 * folio_swapcache_freeable() refuses a folio under writeback: reclaim's asynchronous swap write
 * was still in flight) and a later reclaim pass frees them, as in the kernel. Every swap slot
 * still used must be the swap-cache slot of such a folio; no page table is left (checked by the
 * accounting invariants). This is the state
 * `k.lruAddDrainAll()` would turn into "allocatedPages === 0 and swap.used === 0" when no pin
 * is held, checked without draining so that checking never changes what the kernel does next.
 */
import { PG, type Kernel } from '@mmsim/core';
import { batchRefs, folioHeads } from './folios.js';
import type { ViolationList } from './violation.js';

export function checkLeaks(k: Kernel, v: ViolationList, heads: readonly number[] = folioHeads(k)): void {
  if (k.mms.size > 0) return;
  const f = k.f;
  const batches = batchRefs(k);
  let held = 0;
  for (const head of heads) {
    const nr = 1 << f.order[head]!;
    if (f.pincount[head]! > 0) {
      held += nr;
      continue;
    }
    if (f.ref[head] === (batches.get(head) ?? 0) && (f.flags[head]! & PG.swapcache) === 0) {
      held += nr;
      continue;
    }
    if (orphanedSwapCache(k, head, batches.get(head) ?? 0)) {
      held += nr;
      continue;
    }
    v.add(
      'leak',
      `every process exited, but folio ${head} (order ${f.order[head]}) is still allocated: refcount ${f.ref[head]}, mapcount ${f.folioMapcount(head)}, ${f.pincount[head]} pin(s)${(f.flags[head]! & PG.swapcache) !== 0 ? ', in the swap cache' : ''}`,
    );
  }
  if (k.mem.allocatedPages !== held && v.ok) {
    v.add(
      'leak',
      `every process exited: ${k.mem.allocatedPages} frames allocated, but only ${held} are held by pins or LRU batches`,
    );
  }
  const sw = k.swap;
  for (let s = 0; s < sw.count.length; s++) {
    if (sw.count[s] === 0 && sw.hasCache[s] === 0) continue;
    const pfn = sw.cache[s]!;
    if (sw.count[s] === 0 && pfn >= 0 && f.pincount[f.head(pfn)]! > 0) continue;
    if (sw.count[s] === 0 && pfn >= 0 && orphanedSwapCache(k, f.head(pfn), batches.get(f.head(pfn)) ?? 0)) continue;
    v.add(
      'leak',
      `every process exited, but swap slot ${s} is still used (count ${sw.count[s]}, ${sw.hasCache[s] ? `caching pfn ${pfn}` : 'not cached'})`,
    );
    break;
  }
}

/**
 * A swap-cache folio no one maps or references but the swap cache (add_to_swap_cache()'s nr
 * references) and LRU batches, whose swap slots have no user left: reclaim's to free.
 */
function orphanedSwapCache(k: Kernel, head: number, batchRefs: number): boolean {
  const f = k.f;
  if ((f.flags[head]! & PG.swapcache) === 0 || f.folioMapcount(head) !== 0) return false;
  const nr = 1 << f.order[head]!;
  if (f.ref[head] !== nr + batchRefs) return false;
  const slot = f.swap[head]!;
  for (let i = 0; i < nr; i++) if (k.swap.count[slot + i] !== 0) return false;
  return true;
}
