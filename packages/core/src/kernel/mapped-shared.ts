/** folio_maybe_mapped_shared() (include/linux/mm.h, v6.15; folio_likely_mapped_shared() before). */
import { PTE } from '../mm/pte.js';
import { pmdStart, pteIndex, PTRS_PER_TABLE } from '../units.js';
import type { Kernel } from './kernel.js';

/**
 * Whether a PTE-mapped large folio may be mapped by another mm. mmsim tells it by the folio's
 * mappings: all of them must be PTEs of this table at the folio's place (`fs`: where its head
 * page is mapped), inside the table of `v`.
 */
export function maybeMappedShared(k: Kernel, t: number, fs: number, head: number, v: number): boolean {
  const f = k.f;
  if (f.entireMapcount[head] !== 0) return true;
  const base = pmdStart(v);
  const nr = 1 << f.order[head]!;
  let mapped = 0;
  for (let j = 0; j < nr; j++) {
    const a = fs + j;
    if (a < base || a >= base + PTRS_PER_TABLE) continue;
    const kk = k.pt.slot(t, pteIndex(a));
    if ((k.pt.fl[kk]! & PTE.present) !== 0 && k.pt.val[kk] === head + j) mapped++;
  }
  return f.largeMapcount[head] !== mapped;
}
