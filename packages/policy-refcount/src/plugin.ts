import { PG, isPmdFault, type MmPlugin, type MmSystem } from '@mmsim/core';
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
  readonly name: string;
  constructor(readonly options: RefcountPolicyOptions) {
    if (!(options.wp in WP_RULES)) throw new Error(`policy-refcount: unknown wp rule "${options.wp}" (known: ${Object.keys(WP_RULES).join(', ')})`);
    this.name = `${RefcountPolicy.PLUGIN_NAME}(${options.wp})`;
  }

  apply(sys: MmSystem): void {
    const k = sys.kernel;
    const { wp, swapin, fork, gup } = this.options;
    const rule = WP_RULES[wp];
    sys.hooks.fault.wpReuse.tap(this.name, (vmf) => {
      if (k.f.order[vmf.head] === 0) return rule(k, vmf);
      if ((wp === 'mapcount' || wp === 'refcount') && isPmdFault(k, vmf.table)) {
        // do_huge_pmd_wp_page() kept asking reuse_swap_page() (the mapcount) until the v5.18
        // COW fixes ("mm/huge_memory: streamline COW logic in do_huge_pmd_wp_page()"): the
        // THP path of the v5.9 leak. Later eras fall through to core's page_count rule.
        return k.f.folioMapcount(vmf.head) <= 1 ? 'reuse' : 'copy';
      }
      // a sub-page of a large folio: since v5.19 an exclusive one is reused without further
      // checks (do_wp_page tests PageAnonExclusive before any folio logic); the rest is the
      // large-folio policy's (or core's default)
      if ((wp === 'anon-exclusive') && (k.f.flags[vmf.pfn]! & PG.anonExclusive) !== 0) return 'reuse';
      return undefined;
    });
    if (swapin) sys.hooks.fault.swapinWritable.tap(this.name, (vmf) => swapinWritable(swapin, k, vmf));
    if (fork && fork !== 'share') sys.hooks.fork.page.tap(this.name, (ctx) => forkPage(fork, ctx));
    if (gup) sys.hooks.fault.gupUnshare.tap(this.name, (vmf) => gupUnshare(gup, k, vmf));
  }
}
