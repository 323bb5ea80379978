/**
 * Folio invariants: refcount, mapcounts, PageAnonExclusive, pins.
 *
 *   _refcount == PTE mappings (+1 per PMD mapping)
 *              + pins (GUP_PIN_COUNTING_BIAS = 1024 each on a small folio, 1 on a large one)
 *              + occurrences in every CPU's LRU batches
 *              + swap-cache references (one per page while PG_swapcache)
 *              (+ isolation references, which only exist inside reclaim, never between steps)
 *   _mapcount[page]       == PTEs mapping the page (shared tables counted once, see census.ts)
 *   _large_mapcount[head] == sum of the pages' mapcounts + PMD mappings
 *   PageAnonExclusive     => the page is mapped exactly once
 *   an effectively writable PTE => the page is mapped once and PageAnonExclusive
 */
import { C, describeHolders, LRU, lruBatchIndex, PG, refHolders, type Kernel } from '@mmsim/core';
import type { Census } from './census.js';
import { checkLruGen } from './lru-gen.js';
import type { ViolationList } from './violation.js';

/** Every allocated, non-reserved folio head. */
export function folioHeads(k: Kernel): number[] {
  const f = k.f;
  const flags = f.flags;
  const orders = f.order;
  const cap = k.mem.pfnSpan; // frames past it were never handed out
  const ALLOCATED = PG.allocated;
  const RESERVED = PG.reserved;
  const out: number[] = [];
  for (let pfn = 0; pfn < cap; pfn++) {
    const fl = flags[pfn]!;
    if ((fl & ALLOCATED) === 0) continue;
    if ((fl & RESERVED) === 0) out.push(pfn);
    pfn += (1 << orders[pfn]!) - 1;
  }
  return out;
}

/** Occurrences of each folio head in the per-CPU LRU batches. */
export function batchRefs(k: Kernel): Map<number, number> {
  const m = new Map<number, number>();
  for (const [head, hs] of lruBatchIndex(k))
    m.set(
      head,
      hs.reduce((n, b) => n + b.refs, 0),
    );
  return m;
}

export interface FolioCheckOptions {
  /**
   * The PFNs held by every live pin (the zero page excluded), when the caller knows them:
   * then each folio's pincount is checked against them too.
   */
  pinnedPfns?: readonly number[];
}

export function checkFolios(
  k: Kernel,
  c: Census,
  v: ViolationList,
  opts: FolioCheckOptions = {},
  heads: readonly number[] = folioHeads(k),
): void {
  const f = k.f;
  // one scan of every CPU's batches for all the folios decomposed below
  const batches = lruBatchIndex(k);
  for (const [head] of batches) {
    if ((f.flags[head]! & PG.allocated) === 0)
      v.add('use-after-free', `an LRU batch references folio ${head}, which is free`);
  }
  let expectPins: Map<number, number> | null = null;
  if (opts.pinnedPfns) {
    expectPins = new Map();
    for (const pfn of opts.pinnedPfns) {
      const h = f.head(pfn);
      expectPins.set(h, (expectPins.get(h) ?? 0) + 1);
    }
    for (const [h] of expectPins) {
      if ((f.flags[h]! & PG.allocated) === 0)
        v.add('use-after-free', `a live pin holds pfn in folio ${h}, which is free`);
    }
  }
  for (const head of heads) {
    const order = f.order[head]!;
    const nr = 1 << order;
    let maps = 0;
    for (let i = 0; i < nr; i++) {
      const pfn = head + i;
      const m = c.pteMaps.get(pfn) ?? 0;
      maps += m;
      if (f.mapcount[pfn] !== m)
        v.add(
          'mapcount',
          `page ${pfn} (folio ${head}, order ${order}): mapcount ${f.mapcount[pfn]}, but ${m} PTE(s) map it`,
        );
      const excl = (f.flags[pfn]! & PG.anonExclusive) !== 0;
      if ((f.flags[head]! & PG.filemap) !== 0) {
        // a page-cache page is never PageAnonExclusive; shared mappings map it writable many times
        if (excl) v.add('exclusive', `page ${pfn} (page-cache folio ${head}) is PageAnonExclusive`);
        continue;
      }
      const total = m + (c.pmdMaps.get(head) ?? 0);
      if (excl && total !== 1)
        v.add('exclusive', `page ${pfn} (folio ${head}) is PageAnonExclusive but mapped ${total} times`);
      const w = c.writableMaps.get(pfn) ?? 0;
      if (w > 0 && (total !== 1 || !excl)) {
        v.add(
          'exclusive',
          `page ${pfn} (folio ${head}) is mapped writable while ${!excl ? 'not PageAnonExclusive' : `mapped ${total} times`} (mapcount ${f.mapcount[pfn]})`,
        );
      }
    }
    const pmd = c.pmdMaps.get(head) ?? 0;
    if (order > 0) {
      if (f.largeMapcount[head] !== maps + pmd)
        v.add(
          'mapcount',
          `folio ${head} (order ${order}): large mapcount ${f.largeMapcount[head]}, but ${maps} PTE + ${pmd} PMD mappings`,
        );
      if (f.entireMapcount[head] !== pmd)
        v.add(
          'mapcount',
          `folio ${head} (order ${order}): entire mapcount ${f.entireMapcount[head]}, but ${pmd} PMD mappings`,
        );
    }
    const pins = f.pincount[head]!;
    if (pins < 0) v.add('pin', `folio ${head}: negative pincount ${pins}`);
    if (expectPins && pins !== (expectPins.get(head) ?? 0)) {
      v.add('pin', `folio ${head}: pincount ${pins}, but the live pins hold ${expectPins.get(head) ?? 0} of its pages`);
    }
    // core's reference provenance (what `--explain` reports), with the mappings counted here
    const h = refHolders(k, head, batches);
    const pinRefs = h.pinned;
    const batch = h.lruBatch;
    const cache = h.swapcache;
    const expected = maps + pmd + pinRefs + batch + cache + h.pagecache;
    if (f.ref[head] !== expected) {
      v.add(
        'refcount',
        `folio ${head} (order ${order}): refcount ${f.ref[head]}, expected ${expected} = ${maps} PTE + ${pmd} PMD mappings + ${pinRefs} for ${pins} pin(s) + ${batch} LRU-batch + ${cache} swap-cache + ${h.pagecache} page-cache (by holder: ${describeHolders(h)})`,
      );
    } else if (h.other !== 0) {
      // the decomposition by holder must sum to the refcount (its mapcounts are checked above)
      v.add('refcount', `folio ${head} (order ${order}): references by holder ${describeHolders(h)}`);
    } else if (expected === 0) {
      v.add('leak', `folio ${head} (order ${order}) is allocated with no reference at all`);
    }
    if (((f.flags[head]! & PG.inBatch) !== 0) !== batch > 0) {
      v.add(
        'lru',
        `folio ${head}: PG_inBatch is ${(f.flags[head]! & PG.inBatch) !== 0} but it sits in ${batch} LRU batch slot(s)`,
      );
    }
  }
  // mapped frames that are not allocated folios are reported by the census (use-after-free)
}

/** folio_lru_list(): anon and swap-backed (shmem) folios on the anon lists, page cache on the file lists. */
function lruOf(fl: number): number {
  // a lazyfree (MADV_FREE) folio is anonymous but on the file lists
  const anonList = (fl & (PG.anon | PG.swapbacked)) !== 0 && (fl & PG.lazyfree) === 0;
  return (anonList ? 0 : 2) + ((fl & PG.active) !== 0 ? 1 : 0);
}

/** LRU list sizes (nr_inactive_anon / nr_active_anon) against the folios' PG_lru / PG_active. */
/**
 * The unevictable list (kernel/mlock.ts): its size is the pages of the folios with PG_lru and
 * PG_unevictable; a folio on an LRU list with PG_mlocked is on it; nr_mlock is the pages with
 * PG_mlocked.
 */
export function checkUnevictable(k: Kernel, v: ViolationList, heads: readonly number[]): void {
  const f = k.f;
  let unevictable = 0;
  let mlocked = 0;
  for (const head of heads) {
    const fl = f.flags[head]!;
    const nr = 1 << f.order[head]!;
    if ((fl & PG.mlocked) !== 0) mlocked += nr;
    if ((fl & PG.lru) === 0) continue;
    if ((fl & PG.unevictable) !== 0) unevictable += nr;
    else if ((fl & PG.mlocked) !== 0) v.add('lru', `folio ${head} is mlocked but on an evictable LRU list`);
  }
  let listed = 0;
  for (const lv of k.lruvecs) listed += lv.pages[LRU.unevictable]!;
  if (listed !== unevictable)
    v.add('lru', `the unevictable list has ${listed} pages, but its folios add up to ${unevictable}`);
  const nrMlock = k.stats.v[C.nr_mlock]!;
  if (nrMlock !== mlocked) v.add('lru', `nr_mlock is ${nrMlock}, but the mlocked folios add up to ${mlocked} pages`);
}

export function checkLru(k: Kernel, v: ViolationList, heads: readonly number[] = folioHeads(k)): void {
  checkUnevictable(k, v, heads);
  if (k.lrugen !== null) return checkLruGen(k, v, heads);
  const f = k.f;
  const sizes = [0, 0, 0, 0];
  for (const head of heads) {
    const fl = f.flags[head]!;
    if ((fl & PG.lru) === 0 || (fl & PG.unevictable) !== 0) continue;
    sizes[lruOf(fl)]! += 1 << f.order[head]!;
  }
  const [inactive, active, inactiveFile, activeFile] = sizes as [number, number, number, number];
  if (k.lruCount.inactive !== inactive || k.lruCount.active !== active) {
    v.add(
      'lru',
      `LRU sizes inactive ${k.lruCount.inactive} / active ${k.lruCount.active} pages, but the folios on LRU lists add up to ${inactive} / ${active}`,
    );
  }
  let lpInactiveFile = 0;
  let lpActiveFile = 0;
  for (const lv of k.lruvecs) {
    lpInactiveFile += lv.pages[2]!;
    lpActiveFile += lv.pages[3]!;
  }
  if (lpInactiveFile !== inactiveFile || lpActiveFile !== activeFile) {
    v.add(
      'lru',
      `file LRU sizes inactive ${lpInactiveFile} / active ${lpActiveFile} pages, but the folios on the file lists add up to ${inactiveFile} / ${activeFile}`,
    );
  }
  // the linked lists themselves: each folio on the list its flags name, once, with PG_lru
  const onList = new Set<number>();
  // one lruvec per memcg (k.lruvecs[0] is the root's, k.lruvec): a folio on its memcg's
  for (const lv of k.lruvecs) {
    for (let lru = 0; lru < 4; lru++) {
      for (const head of lv.list(lru)) {
        const fl = f.flags[head]!;
        const want = lruOf(fl);
        if ((fl & PG.lru) === 0 || want !== lru || onList.has(head)) {
          v.add('lru', `folio ${head} is on LRU list ${lru} but its flags (0x${fl.toString(16)}) name list ${want}`);
        }
        if (f.memcg[head] !== lv.memcg)
          v.add('lru', `folio ${head} of memcg ${f.memcg[head]} is on the lruvec of memcg ${lv.memcg}`);
        onList.add(head);
      }
    }
  }
  for (const head of heads) {
    const fl = f.flags[head]!;
    if ((fl & PG.lru) !== 0 && (fl & PG.unevictable) === 0 && !onList.has(head))
      v.add('lru', `folio ${head} has PG_lru but is on no LRU list`);
  }
}
