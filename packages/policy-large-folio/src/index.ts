/**
 * @mmsim/policy-large-folio: variable-order anonymous folios (multi-size THP, v6.8; Ryan
 * Roberts' RFC v2, seed 004), PMD-mapped THP reuse, and the CoW / reuse rules of large folios
 * per kernel era. Core implements the mechanisms (kernel/huge-memory.ts); this package decides.
 */
import { LargeFolioPolicy, type LargeFolioOptions } from './plugin.js';

export { LargeFolioPolicy, type LargeFolioOptions } from './plugin.js';
export { mthpOrders, pmdOrders, rfcOrders, sizeMode, sizeKey, ANON_ORDERS } from './orders.js';
export {
  wpReuse,
  cowOrder,
  type ReuseRule,
  type CowRule,
  type ZeroWpRule,
  type HugeZeroWpRule,
  type WpOptions,
} from './wp.js';

/** The settings of each kernel era / research variant. */
export const ERAS = Object.freeze({
  /** v5.8 to v6.7: PMD-sized THP only (no mTHP); PMD CoW splits (3917c80280c9, v5.8) */
  'linux-5.8': { orders: 'pmd', zeroWp: 'page', hugeZeroWp: 'split', cow: 'page', reuse: 'never' },
  /** v6.8 as released with "prohibit the last subpage from reusing the entire large folio" */
  'linux-6.8': { orders: 'mthp', zeroWp: 'page', hugeZeroWp: 'split', cow: 'page', reuse: 'never' },
  /** mTHP before Barry Song's fix: the folio refcount decides, the last sub-page reuses the folio */
  'linux-6.8-rc': { orders: 'mthp', zeroWp: 'page', hugeZeroWp: 'split', cow: 'page', reuse: 'refcount' },
  /** v6.18: __wp_can_reuse_large_anon_folio (v6.15), do_huge_zero_wp_pmd (v6.14) */
  'linux-6.18': { orders: 'mthp', zeroWp: 'page', hugeZeroWp: 'thp', cow: 'page', reuse: 'mapcount' },
  /** Ryan Roberts' RFC v2 (April 2023), with David Hildenbrand's exclusive sub-page fix */
  'rfc-v2': { orders: 'rfc', maxOrder: 4, zeroWp: 'folio', hugeZeroWp: 'split', cow: 'folio', reuse: 'rfc' },
} satisfies Record<string, LargeFolioOptions>);

export type Era = keyof typeof ERAS;

/** Plugin factory (the package's default export): `{ era: 'linux-6.18' }` or explicit rules. */
export default function largeFolioPolicy(options: Partial<LargeFolioOptions> & { era?: Era } = {}): LargeFolioPolicy {
  const { era, ...rest } = options;
  const base: LargeFolioOptions = { ...ERAS[era ?? 'linux-6.18'] };
  return new LargeFolioPolicy({ ...base, ...rest }, era && Object.keys(rest).length === 0 ? era : undefined);
}

/**
 * The RFC v2 as first posted: a CoW of a large folio copies a same-order range even over
 * sub-pages that are still PageAnonExclusive. Deliberately unsafe: a pinned exclusive sub-page
 * is replaced under the pin (kernel-notes §6). For the checker and the tests.
 */
export function unsafeRfcCow(options: Partial<LargeFolioOptions> = {}): LargeFolioPolicy {
  return new LargeFolioPolicy({ ...ERAS['rfc-v2'], ...options, cow: 'folio-unsafe' }, 'rfc-v2-unsafe-cow');
}
