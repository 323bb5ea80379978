/**
 * fork() and GUP rules that keep pinned pages coherent (kernel-notes §6).
 *  - fork.page 'copy-pinned': copy a maybe-pinned page eagerly into the child instead of
 *    sharing it (70e806e4e645 "mm: Do early cow for pinned pages during fork() for ptes", v5.9;
 *    v5.19 keys it on PageAnonExclusive: folio_try_dup_anon_rmap() fails for exclusive pinned pages).
 *  - fault.gupUnshare: 'never' (v5.7 and v5.9 … v5.18: a R/O pin takes the shared page as is),
 *    'cow-break' (v5.8, 17839856fd58: GUP on a COW mapping always breaks COW),
 *    'anon-exclusive' (v5.19, gup_must_unshare(): unshare unless PageAnonExclusive).
 */
import type { FaultContext, ForkPageContext } from '@mmsim/core';

export type ForkPinnedRule = 'share' | 'copy-pinned' | 'copy-pinned-exclusive';
export type GupUnshareRule = 'never' | 'cow-break' | 'anon-exclusive';

export function forkPage(rule: ForkPinnedRule, ctx: ForkPageContext): 'share' | 'copy' | undefined {
  if (rule === 'share') return undefined;
  // page_needs_cow_for_dma(): only if the mm ever pinned and the page may be pinned
  if (!ctx.parent.hasPinned || !ctx.folio.maybePinned) return undefined;
  if (rule === 'copy-pinned-exclusive' && !ctx.page.exclusive) return undefined;
  return 'copy';
}

export function gupUnshare(rule: GupUnshareRule, ctx: FaultContext): boolean | undefined {
  switch (rule) {
    case 'never':
      return false;
    case 'cow-break':
      // should_force_cow_break(): every GUP on a private mapping breaks COW
      return true;
    case 'anon-exclusive':
      return !ctx.page.exclusive;
  }
}
