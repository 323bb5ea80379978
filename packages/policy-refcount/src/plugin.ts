import type { MmPlugin, PolicyContext } from '@mmsim/core';
import { WP_RULES, type WpRuleName } from './wp-rules.js';
import { swapinWritable, type SwapinRuleName } from './swapin.js';
import { forkPage, gupUnshare, type ForkPinnedRule, type GupUnshareRule } from './fork-gup.js';

export interface RefcountPolicyOptions {
  /** do_wp_page() reuse rule */
  wp: WpRuleName;
  /** do_swap_page() map-writable rule */
  swapin?: SwapinRuleName;
  /** fork() of maybe-pinned pages */
  fork?: ForkPinnedRule;
  /** R/O GUP pins of possibly shared anonymous pages */
  gup?: GupUnshareRule;
}

/**
 * The reuse-or-copy policy of one kernel era. Taps fault.wpReuse (bail), fault.swapinWritable
 * (bail), fork.page (bail) and fault.gupUnshare (bail).
 */
export class RefcountPolicy implements MmPlugin {
  static readonly PLUGIN_NAME = 'policy-refcount';
  /** the policy API range this package is built for */
  readonly api = '^1.0.0';
  readonly name: string;
  constructor(readonly options: RefcountPolicyOptions) {
    if (!(options.wp in WP_RULES))
      throw new Error(`policy-refcount: unknown wp rule "${options.wp}" (known: ${Object.keys(WP_RULES).join(', ')})`);
    this.name = `${RefcountPolicy.PLUGIN_NAME}(${options.wp})`;
  }

  apply({ hooks }: PolicyContext): void {
    const { wp, swapin, fork, gup } = this.options;
    const rule = WP_RULES[wp];
    hooks.fault.wpReuse.tap(this.name, (ctx) => {
      if (ctx.folio.order === 0) return rule(ctx);
      if ((wp === 'mapcount' || wp === 'refcount') && ctx.level === 'pmd') {
        // do_huge_pmd_wp_page() kept asking reuse_swap_page() (the mapcount) until the v5.18
        // COW fixes ("mm/huge_memory: streamline COW logic in do_huge_pmd_wp_page()"): the
        // THP path of the v5.9 leak. Later eras fall through to core's page_count rule.
        return ctx.folio.mapcount <= 1 ? 'reuse' : 'copy';
      }
      // a sub-page of a large folio: since v5.19 an exclusive one is reused without further
      // checks (do_wp_page tests PageAnonExclusive before any folio logic); the rest is the
      // large-folio policy's (or core's default)
      if (wp === 'anon-exclusive' && ctx.page.exclusive) return 'reuse';
      return undefined;
    });
    if (swapin) hooks.fault.swapinWritable.tap(this.name, (ctx) => swapinWritable(swapin, ctx));
    if (fork && fork !== 'share') hooks.fork.page.tap(this.name, (ctx) => forkPage(fork, ctx));
    if (gup) hooks.fault.gupUnshare.tap(this.name, (ctx) => gupUnshare(gup, ctx));
  }
}
