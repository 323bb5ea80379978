/**
 * Whether do_swap_page() maps the swapped-in page writable (mm/memory.c).
 *  - 'reuse-swap-page' (v5.8 … v5.17): on a write fault, if reuse_swap_page() (mapcount + swap
 *    count <= 1, freeing the swap cache).
 *  - 'refcount' (v5.18, "mm: streamline COW logic in do_swap_page()"): on a write fault, if the
 *    page count is 1 after try_to_free_swap().
 *  - 'exclusive-write' (v5.19 PageAnonExclusive): on a write fault, if the swap PTE was
 *    exclusive (or the page never entered the swap cache) or the page count is 1.
 *  - 'exclusive-always' (c18160dba5ff, Barry Song, v6.11): the same test, also on read faults,
 *    so the following write does not fault at all.
 */
import type { FaultContext } from '@mmsim/core';

export type SwapinRuleName = 'reuse-swap-page' | 'refcount' | 'exclusive-write' | 'exclusive-always';

export function swapinWritable(rule: SwapinRuleName, ctx: FaultContext): boolean {
  switch (rule) {
    case 'reuse-swap-page':
      return ctx.write && ctx.reuseSwapPage();
    case 'refcount':
      if (!ctx.write) return false;
      // a fresh page that bypassed the swap cache is certainly not shared
      if (ctx.swapCacheBypassed) return true;
      if (ctx.folio.swapcache) ctx.freeSwapCache();
      return ctx.folio.refcount === 1;
    case 'exclusive-write':
    case 'exclusive-always': {
      if (!ctx.write && rule === 'exclusive-write') return false;
      const exclusive = ctx.swapExclusive || ctx.swapCacheBypassed;
      return exclusive || ctx.folio.refcount === 1;
    }
  }
}
