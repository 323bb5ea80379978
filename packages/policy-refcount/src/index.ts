/**
 * @mmsim/policy-refcount: do_wp_page()'s reuse-or-copy rule, do_swap_page()'s map-writable
 * rule, fork's treatment of pinned pages and GUP unsharing, for each kernel era.
 */
import { RefcountPolicy, type RefcountPolicyOptions } from './plugin.js';

export { RefcountPolicy, type RefcountPolicyOptions } from './plugin.js';
export { WP_RULES, reuseSwapPage, type WpRuleName } from './wp-rules.js';
export { swapinWritable, type SwapinRuleName } from './swapin.js';
export { forkPage, gupUnshare, type ForkPinnedRule, type GupUnshareRule } from './fork-gup.js';

/** The settings of each kernel era (see README for the commits). */
export const ERAS = Object.freeze({
  'linux-5.7': { wp: 'mapcount', swapin: 'reuse-swap-page', fork: 'share', gup: 'never' },
  'linux-5.8': { wp: 'mapcount', swapin: 'reuse-swap-page', fork: 'share', gup: 'cow-break' },
  'linux-5.9': { wp: 'refcount', swapin: 'reuse-swap-page', fork: 'copy-pinned', gup: 'never' },
  'linux-5.18': { wp: 'cow-fixes', swapin: 'refcount', fork: 'copy-pinned', gup: 'never' },
  'linux-5.19': {
    wp: 'anon-exclusive',
    swapin: 'exclusive-write',
    fork: 'copy-pinned-exclusive',
    gup: 'anon-exclusive',
  },
  'linux-6.11': {
    wp: 'anon-exclusive',
    swapin: 'exclusive-always',
    fork: 'copy-pinned-exclusive',
    gup: 'anon-exclusive',
  },
} satisfies Record<string, RefcountPolicyOptions>);

export type Era = keyof typeof ERAS;

/** Plugin factory (the package's default export): `{ era: 'linux-5.9' }` or explicit rules. */
export default function refcountPolicy(options: Partial<RefcountPolicyOptions> & { era?: Era } = {}): RefcountPolicy {
  const { era, ...rest } = options;
  const base: RefcountPolicyOptions = era ? { ...ERAS[era] } : { wp: 'anon-exclusive' };
  return new RefcountPolicy({ ...base, ...rest });
}
