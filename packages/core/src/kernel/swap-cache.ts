/**
 * The swap cache and swap-slot references (mm/swap_state.c: add_to_swap, delete_from_swap_cache;
 * mm/swapfile.c: folio_free_swap, swap_free, free_swap_and_cache).
 */
import { PG } from '../mem/folios.js';
import { C } from '../stats/counters.js';
import { SimError, type Kernel } from './kernel.js';
import { memcgTryChargeSwap } from './memcontrol.js';

/** add_to_swap(): give the folio swap slots and put it in the swap cache. */
export function addToSwap(k: Kernel, head: number): boolean {
  const f = k.f;
  const nr = 1 << f.order[head]!;
  const slot = k.swap.allocSlots(nr);
  if (slot < 0) return false;
  // folio_alloc_swap() → mem_cgroup_try_charge_swap(): over memory.swap.max the slots go back
  if (!memcgTryChargeSwap(k, f.memcg[head]!, slot, nr)) {
    for (let i = 0; i < nr; i++) k.swap.maybeFree(slot + i);
    return false;
  }
  for (let i = 0; i < nr; i++) {
    k.swap.hasCache[slot + i] = 1;
    k.swap.cache[slot + i] = head + i;
  }
  f.swap[head] = slot;
  f.flags[head]! |= PG.swapcache | PG.dirty;
  f.ref[head]! += nr;
  k.swap.cachedPages += nr;
  k.stats.v[C.swap_cache_add]! += nr;
  return true;
}

/** delete_from_swap_cache(): drop the swap cache's references and free unused slots. */
export function deleteFromSwapCache(k: Kernel, head: number): void {
  const f = k.f;
  const nr = 1 << f.order[head]!;
  const slot = f.swap[head]!;
  for (let i = 0; i < nr; i++) {
    k.swap.hasCache[slot + i] = 0;
    k.swap.cache[slot + i] = -1;
    k.swap.maybeFree(slot + i);
  }
  f.swap[head] = -1;
  f.flags[head]! &= ~PG.swapcache;
  k.swap.cachedPages -= nr;
  k.stats.v[C.swap_cache_del]! += nr;
  k.folioPut(head, nr);
}

/**
 * folio_free_swap() / try_to_free_swap(): drop the folio from the swap cache when no swap
 * entry references its slots any more and it is not under writeback.
 */
export function folioFreeSwap(k: Kernel, head: number): boolean {
  const f = k.f;
  if ((f.flags[head]! & PG.swapcache) === 0 || (f.flags[head]! & PG.writeback) !== 0) return false;
  const nr = 1 << f.order[head]!;
  const slot = f.swap[head]!;
  for (let i = 0; i < nr; i++) if (k.swap.count[slot + i] !== 0) return false;
  deleteFromSwapCache(k, head);
  return true;
}

/** swap_free() for one slot referenced by a PTE. */
export function swapFree(k: Kernel, slot: number): void {
  if (k.swap.count[slot] === 0) throw new SimError(`swap count underflow on slot ${slot}`, 'internal');
  k.swap.count[slot]!--;
  k.swap.maybeFree(slot);
}

/** free_swap_and_cache(): a zapped swap PTE. */
export function freeSwapAndCache(k: Kernel, slot: number): void {
  swapFree(k, slot);
  if (k.swap.count[slot] === 0 && k.swap.hasCache[slot] === 1) {
    const pfn = k.swap.cache[slot]!;
    const head = k.f.head(pfn);
    if (k.f.folioMapcount(head) === 0) folioFreeSwap(k, head);
  }
}
