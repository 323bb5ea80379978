/**
 * Swap invariants:
 *   swap_map count of a slot == swap PTEs referencing it (shared tables once)
 *   SWAP_HAS_CACHE <=> the swap cache maps the slot to a PG_swapcache folio whose folio->swap
 *   covers the slot; SwapCached == slots with a cached folio; used == slots with a count or a cache
 */
import { PG, type Kernel } from '@mmsim/core';
import type { Census } from './census.js';
import type { ViolationList } from './violation.js';

export function checkSwap(k: Kernel, c: Census, v: ViolationList): void {
  const sw = k.swap;
  const f = k.f;
  // the swap arrays grow on demand: slots beyond their length were never used
  const n = sw.count.length;
  let used = 0;
  let cached = 0;
  for (let s = 0; s < n; s++) {
    const cnt = sw.count[s]!;
    const hc = sw.hasCache[s]!;
    if (cnt === 0 && hc === 0) {
      if (sw.cache[s] !== -1 && sw.cache[s] !== undefined)
        v.add('swap', `free swap slot ${s} still maps pfn ${sw.cache[s]} in the swap cache`);
      continue;
    }
    used++;
    const refs = c.swapRefs.get(s) ?? 0;
    if (cnt !== refs) v.add('swap', `swap slot ${s}: swap count ${cnt}, but ${refs} swap PTE(s) reference it`);
    if (hc) {
      cached++;
      const pfn = sw.cache[s]!;
      const head = pfn >= 0 ? f.head(pfn) : -1;
      if (pfn < 0 || (f.flags[head]! & PG.allocated) === 0)
        v.add('swap', `swap slot ${s} has SWAP_HAS_CACHE but its cached page ${pfn} is not an allocated folio`);
      else if ((f.flags[head]! & PG.swapcache) === 0 || f.swap[head]! + (pfn - head) !== s) {
        v.add(
          'swap',
          `swap slot ${s} caches pfn ${pfn}, but folio ${head} is ${(f.flags[head]! & PG.swapcache) === 0 ? 'not in the swap cache' : `in the swap cache at slot ${f.swap[head]! + (pfn - head)}`}`,
        );
      }
    } else if (cnt === 0) {
      // unreachable (used only through count or cache)
    }
  }
  for (const [s, refs] of c.swapRefs) {
    if (s >= sw.opts.slots || s >= n)
      v.add(
        'swap',
        `${refs} swap PTE(s) reference slot ${s}, beyond the device (${sw.opts.slots} slots, ${n} ever used)`,
      );
    else if (sw.count[s] === 0) v.add('swap', `${refs} swap PTE(s) reference slot ${s}, which has swap count 0`);
  }
  if (sw.used !== used)
    v.add('swap', `swap device says ${sw.used} slots used, but ${used} have a count or a cached page`);
  if (sw.cachedPages !== cached)
    v.add('swap', `SwapCached ${sw.cachedPages} pages, but ${cached} slots have a cached page`);
}

/** Every PG_swapcache folio's slots point back at it. */
export function checkSwapCacheFolios(k: Kernel, heads: Iterable<number>, v: ViolationList): void {
  const f = k.f;
  const sw = k.swap;
  for (const head of heads) {
    if ((f.flags[head]! & PG.swapcache) === 0) continue;
    const nr = 1 << f.order[head]!;
    const slot = f.swap[head]!;
    for (let i = 0; i < nr; i++) {
      if (slot < 0 || sw.hasCache[slot + i] !== 1 || sw.cache[slot + i] !== head + i) {
        v.add(
          'swap',
          `folio ${head} is in the swap cache at slot ${slot}, but slot ${slot + i} does not cache page ${head + i}`,
        );
        break;
      }
    }
  }
}
