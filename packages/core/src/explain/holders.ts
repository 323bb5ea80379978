/**
 * Reference provenance: a folio's _refcount split by who holds each reference. What the
 * kernel's page_ref tracepoints (CONFIG_DEBUG_PAGE_REF) only log as +1/-1, named here:
 *   mappings (PTE and PMD, per process) + GUP pins (GUP_PIN_COUNTING_BIAS each on a small
 *   folio, 1 on a large one: try_grab_folio) + occurrences in each CPU's LRU batches
 *   (folio_batch_add_and_move) + the swap cache (one per page: add_to_swap_cache)
 *   + the page cache (one per page: __filemap_add_folio)
 *   + a remainder, which must be 0 between steps (mmsim check reports it).
 * Computed on demand (explanations, invariants); nothing on the fault path calls it.
 */
import { GUP_PIN_COUNTING_BIAS, PG } from '../mem/folios.js';
import { LRU_BATCH_KINDS, type LruBatchKind } from '../mem/lru.js';
import type { Kernel } from '../kernel/kernel.js';

/** References in one CPU's LRU batch of one kind. */
export interface BatchHolder {
  cpu: number;
  kind: LruBatchKind;
  refs: number;
}

export interface RefHolders {
  /** _refcount */
  refcount: number;
  /** references from page-table mappings: PTE mappings of every page + PMD mappings */
  mapped: number;
  /** of those, PMD mappings (_entire_mapcount) */
  pmdMapped: number;
  /** references from FOLL_PIN pins */
  pinned: number;
  /** the pins (_pincount) */
  pins: number;
  /** references parked in per-CPU LRU batches, per CPU and batch (empty: none) */
  lruBatches: readonly BatchHolder[];
  /** sum of lruBatches */
  lruBatch: number;
  /** references held by the swap cache (one per page while PG_swapcache) */
  swapcache: number;
  /** references held by the page cache (one per page while in an address_space: PG.filemap) */
  pagecache: number;
  /** refcount minus everything above: 0 unless something took a reference nobody tracks */
  other: number;
}

/** Every folio sitting in some CPU's LRU batch → its batch references (one scan of all batches). */
export function lruBatchIndex(k: Kernel): Map<number, BatchHolder[]> {
  const index = new Map<number, BatchHolder[]>();
  for (let c = 0; c < k.cpus.length; c++) {
    for (const kind of LRU_BATCH_KINDS) {
      for (const head of k.cpus[c]!.lru[kind]) {
        let hs = index.get(head);
        if (!hs) index.set(head, (hs = []));
        const last = hs[hs.length - 1];
        if (last?.cpu === c && last.kind === kind) last.refs++;
        else hs.push({ cpu: c, kind, refs: 1 });
      }
    }
  }
  return index;
}

/**
 * The references of the folio whose head page is `head`, by holder. `index` (lruBatchIndex())
 * spares a scan of every batch when many folios are decomposed at once (the invariants).
 */
export function refHolders(
  k: Kernel,
  head: number,
  index: ReadonlyMap<number, readonly BatchHolder[]> = lruBatchIndex(k),
): RefHolders {
  const f = k.f;
  const order = f.order[head]!;
  const nr = 1 << order;
  const mapped = order === 0 ? f.mapcount[head]! : f.largeMapcount[head]!;
  const pins = f.pincount[head]!;
  const pinned = pins * (order === 0 ? GUP_PIN_COUNTING_BIAS : 1);
  // from a scan of every batch, not from PG_inBatch: the invariants check that flag against it
  const lruBatches = index.get(head) ?? [];
  let lruBatch = 0;
  for (const b of lruBatches) lruBatch += b.refs;
  const swapcache = (f.flags[head]! & PG.swapcache) !== 0 ? nr : 0;
  const pagecache = (f.flags[head]! & PG.filemap) !== 0 ? nr : 0;
  const refcount = f.ref[head]!;
  return {
    refcount,
    mapped,
    pmdMapped: order === 0 ? 0 : f.entireMapcount[head]!,
    pinned,
    pins,
    lruBatches,
    lruBatch,
    swapcache,
    pagecache,
    other: refcount - mapped - pinned - lruBatch - swapcache - pagecache,
  };
}

/** "3 = 1 mapped + 1 lru_batch(cpu0 add) + 1 swapcache": the decomposition as text. */
export function describeHolders(h: RefHolders): string {
  const parts: string[] = [];
  if (h.mapped) parts.push(`${h.mapped} mapped${h.pmdMapped ? ` (${h.pmdMapped} by PMD)` : ''}`);
  if (h.pinned) parts.push(`${h.pinned} for ${h.pins} pin(s)`);
  for (const b of h.lruBatches) parts.push(`${b.refs} lru_batch(cpu${b.cpu} ${b.kind})`);
  if (h.swapcache) parts.push(`${h.swapcache} swapcache`);
  if (h.pagecache) parts.push(`${h.pagecache} pagecache`);
  if (h.other) parts.push(`${h.other} other`);
  return `${h.refcount} = ${parts.length ? parts.join(' + ') : '0'}`;
}
