/**
 * All invariants, checkable after any step (between kernel operations, never inside one).
 * `checkInvariants(kernel)` returns the violations; an empty list means the state is sound.
 */
import type { Kernel } from '@mmsim/core';
import { takeCensus } from './census.js';
import { checkFolios, checkLru, folioHeads, type FolioCheckOptions } from './folios.js';
import { checkPageTables, checkRss } from './accounting.js';
import { checkSwap, checkSwapCacheFolios } from './swap.js';
import { checkLeaks } from './leaks.js';
import { checkPageCache } from './page-cache.js';
import { checkMemcg } from './memcg.js';
import { checkKsm } from './ksm.js';
import { ViolationList, type Violation } from './violation.js';

export type { Violation } from './violation.js';
export { ViolationList } from './violation.js';
export { takeCensus, type Census } from './census.js';
export { folioHeads, batchRefs } from './folios.js';

export interface InvariantOptions extends FolioCheckOptions {
  /** stop after this many violations (default 20) */
  limit?: number;
}

export function checkInvariants(k: Kernel, opts: InvariantOptions = {}): Violation[] {
  const v = new ViolationList(opts.limit ?? 20);
  const c = takeCensus(k);
  for (const p of c.problems) v.add(p.kind, p.message);
  const heads = folioHeads(k);
  checkFolios(k, c, v, opts, heads);
  checkLru(k, v, heads);
  checkPageTables(k, c, v);
  checkRss(k, c, v);
  checkSwap(k, c, v);
  checkSwapCacheFolios(k, heads, v);
  checkPageCache(k, v, heads);
  checkLeaks(k, v, heads);
  checkMemcg(k, v, heads);
  checkKsm(k, v, heads);
  return v.items;
}
