/** FolioView / PageView over the kernel's typed arrays, bound to a context's current folio. */
import type { Kernel } from '../kernel/kernel.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { mappingsInMm } from '../kernel/large-folio.js';
import type { MmStruct } from '../mm/mm-struct.js';
import type { FolioView, MmView, PageView } from './views.js';

/** What a view is bound to: the context's current head and page (-1 when none). */
export interface FolioSource {
  head: number;
  pfn: number;
}

/** A folio view reading the kernel's arrays at call time (they are replaced when they grow). */
export class FolioRef implements FolioView {
  constructor(
    private readonly k: Kernel,
    private readonly src: FolioSource,
  ) {}
  get present(): boolean {
    return this.src.head >= 0;
  }
  get head(): number {
    return this.src.head;
  }
  get order(): number {
    return this.src.head < 0 ? 0 : this.k.f.order[this.src.head]!;
  }
  get nrPages(): number {
    return 1 << this.order;
  }
  get refcount(): number {
    return this.src.head < 0 ? 0 : this.k.f.ref[this.src.head]!;
  }
  get mapcount(): number {
    return this.src.head < 0 ? 0 : this.k.f.folioMapcount(this.src.head);
  }
  get largeMapcount(): number {
    return this.src.head < 0 ? 0 : this.k.f.largeMapcount[this.src.head]!;
  }
  get entireMapcount(): number {
    return this.src.head < 0 ? 0 : this.k.f.entireMapcount[this.src.head]!;
  }
  get pincount(): number {
    return this.src.head < 0 ? 0 : this.k.f.pincount[this.src.head]!;
  }
  get maybePinned(): boolean {
    return this.src.head >= 0 && this.k.f.maybeDmaPinned(this.src.head);
  }
  private flag(bit: number): boolean {
    return this.src.head >= 0 && (this.k.f.flags[this.src.head]! & bit) !== 0;
  }
  get anon(): boolean {
    return this.flag(PG.anon);
  }
  get swapcache(): boolean {
    return this.flag(PG.swapcache);
  }
  get lru(): boolean {
    return this.flag(PG.lru);
  }
  get inBatch(): boolean {
    return this.flag(PG.inBatch);
  }
  get writeback(): boolean {
    return this.flag(PG.writeback);
  }
  get isZero(): boolean {
    return this.src.head === ZERO_PFN || this.flag(PG.reserved);
  }
  contains(pfn: number): boolean {
    const h = this.src.head;
    return h >= 0 && pfn >= h && pfn < h + (1 << this.k.f.order[h]!);
  }
  isExclusive(pfn: number): boolean {
    return this.contains(pfn) && (this.k.f.flags[pfn]! & PG.anonExclusive) !== 0;
  }
  mappingsIn(mm: MmView): number {
    return this.src.head < 0 ? 0 : mappingsInMm(this.k, this.src.head, mm as MmStruct);
  }
}

/** The context's current page. */
export class PageRef implements PageView {
  constructor(
    private readonly k: Kernel,
    private readonly src: FolioSource,
  ) {}
  get pfn(): number {
    return this.src.pfn;
  }
  get exclusive(): boolean {
    return this.src.pfn >= 0 && (this.k.f.flags[this.src.pfn]! & PG.anonExclusive) !== 0;
  }
  get mapcount(): number {
    return this.src.pfn < 0 ? 0 : this.k.f.mapcount[this.src.pfn]!;
  }
  get swapCount(): number {
    const { head, pfn } = this.src;
    if (head < 0 || (this.k.f.flags[head]! & PG.swapcache) === 0) return 0;
    return this.k.swap.count[this.k.f.swap[head]! + (pfn - head)]!;
  }
}
