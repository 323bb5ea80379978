/**
 * Physical memory as struct-of-arrays, indexed by PFN (no object per page).
 *
 * Folios are naturally aligned in PFN space (as the buddy allocator guarantees), so the
 * head of any page is `pfn & ~((1 << order[pfn]) - 1)`. Fields marked (head) are only
 * meaningful at a folio's head page, like `struct folio` overlaying the head `struct page`.
 */

import { type GrowableArray, grown, nextCapacity } from './typed.js';

/** Folio flags (head page), after include/linux/page-flags.h. */
export const PG = Object.freeze({
  anon: 1 << 0,
  swapcache: 1 << 1,
  lru: 1 << 2,
  dirty: 1 << 3,
  writeback: 1 << 4,
  active: 1 << 5,
  referenced: 1 << 6,
  /** Project flag: a reference to this folio sits in some CPU's LRU batch. */
  inBatch: 1 << 7,
  /** Allocated (not on a free list). */
  allocated: 1 << 8,
  /** Large folio on the deferred-split queue (partially mapped). */
  partiallyMapped: 1 << 9,
  /** Reserved frame: the shared zero page / huge zero page. */
  reserved: 1 << 10,
  /** PG_workingset: the folio was on the active list before it was deactivated (mm/workingset.c) */
  workingset: 1 << 11,
  /** folio->mapping is an address_space (page cache, shmem): !folio_test_anon() with a mapping */
  filemap: 1 << 12,
  /** PG_swapbacked: shmem folios (anon folios are recognised by PG.anon: both go on the anon lists) */
  swapbacked: 1 << 13,
  /** PG_reclaim: reclaim started writeback of a dirty page-cache folio; rotated to the inactive tail when it ends */
  reclaim: 1 << 15,
  /** Per page (every page, not only the head): PageAnonExclusive. */
  anonExclusive: 1 << 14,
  /** PG_mlocked: mapped by a VM_LOCKED VMA (mlock_folio(), kernel/mlock.ts); not evictable */
  mlocked: 1 << 16,
  /** PG_unevictable: on the LRU_UNEVICTABLE "list" (counted there, linked nowhere, as in the kernel) */
  unevictable: 1 << 17,
  /** MADV_FREE: an anonymous folio with PG_swapbacked cleared (kernel/lazyfree.ts), on the file lists */
  lazyfree: 1 << 18,
  /**
   * folio_test_ksm(): a KSM folio (kernel/ksm.ts). The kernel encodes it in folio->mapping
   * (PAGE_MAPPING_KSM, the stable node instead of an anon_vma); PG.anon stays set.
   */
  ksm: 1 << 19,
} as const);

/** GUP_PIN_COUNTING_BIAS: an FOLL_PIN on a small folio adds this much to the refcount. */
export const GUP_PIN_COUNTING_BIAS = 1024;

export class FolioTable {
  capacity = 0;
  /** (head) _refcount */
  ref = new Int32Array(0);
  /** per page: _mapcount (+1 based: 0 = unmapped), PTE mappings of this page */
  mapcount = new Int32Array(0);
  /** (head) _large_mapcount: all PTE mappings of all pages + PMD mappings */
  largeMapcount = new Int32Array(0);
  /** (head) _entire_mapcount: PMD mappings */
  entireMapcount = new Int32Array(0);
  /** (head) _pincount / number of FOLL_PIN pins (exact, also for small folios) */
  pincount = new Int32Array(0);
  /** flags: PG.* (head) plus PG.anonExclusive (per page) */
  flags = new Uint32Array(0);
  /** per page: order of the folio it belongs to */
  order = new Uint8Array(0);
  /** per page: the page's contents, a 32-bit value standing for its 4 KiB */
  data = new Uint32Array(0);
  /** (head) folio->swap: first swap slot, meaningful only while PG.swapcache is set (as in the
   *  kernel); never written for a folio that is never swapped, so its pages stay uncommitted */
  swap = new Int32Array(0);
  /** (head) folio->mapping: the anon_vma id for rmap, or with PG.filemap the address_space id
   *  (mem/page-cache.ts), -1 if none */
  anonVma = new Int32Array(0);
  /** (head) folio->index: linear page offset (pgoff) used by rmap */
  index = new Float64Array(0);
  /** (head) folio->lru: the previous / next folio's head PFN + 1 on its LRU list (0 = none; mem/lru.ts) */
  lruPrev = new Int32Array(0);
  lruNext = new Int32Array(0);
  /** (head) the multi-gen LRU's generation, refs and list (mem/lru-gen.ts); 0 on the two-list LRU */
  lruGen = new Uint8Array(0);
  /** per page: folio->memcg_data, the id of the memcg the folio is charged to (0 = root / none) */
  memcg = new Uint16Array(0);

  /**
   * Room for at least `minCapacity` frames, of which the first `used` hold state (the rest are
   * zero and stay uncommitted until written): capacities double, up to `limit` when that is
   * enough (see typed.ts). New frames read 0 in every field; initFrames() gives them the "none" values.
   */
  grow(minCapacity: number, used: number = this.capacity, limit = Number.POSITIVE_INFINITY): void {
    if (minCapacity <= this.capacity) return;
    const cap = nextCapacity(this.capacity, minCapacity, 1024, 512, limit);
    const g = <T extends GrowableArray>(a: T): T => grown(a, cap, used);
    this.ref = g(this.ref);
    this.mapcount = g(this.mapcount);
    this.largeMapcount = g(this.largeMapcount);
    this.entireMapcount = g(this.entireMapcount);
    this.pincount = g(this.pincount);
    this.flags = g(this.flags);
    this.order = g(this.order);
    this.data = g(this.data);
    this.swap = g(this.swap);
    this.anonVma = g(this.anonVma);
    this.index = g(this.index);
    this.lruPrev = g(this.lruPrev);
    this.lruNext = g(this.lruNext);
    this.lruGen = g(this.lruGen);
    this.memcg = g(this.memcg);
    this.capacity = cap;
  }

  /** Frames [from, to) enter the PFN space: no anon_vma (-1). */
  initFrames(from: number, to: number): void {
    this.anonVma.fill(-1, from, to);
  }

  /** Bytes of simulator state per frame (for the bench's bytes-per-page figure). */
  static readonly BYTES_PER_FRAME = 4 * 11 + 1 + 1 + 8 + 2;

  head(pfn: number): number {
    return pfn & ~((1 << this.order[pfn]!) - 1);
  }
  nrPages(head: number): number {
    return 1 << this.order[head]!;
  }
  /** folio_mapcount(): total mappings of a folio. */
  folioMapcount(head: number): number {
    return this.order[head] === 0 ? this.mapcount[head]! : this.largeMapcount[head]!;
  }
  /** folio_maybe_dma_pinned() */
  maybeDmaPinned(head: number): boolean {
    return this.order[head] === 0 ? this.ref[head]! >= GUP_PIN_COUNTING_BIAS : this.pincount[head]! > 0;
  }
}
