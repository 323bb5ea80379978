import { FolioTable, PG } from './folios.js';
import { grown } from './typed.js';
import { MAX_FOLIO_ORDER, PMD_ORDER } from '../units.js';

/** The shared zero page (ZERO_PAGE(0)) and the huge zero page live at fixed PFNs. */
export const ZERO_PFN = 0;
export const HUGE_ZERO_PFN = 1 << PMD_ORDER;

/** A bounded memory of at most this many frames (256 MiB; under 3 MiB of arrays) gets them all at boot. */
const RESERVE_UP_FRONT = 1 << 16;

/** The most frames one reserveFor() makes room for (128 GiB: under 3 GiB of address space). */
export const RESERVE_HINT_PAGES = 1 << 25;

/**
 * A buddy-style frame allocator: per-order free lists of naturally aligned blocks, splitting
 * larger blocks and growing the PFN space on demand. Buddies are merged on free
 * (__free_one_page), so large orders stay available after churn.
 */
export class PhysMem {
  readonly f = new FolioTable();
  private readonly free: number[][] = Array.from({ length: MAX_FOLIO_ORDER + 1 }, () => []);
  /** 1 when the block starting at pfn with order[pfn] is free (buddy lookup). */
  private freeBlock = new Uint8Array(0);
  private top = 0;
  /** Frames currently allocated to folios (not reserved). */
  allocatedPages = 0;
  /**
   * The PFN space that maxPages fills without fragmentation: the two reserved blocks plus
   * maxPages in MAX_FOLIO_ORDER blocks. Frame arrays grow no further unless fragmentation
   * extends the PFN space past it (unlimited memory: no such bound).
   */
  private readonly pfnLimit: number;

  /** maxPages: upper bound on frames, from the system's memory size (0 = unlimited). */
  constructor(readonly maxPages = 0) {
    const blk = 1 << MAX_FOLIO_ORDER;
    this.pfnLimit = maxPages > 0 ? (2 << PMD_ORDER) + Math.ceil(maxPages / blk) * blk : Number.POSITIVE_INFINITY;
    // a small bounded memory gets all its frames now: its arrays are never replaced
    if (this.pfnLimit <= RESERVE_UP_FRONT) this.reserve(this.pfnLimit);
    // Reserve the zero page and the huge zero page (never freed, never counted).
    this.extendTo(2 << PMD_ORDER);
    this.f.order[ZERO_PFN] = 0;
    this.f.flags[ZERO_PFN] = PG.reserved | PG.allocated;
    this.f.ref[ZERO_PFN] = 1;
    for (let i = 0; i < 1 << PMD_ORDER; i++) this.f.order[HUGE_ZERO_PFN + i] = PMD_ORDER;
    this.f.flags[HUGE_ZERO_PFN] = PG.reserved | PG.allocated;
    this.f.ref[HUGE_ZERO_PFN] = 1;
    // frames 1..511 are ordinary free memory
    for (let pfn = 1; pfn < HUGE_ZERO_PFN; ) {
      let o = 0;
      while (o < PMD_ORDER && (pfn & ((2 << o) - 1)) === 0 && pfn + (2 << o) <= HUGE_ZERO_PFN) o++;
      this.pushFree(pfn, o);
      pfn += 1 << o;
    }
  }

  /** PFNs in use so far: [0, pfnSpan) (the arrays' capacity may be larger, uncommitted). */
  get pfnSpan(): number {
    return this.top;
  }

  /**
   * Room in the frame arrays for `pages` more frames past the PFN space in use, so that
   * faulting them in never grows (copies) the arrays: mmap() asks for its size. Capacity only:
   * the PFN space and every frame stay as they are, and the room costs address space, not RSS
   * (typed.ts). At most RESERVE_HINT_PAGES a call.
   */
  reserveFor(pages: number): void {
    const blk = 1 << MAX_FOLIO_ORDER;
    const n = Math.min(pages, RESERVE_HINT_PAGES);
    this.reserve(Math.min(this.pfnLimit, Math.ceil((this.top + n) / blk) * blk + blk));
  }

  /** Frame arrays for at least n frames (the PFN space stays as it is). */
  private reserve(n: number): void {
    if (n > this.f.capacity) {
      this.f.grow(n, this.top, this.pfnLimit);
      this.freeBlock = grown(this.freeBlock, this.f.capacity, this.top);
    }
  }

  /** Extend the PFN space to [0, n) (frames past the old end start free and empty). */
  private extendTo(n: number): void {
    this.reserve(n);
    this.f.initFrames(this.top, n);
    this.top = n;
  }

  private pushFree(pfn: number, order: number): void {
    this.free[order]!.push(pfn);
    this.freeBlock[pfn] = 1;
    this.f.order[pfn] = order;
  }

  /** Allocate a naturally aligned block of 2^order frames; returns the head PFN. Throws on OOM. */
  alloc(order: number): number {
    let o = order;
    let pfn = -1;
    while (o <= MAX_FOLIO_ORDER) {
      const list = this.free[o]!;
      while (list.length > 0) {
        const c = list.pop()!;
        if (this.freeBlock[c] === 1 && this.f.order[c] === o) {
          pfn = c;
          break;
        }
      }
      if (pfn >= 0) break;
      o++;
    }
    if (pfn < 0) {
      // extend PFN space with a block aligned to MAX_FOLIO_ORDER, keep the rest free
      const blk = 1 << MAX_FOLIO_ORDER;
      const base = Math.ceil(this.top / blk) * blk;
      if (this.maxPages > 0 && this.allocatedPages + (1 << order) > this.maxPages) {
        throw new Error(`out of memory: ${this.allocatedPages} pages allocated, limit ${this.maxPages}`);
      }
      this.extendTo(base + blk);
      pfn = base;
      o = MAX_FOLIO_ORDER;
    } else {
      this.freeBlock[pfn] = 0;
    }
    // split down to the requested order (expand())
    while (o > order) {
      o--;
      this.pushFree(pfn + (1 << o), o);
    }
    this.freeBlock[pfn] = 0;
    const n = 1 << order;
    const f = this.f;
    for (let i = 0; i < n; i++) {
      f.order[pfn + i] = order;
      f.mapcount[pfn + i] = 0;
      f.flags[pfn + i] = 0;
      f.data[pfn + i] = 0;
    }
    f.flags[pfn] = PG.allocated;
    f.ref[pfn] = 1;
    // head-only counters stay 0 for most folios: written only when not already 0, so their
    // never-written pages stay uncommitted (same values either way)
    if (f.largeMapcount[pfn] !== 0) f.largeMapcount[pfn] = 0;
    if (f.entireMapcount[pfn] !== 0) f.entireMapcount[pfn] = 0;
    if (f.pincount[pfn] !== 0) f.pincount[pfn] = 0;
    f.anonVma[pfn] = -1;
    f.index[pfn] = 0;
    this.allocatedPages += n;
    return pfn;
  }

  /** Return a folio's frames to the allocator (free_unref_folios / __free_one_page). */
  freeFolio(head: number): void {
    const f = this.f;
    let order = f.order[head]!;
    const n = 1 << order;
    for (let i = 0; i < n; i++) f.flags[head + i] = 0;
    this.allocatedPages -= n;
    let pfn = head;
    while (order < MAX_FOLIO_ORDER) {
      const buddy = pfn ^ (1 << order);
      if (buddy >= this.top || this.freeBlock[buddy] !== 1 || f.order[buddy] !== order) break;
      this.freeBlock[buddy] = 0; // lazily dropped from its list
      pfn = Math.min(pfn, buddy);
      order++;
    }
    this.pushFree(pfn, order);
    for (let i = 1; i < 1 << order; i++) f.order[pfn + i] = order;
  }

  isZeroPfn(pfn: number): boolean {
    return pfn === ZERO_PFN || (pfn >= HUGE_ZERO_PFN && pfn < HUGE_ZERO_PFN + (1 << PMD_ORDER));
  }
}
