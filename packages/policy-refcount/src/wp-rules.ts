/**
 * The reuse-or-copy rule of do_wp_page() through kernel history (mm/memory.c).
 * Each rule answers fault.wpReuse for an anonymous order-0 folio; large folios are left to
 * later taps (policy-large-folio) or core's default.
 */
import { PG, type Kernel, type Vmf, type WpDecision } from '@mmsim/core';

export type WpRuleName = 'mapcount' | 'refcount' | 'cow-fixes' | 'anon-exclusive' | 'refcount-drain';

/** reuse_swap_page() of v5.8 (mm/swapfile.c): mapcount + swap count, frees the swap cache. */
export function reuseSwapPage(k: Kernel, head: number, pfn: number): boolean {
  const f = k.f;
  let count = f.mapcount[pfn]!;
  const inCache = (f.flags[head]! & PG.swapcache) !== 0;
  if (inCache) count += k.swap.count[f.swap[head]! + (pfn - head)]!;
  if (count === 1 && inCache && (f.flags[head]! & PG.writeback) === 0) {
    k.deleteFromSwapCache(head);
    f.flags[head]! |= PG.dirty;
  }
  return count <= 1;
}

/** v5.8: lock the page and ask reuse_swap_page(); the refcount is ignored. */
function mapcountRule(k: Kernel, vmf: Vmf): WpDecision {
  return reuseSwapPage(k, vmf.head, vmf.pfn) ? 'reuse' : 'copy';
}

/** v5.9, 09854ba94c6a "mm: do_wp_page() simplification": page_count() == 1 (and mapcount 1). */
function refcountRule(k: Kernel, vmf: Vmf): WpDecision {
  const f = k.f;
  return f.ref[vmf.head] === 1 && f.mapcount[vmf.pfn] === 1 ? 'reuse' : 'copy';
}

/**
 * v5.18, COW fixes part 1, patches 1-2 (53a05ad9f21d, d4c470970d45): bail above 3 references,
 * lru_add_drain() on this CPU when the page is not on an LRU list yet, allow one swap cache
 * reference, try_to_free_swap() under the page lock, then require page_count() == 1.
 */
function cowFixesRule(k: Kernel, vmf: Vmf): WpDecision {
  const f = k.f;
  const head = vmf.head;
  if (f.ref[head]! > 3) return 'copy';
  if ((f.flags[head]! & PG.lru) === 0) k.lruAddDrain(k.cpu); // cannot reach other CPUs' batches
  if (f.ref[head]! > 1 + ((f.flags[head]! & PG.swapcache) !== 0 ? 1 : 0)) return 'copy';
  if ((f.flags[head]! & PG.swapcache) !== 0) k.folioFreeSwap(head);
  return f.ref[head] === 1 ? 'reuse' : 'copy';
}

/** v5.19, PageAnonExclusive (6c287605fd56): an exclusive page is reused without further checks. */
function anonExclusiveRule(k: Kernel, vmf: Vmf): WpDecision {
  if ((k.f.flags[vmf.pfn]! & PG.anonExclusive) !== 0) return 'reuse';
  return cowFixesRule(k, vmf);
}

/**
 * Nadav Amit's conditional drain (seed 000, research variant): when the refcount is above 1,
 * lru_add_drain() first, then apply the v5.9 rule.
 */
function refcountDrainRule(k: Kernel, vmf: Vmf): WpDecision {
  if (k.f.ref[vmf.head]! > 1) k.lruAddDrain(k.cpu);
  return refcountRule(k, vmf);
}

export const WP_RULES: Readonly<Record<WpRuleName, (k: Kernel, vmf: Vmf) => WpDecision>> = Object.freeze({
  mapcount: mapcountRule,
  refcount: refcountRule,
  'cow-fixes': cowFixesRule,
  'anon-exclusive': anonExclusiveRule,
  'refcount-drain': refcountDrainRule,
});
