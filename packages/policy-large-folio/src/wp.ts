/**
 * Write faults on large anonymous folios: reuse (fault.wpReuse) and the copy order
 * (fault.cowOrder), per kernel era.
 */
import { PMD_ORDER, PTRS_PER_TABLE, type FaultContext, type WpAnswer } from '@mmsim/core';

/**
 * Reuse rule for a PTE-mapped large folio whose faulting page is not PageAnonExclusive
 * (an exclusive page is always reused, since v5.19):
 *  - 'never': v6.8 (with "mm: prohibit the last subpage from reusing the entire large folio",
 *    Barry Song): wp_can_reuse_anon_folio() refuses large folios: copy one page.
 *  - 'refcount': mTHP before that fix: the small-folio refcount test applied to the folio
 *    (refcount > 3 → copy; lru_add_drain; refcount == 1 → reuse) — the last sub-page left
 *    reuses the whole folio and pins its other pages (Barry Song's 2149 MB).
 *  - 'mapcount': v6.15+ __wp_can_reuse_large_anon_folio(): not when only one page is mapped,
 *    not when maybe mapped shared (CONFIG_MM_ID), free the swap cache, then reuse iff
 *    large mapcount == refcount. Only the faulting PTE becomes writable.
 *  - 'rfc': the RFC v2: when all references are this mm's own mappings (the exclusivity scan
 *    of patch 10) the folio is reused, as much of it as possible (largest aligned range).
 */
export type ReuseRule = 'never' | 'refcount' | 'mapcount' | 'rfc';

/**
 * Order of the replacement of a shared page of a large folio: 'page' (mainline: one page),
 * 'folio' (RFC: a same-order range, never replacing a sub-page still PageAnonExclusive),
 * 'folio-unsafe' (the RFC as first posted: replaces exclusive sub-pages too — David
 * Hildenbrand's objection; a pinned exclusive sub-page then leaves the pin behind).
 */
export type CowRule = 'page' | 'folio' | 'folio-unsafe';

/** Write fault on the zero page: 'page' (mainline) or 'folio' (RFC: the preferred order). */
export type ZeroWpRule = 'page' | 'folio';

/** Write fault on the huge zero PMD: 'split' (fall back to one page) or 'thp' (do_huge_zero_wp_pmd, v6.14+). */
export type HugeZeroWpRule = 'split' | 'thp';

export interface WpOptions {
  reuse: ReuseRule;
  cow: CowRule;
  zeroWp: ZeroWpRule;
  hugeZeroWp: HugeZeroWpRule;
  /**
   * When a reuse finds the whole folio exclusive to this mm, make all its PTEs writable at once
   * (one set_ptes-like update) so an arm64 contpte block is not unfolded page by page.
   */
  contpteReuse: boolean;
}

interface Range {
  start: number;
  nr: number;
}

/**
 * The PTE range of the whole folio mapped in the faulting PTE table at its natural alignment,
 * or null. PTEs carrying a uffd-wp or PROT_NONE marker disqualify the range (core only makes
 * unmarked PTEs of the folio writable at once).
 */
function folioRange(ctx: FaultContext): Range | null {
  const folio = ctx.folio;
  const head = folio.head;
  const nr = folio.nrPages;
  const start = ctx.address - (ctx.page.pfn - head);
  if ((start & (nr - 1)) !== 0 || (start & ~(PTRS_PER_TABLE - 1)) !== (ctx.address & ~(PTRS_PER_TABLE - 1)))
    return null;
  if (start < ctx.vma.start || start + nr > ctx.vma.end) return null;
  for (let j = 0; j < nr; j++) {
    if (ctx.pfnAt(start + j) !== head + j || ctx.markedAt(start + j)) return null;
  }
  return { start, nr };
}

/**
 * Largest naturally aligned block around the faulting page (order <= the folio's) inside the
 * VMA and the PTE table whose PTEs map pages of the folio that pass `ok` (the RFC's
 * calc_anon_folio_range_reuse()).
 */
function largestRange(ctx: FaultContext, ok: (pfn: number) => boolean): Range {
  const folio = ctx.folio;
  const vpn = ctx.address;
  for (let o = folio.order; o > 0; o--) {
    const nr = 1 << o;
    const start = vpn - (vpn & (nr - 1));
    if (start < ctx.vma.start || start + nr > ctx.vma.end) continue;
    let good = true;
    for (let j = 0; j < nr && good; j++) {
      const pfn = ctx.pfnAt(start + j);
      if (pfn < 0 || ctx.markedAt(start + j) || !folio.contains(pfn) || !ok(pfn)) good = false;
    }
    if (good) return { start, nr };
  }
  return { start: vpn, nr: 1 };
}

/** A reuse of `r`: a range answer (core makes the PTEs writable at once), or plain 'reuse' for one page. */
function reuse(ctx: FaultContext, r: Range | null): WpAnswer {
  return r && r.nr > 1 ? ctx.reuseRange(r.start, r.nr) : 'reuse';
}

/** fault.wpReuse for large folios (order-0 folios are left to policy-refcount / core). */
export function wpReuse(ctx: FaultContext, o: WpOptions): WpAnswer | undefined {
  const folio = ctx.folio;
  if (!folio.present || folio.order === 0) return undefined;
  // PMD-mapped THP (do_huge_pmd_wp_page): PageAnonExclusive or refcount 1 reuses the whole PMD.
  // The same rule as core's default, answered here so that it also decides over policies
  // tapped after this one (e.g. policy-refcount's v5.8/v5.9 mapcount rule for THPs).
  if (ctx.level === 'pmd') return pmdReuse(ctx);
  if (ctx.page.exclusive) {
    if (!ctx.unshare) {
      if (o.reuse === 'rfc')
        return reuse(
          ctx,
          largestRange(ctx, (pfn) => folio.isExclusive(pfn)),
        );
      if (o.contpteReuse)
        return reuse(
          ctx,
          wholeIf(ctx, (pfn) => folio.isExclusive(pfn)),
        );
    }
    return 'reuse';
  }
  switch (o.reuse) {
    case 'never':
      return 'copy';
    case 'refcount': {
      if (folio.refcount > 3) return 'copy';
      if (!folio.lru) ctx.lruAddDrain();
      if (folio.refcount > 1 + (folio.swapcache ? 1 : 0)) return 'copy';
      if (folio.swapcache) ctx.freeSwapCache();
      return folio.refcount === 1 ? 'reuse' : 'copy';
    }
    case 'mapcount': {
      const lmc = folio.largeMapcount;
      if (lmc <= 1) return 'copy'; // free up a large folio with a single page mapped
      if (folio.mappingsIn(ctx.mm) !== lmc) return 'copy'; // maybe mapped shared
      if (folio.swapcache) ctx.freeSwapCache();
      if (folio.largeMapcount !== folio.refcount) return 'copy';
      if (o.contpteReuse && !ctx.unshare)
        return reuse(
          ctx,
          wholeIf(ctx, () => true),
        );
      return 'reuse';
    }
    case 'rfc': {
      const lmc = folio.largeMapcount;
      if (folio.swapcache) ctx.freeSwapCache();
      if (folio.refcount !== lmc || folio.mappingsIn(ctx.mm) !== lmc) return 'copy';
      if (!ctx.unshare)
        return reuse(
          ctx,
          largestRange(ctx, () => true),
        );
      return 'reuse';
    }
  }
}

/** Mainline's PMD rule (defaultPmdReuse in core): PageAnonExclusive, or the folio's only reference is this PMD. */
function pmdReuse(ctx: FaultContext): WpAnswer {
  const folio = ctx.folio;
  if (folio.isExclusive(folio.head)) return 'reuse';
  if (folio.swapcache) ctx.freeSwapCache();
  return folio.refcount === 1 && folio.entireMapcount === 1 ? 'reuse' : 'copy';
}

/** The whole folio mapped here, every page passing `ok`: its range (all PTEs writable at once), else null. */
function wholeIf(ctx: FaultContext, ok: (pfn: number) => boolean): Range | null {
  const r = folioRange(ctx);
  if (!r) return null;
  const head = ctx.folio.head;
  for (let j = 0; j < r.nr; j++) if (!ok(head + j)) return null;
  return r;
}

/** fault.cowOrder: the order of the replacement folio in wp_page_copy(). */
export function cowOrder(order: number, ctx: FaultContext, o: WpOptions, zeroOrders: () => number): number {
  // the huge zero PMD (do_huge_pmd_wp_page → do_huge_zero_wp_pmd)
  if (ctx.level === 'pmd') return o.hugeZeroWp === 'thp' ? PMD_ORDER : order;
  if (ctx.folio.isZero) {
    if (o.zeroWp !== 'folio') return order;
    // the preferred order, as for a first touch (alloc_anon_folio over none / zero PTEs)
    const mask = zeroOrders();
    for (let x = PMD_ORDER - 1; x > 0; x--) {
      if ((mask & (1 << x)) !== 0 && ctx.cowOrderFits(x) === x) return x;
    }
    return order;
  }
  const folio = ctx.folio;
  if (!folio.present || folio.order === 0 || o.cow === 'page') return order;
  // RFC: calc_anon_folio_order_copy(): a same-order range, shrunk by the mremap/munmap bounds
  let x = Math.min(folio.order, PMD_ORDER - 1);
  while (x > 0) {
    const v = ctx.cowOrderFits(x);
    if (v === 0) return order;
    if (o.cow === 'folio' && anyExclusive(ctx, v)) {
      x = v - 1; // never replace a sub-page that is still PageAnonExclusive (it may be pinned)
      continue;
    }
    return v;
  }
  return order;
}

/** Some page of the aligned 2^order block around the fault (validated by cowOrderFits) is PageAnonExclusive. */
function anyExclusive(ctx: FaultContext, order: number): boolean {
  const nr = 1 << order;
  const start = ctx.address - (ctx.address & (nr - 1));
  for (let j = 0; j < nr; j++) if (ctx.folio.isExclusive(ctx.pfnAt(start + j))) return true;
  return false;
}
