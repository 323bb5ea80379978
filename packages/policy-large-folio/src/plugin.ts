import type { MmPlugin, PolicyContext, VmaView } from '@mmsim/core';
import { mthpOrders, pmdOrders, rfcOrders } from './orders.js';
import { cowOrder, wpReuse, type CowRule, type HugeZeroWpRule, type ReuseRule, type ZeroWpRule } from './wp.js';

export interface LargeFolioOptions {
  /** order selection: mainline mTHP sysfs rules, the RFC's fixed max order, or none (order 0) */
  orders: 'mthp' | 'pmd' | 'rfc' | 'none';
  /** the RFC's maximum order (default 4 = 64 KiB) */
  maxOrder?: number;
  zeroWp: ZeroWpRule;
  hugeZeroWp: HugeZeroWpRule;
  cow: CowRule;
  reuse: ReuseRule;
  /** make a whole exclusive folio writable at once on reuse (contpte friendly); default false */
  contpteReuse?: boolean;
}

/**
 * Large anonymous folios: taps fault.anonOrders (waterfall: adds the allowed orders),
 * fault.wpReuse (bail, large folios only) and fault.cowOrder (waterfall).
 */
export class LargeFolioPolicy implements MmPlugin {
  static readonly PLUGIN_NAME = 'policy-large-folio';
  /** the policy API range this package is built for */
  readonly api = '^1.0.0';
  readonly name: string;
  constructor(
    readonly options: LargeFolioOptions,
    label?: string,
  ) {
    if (!['mthp', 'pmd', 'rfc', 'none'].includes(options.orders))
      throw new Error(`policy-large-folio: unknown orders rule "${options.orders}" (known: mthp, pmd, rfc, none)`);
    if (!['never', 'refcount', 'mapcount', 'rfc'].includes(options.reuse))
      throw new Error(
        `policy-large-folio: unknown reuse rule "${options.reuse}" (known: never, refcount, mapcount, rfc)`,
      );
    if (!['page', 'folio', 'folio-unsafe'].includes(options.cow))
      throw new Error(`policy-large-folio: unknown cow rule "${options.cow}" (known: page, folio, folio-unsafe)`);
    const m = options.maxOrder ?? 4;
    if (!Number.isInteger(m) || m < 2 || m > 8)
      throw new Error(`policy-large-folio: maxOrder must be an integer from 2 to 8 (got ${String(options.maxOrder)})`);
    this.name = `${LargeFolioPolicy.PLUGIN_NAME}(${label ?? `${options.orders},${options.reuse},${options.cow}`})`;
  }

  apply(ctx: PolicyContext): void {
    const { hooks } = ctx;
    const o = { contpteReuse: false, ...this.options };
    const thp = ctx.config.thp;
    const maxOrder = o.maxOrder ?? 4;
    const allowed = (vma: VmaView): number =>
      o.orders === 'mthp'
        ? mthpOrders(thp, vma)
        : o.orders === 'pmd'
          ? pmdOrders(thp, vma)
          : o.orders === 'rfc'
            ? rfcOrders(thp, vma, maxOrder)
            : 0;
    if (o.orders !== 'none') hooks.fault.anonOrders.tap(this.name, (orders, f) => orders | allowed(f.vma));
    hooks.fault.wpReuse.tap(this.name, (f) => wpReuse(f, o));
    hooks.fault.cowOrder.tap(this.name, (order, f) => cowOrder(order, f, o, () => allowed(f.vma)));
  }
}
