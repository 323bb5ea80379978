/** folio_pte_batch() (mm/internal.h): the PTEs of one large folio handled as one batch. */
import type { Kernel } from './kernel.js';
import { PTE, PTE_HW_MASK } from '../mm/pte.js';
import { pteIndex } from '../units.js';

/**
 * folio_pte_batch(): how many PTEs from `a` (at most `max`) map consecutive pages of the folio
 * `head` from `pfn` with the same bits, the access and write bits and hardware bits aside, and
 * the dirty bit unless `respectDirty` (FPB_RESPECT_DIRTY: copy_present_ptes() of a private mapping).
 */
export function folioPteBatch(
  k: Kernel,
  t: number,
  a: number,
  max: number,
  head: number,
  pfn: number,
  fl: number,
  respectDirty: boolean,
): number {
  const pt = k.pt;
  const f = k.f;
  const lim = Math.min(max, head + (1 << f.order[head]!) - pfn);
  const ignored = respectDirty ? BATCH_IGNORED : BATCH_IGNORED | PTE.dirty;
  const want = fl & ~ignored;
  let nr = 1;
  while (nr < lim) {
    const s = pt.slot(t, pteIndex(a + nr));
    if (pt.val[s] !== pfn + nr || (pt.fl[s]! & ~ignored) !== want) break;
    nr++;
  }
  return nr;
}

/** __pte_batch_clear_ignored(): bits folio_pte_batch() never compares (no FPB_RESPECT_WRITE). */
const BATCH_IGNORED = PTE.young | PTE.write | PTE_HW_MASK;
