/**
 * Write faults on large anonymous folios: reuse (fault.wpReuse) and the copy order
 * (fault.cowOrder), per kernel era.
 */
import {

  PG,
  PMD_ORDER,
  PTE,
  PTRS_PER_TABLE,
  ZERO_PFN,
  defaultPmdReuse,
  isPmdFault,
  mappingsInMm,
  reusePteRange,
  validCowOrder,
  type Kernel,
  type Vmf,
  type WpDecision,
} from '@mmsim/core';

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

/** PTE range [start, start + nr) of `head` mapped in `table` at its natural alignment, or null. */
function folioRange(k: Kernel, vmf: Vmf, head: number): { start: number; nr: number } | null {
  const f = k.f;
  const nr = f.nrPages(head);
  const start = vmf.vpn - (vmf.pfn - head);
  if ((start & (nr - 1)) !== 0 || (start & ~(PTRS_PER_TABLE - 1)) !== (vmf.vpn & ~(PTRS_PER_TABLE - 1))) return null;
  if (start < vmf.vma.start || start + nr > vmf.vma.end) return null;
  const b = vmf.table * PTRS_PER_TABLE + (start & (PTRS_PER_TABLE - 1));
  for (let j = 0; j < nr; j++) {
    if ((k.pt.fl[b + j]! & PTE.present) === 0 || k.pt.val[b + j] !== head + j) return null;
  }
  return { start, nr };
}

/**
 * Largest naturally aligned block around the faulting page (order <= the folio's) inside the
 * VMA and the PTE table whose PTEs map pages of `head` that pass `ok` (the RFC's
 * calc_anon_folio_range_reuse()).
 */
function largestRange(k: Kernel, vmf: Vmf, head: number, ok: (pfn: number) => boolean): { start: number; nr: number } {
  const f = k.f;
  const pt = k.pt;
  for (let o = f.order[head]!; o > 0; o--) {
    const nr = 1 << o;
    const start = vmf.vpn - (vmf.vpn & (nr - 1));
    if (start < vmf.vma.start || start + nr > vmf.vma.end) continue;
    const b = vmf.table * PTRS_PER_TABLE + (start & (PTRS_PER_TABLE - 1));
    let good = true;
    for (let j = 0; j < nr && good; j++) {
      const fl = pt.fl[b + j]!;
      const pfn = pt.val[b + j]!;
      if ((fl & PTE.present) === 0 || (fl & (PTE.uffdWp | PTE.protNone)) !== 0 || f.head(pfn) !== head || !ok(pfn)) good = false;
    }
    if (good) return { start, nr };
  }
  return { start: vmf.vpn, nr: 1 };
}

/** fault.wpReuse for large folios (order-0 folios are left to policy-refcount / core). */
export function wpReuse(k: Kernel, vmf: Vmf, o: WpOptions): WpDecision | undefined {
  const f = k.f;
  const head = vmf.head;
  if (head < 0 || f.order[head] === 0) return undefined;
  // PMD-mapped THP (do_huge_pmd_wp_page): PageAnonExclusive or refcount 1 reuses the whole PMD
  if (isPmdFault(k, vmf.table)) return defaultPmdReuse(k, head);
  const exclusive = (f.flags[vmf.pfn]! & PG.anonExclusive) !== 0;
  if (exclusive) {
    if (!vmf.unshare) {
      if (o.reuse === 'rfc') {
        const r = largestRange(k, vmf, head, (pfn) => (f.flags[pfn]! & PG.anonExclusive) !== 0);
        if (r.nr > 1) reusePteRange(k, vmf.mm, vmf.table, r.start, r.nr, head);
      } else if (o.contpteReuse) reuseWholeIfExclusive(k, vmf, head, (pfn) => (f.flags[pfn]! & PG.anonExclusive) !== 0);
    }
    return 'reuse';
  }
  switch (o.reuse) {
    case 'never':
      return 'copy';
    case 'refcount': {
      if (f.ref[head]! > 3) return 'copy';
      if ((f.flags[head]! & PG.lru) === 0) k.lruAddDrain(k.cpu);
      if (f.ref[head]! > 1 + ((f.flags[head]! & PG.swapcache) !== 0 ? 1 : 0)) return 'copy';
      if ((f.flags[head]! & PG.swapcache) !== 0) k.folioFreeSwap(head);
      return f.ref[head] === 1 ? 'reuse' : 'copy';
    }
    case 'mapcount': {
      const lmc = f.largeMapcount[head]!;
      if (lmc <= 1) return 'copy'; // free up a large folio with a single page mapped
      if (mappingsInMm(k, head, vmf.mm) !== lmc) return 'copy'; // maybe mapped shared
      if ((f.flags[head]! & PG.swapcache) !== 0) k.folioFreeSwap(head);
      if (f.largeMapcount[head] !== f.ref[head]) return 'copy';
      if (o.contpteReuse && !vmf.unshare) reuseWholeIfExclusive(k, vmf, head, () => true);
      return 'reuse';
    }
    case 'rfc': {
      const lmc = f.largeMapcount[head]!;
      if ((f.flags[head]! & PG.swapcache) !== 0) k.folioFreeSwap(head);
      if (f.ref[head] !== lmc || mappingsInMm(k, head, vmf.mm) !== lmc) return 'copy';
      if (!vmf.unshare) {
        const r = largestRange(k, vmf, head, () => true);
        if (r.nr > 1) reusePteRange(k, vmf.mm, vmf.table, r.start, r.nr, head);
      }
      return 'reuse';
    }
  }
}

/** The whole folio mapped here, every page passing `ok`: make all its PTEs writable at once. */
function reuseWholeIfExclusive(k: Kernel, vmf: Vmf, head: number, ok: (pfn: number) => boolean): void {
  const r = folioRange(k, vmf, head);
  if (!r) return;
  for (let j = 0; j < r.nr; j++) if (!ok(head + j)) return;
  reusePteRange(k, vmf.mm, vmf.table, r.start, r.nr, head);
}

/** fault.cowOrder: the order of the replacement folio in wp_page_copy(). */
export function cowOrder(k: Kernel, order: number, vmf: Vmf, o: WpOptions, zeroOrders: () => number): number {
  // the huge zero PMD (do_huge_pmd_wp_page → do_huge_zero_wp_pmd)
  if (isPmdFault(k, vmf.table)) return o.hugeZeroWp === 'thp' ? PMD_ORDER : order;
  if (vmf.pfn === ZERO_PFN) {
    if (o.zeroWp !== 'folio') return order;
    // the preferred order, as for a first touch (alloc_anon_folio over none / zero PTEs)
    const mask = zeroOrders();
    for (let x = PMD_ORDER - 1; x > 0; x--) {
      if ((mask & (1 << x)) !== 0 && validCowOrder(k, vmf.vma, vmf.vpn, vmf.table, x, -1) === x) return x;
    }
    return order;
  }
  const f = k.f;
  const head = vmf.head;
  if (head < 0 || f.order[head] === 0 || o.cow === 'page') return order;
  // RFC: calc_anon_folio_order_copy(): a same-order range, shrunk by the mremap/munmap bounds
  let x = Math.min(f.order[head]!, PMD_ORDER - 1);
  while (x > 0) {
    const v = validCowOrder(k, vmf.vma, vmf.vpn, vmf.table, x, head);
    if (v === 0) return order;
    if (o.cow === 'folio' && anyExclusive(k, vmf, v)) {
      x = v - 1; // never replace a sub-page that is still PageAnonExclusive (it may be pinned)
      continue;
    }
    return v;
  }
  return order;
}

function anyExclusive(k: Kernel, vmf: Vmf, order: number): boolean {
  const nr = 1 << order;
  const start = vmf.vpn - (vmf.vpn & (nr - 1));
  const b = vmf.table * PTRS_PER_TABLE + (start & (PTRS_PER_TABLE - 1));
  for (let j = 0; j < nr; j++) if ((k.f.flags[k.pt.val[b + j]!]! & PG.anonExclusive) !== 0) return true;
  return false;
}

