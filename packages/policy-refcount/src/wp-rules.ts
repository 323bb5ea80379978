/**
 * The reuse-or-copy rule of do_wp_page() through kernel history (mm/memory.c).
 * Each rule answers fault.wpReuse for an anonymous order-0 folio; large folios are left to
 * later taps (policy-large-folio) or core's default.
 */
import type { FaultContext, WpAnswer } from '@mmsim/core';

export type WpRuleName = 'mapcount' | 'refcount' | 'cow-fixes' | 'anon-exclusive' | 'refcount-drain';

/**
 * reuse_swap_page() of v5.8 (mm/swapfile.c): mapcount + swap count, frees the swap cache.
 * Core implements it on the fault context (`ctx.reuseSwapPage()`); kept as a function for 0.x callers.
 */
export function reuseSwapPage(ctx: FaultContext): boolean {
  return ctx.reuseSwapPage();
}

/** v5.8: lock the page and ask reuse_swap_page(); the refcount is ignored. */
function mapcountRule(ctx: FaultContext): WpAnswer {
  return ctx.reuseSwapPage() ? 'reuse' : 'copy';
}

/** v5.9, 09854ba94c6a "mm: do_wp_page() simplification": page_count() == 1 (and mapcount 1). */
function refcountRule(ctx: FaultContext): WpAnswer {
  return ctx.folio.refcount === 1 && ctx.page.mapcount === 1 ? 'reuse' : 'copy';
}

/**
 * v5.18, COW fixes part 1, patches 1-2 (53a05ad9f21d, d4c470970d45): bail above 3 references,
 * lru_add_drain() on this CPU when the page is not on an LRU list yet, allow one swap cache
 * reference, try_to_free_swap() under the page lock, then require page_count() == 1.
 */
function cowFixesRule(ctx: FaultContext): WpAnswer {
  const folio = ctx.folio;
  if (folio.refcount > 3) return 'copy';
  if (!folio.lru) ctx.lruAddDrain(); // this CPU only: cannot reach other CPUs' batches
  if (folio.refcount > 1 + (folio.swapcache ? 1 : 0)) return 'copy';
  if (folio.swapcache) ctx.freeSwapCache();
  return folio.refcount === 1 ? 'reuse' : 'copy';
}

/** v5.19, PageAnonExclusive (6c287605fd56): an exclusive page is reused without further checks. */
function anonExclusiveRule(ctx: FaultContext): WpAnswer {
  if (ctx.page.exclusive) return 'reuse';
  return cowFixesRule(ctx);
}

/**
 * Nadav Amit's conditional drain (seed 000, research variant): when the refcount is above 1,
 * lru_add_drain() first, then apply the v5.9 rule.
 */
function refcountDrainRule(ctx: FaultContext): WpAnswer {
  if (ctx.folio.refcount > 1) ctx.lruAddDrain();
  return refcountRule(ctx);
}

export const WP_RULES: Readonly<Record<WpRuleName, (ctx: FaultContext) => WpAnswer>> = Object.freeze({
  mapcount: mapcountRule,
  refcount: refcountRule,
  'cow-fixes': cowFixesRule,
  'anon-exclusive': anonExclusiveRule,
  'refcount-drain': refcountDrainRule,
});
