/**
 * struct vm_fault (include/linux/mm.h): the state of the fault being handled. One object per
 * kernel, reused for every fault like the kernel's on-stack vmf, and passed as a parameter.
 * Policies see it as a `FaultContext` (api/contexts.ts): read-only views plus named actions.
 */
import type { FaultContext, Level, WpReuseRange } from '../api/contexts.js';
import type { EntryView } from '../api/views.js';
import { FolioRef, PageRef } from '../api/folio-ref.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { PTE } from '../mm/pte.js';
import type { Vma } from '../mm/vma.js';
import { pmdStart, pteIndex } from '../units.js';
import { isPmdFault } from './huge-memory.js';
import { validCowOrder } from './large-folio.js';
import type { Kernel } from './kernel.js';
import { lruAddDrain, lruAddDrainAll } from './lru-batch.js';
import { deleteFromSwapCache, folioFreeSwap } from './swap-cache.js';

/** A `WpReuseRange` answer; one per fault object, filled by `reuseRange()`. */
class ReuseRange implements WpReuseRange {
  readonly reuse = 'range' as const;
  start = 0;
  nr = 0;
}

/** The faulting entry of a VmFault, read at call time. */
class EntryRef implements EntryView {
  constructor(private readonly vmf: VmFault) {}
  private bit(b: number): boolean {
    const v = this.vmf;
    if (v.table < 0 || v.index < 0) return false;
    const pt = v.kernel.pt;
    return (pt.fl[pt.slot(v.table, v.index)]! & b) !== 0;
  }
  get present(): boolean {
    return this.bit(PTE.present);
  }
  get swap(): boolean {
    return this.bit(PTE.swap);
  }
  get writable(): boolean {
    return this.bit(PTE.write);
  }
  get dirty(): boolean {
    return this.bit(PTE.dirty);
  }
  get young(): boolean {
    return this.bit(PTE.young);
  }
  get uffdWp(): boolean {
    return this.bit(PTE.uffdWp);
  }
  get softDirty(): boolean {
    return this.bit(PTE.softDirty);
  }
  get protNone(): boolean {
    return this.bit(PTE.protNone);
  }
  get swapExclusive(): boolean {
    return this.bit(PTE.swpExclusive);
  }
}

export class VmFault implements FaultContext {
  mm: MmStruct = null as unknown as MmStruct;
  vma: Vma = null as unknown as Vma;
  /** faulting virtual page number */
  vpn = 0;
  /** CPU taking the fault */
  cpu = 0;
  /** FAULT_FLAG_WRITE */
  write = false;
  /** FAULT_FLAG_UNSHARE */
  unshare = false;
  /** PTE table id and index of the faulting entry (-1 when none yet) */
  table = -1;
  index = -1;
  /** the mapped page (PFN) and its folio head, -1 when none */
  pfn = -1;
  head = -1;
  /** swap-in: the swap slot and whether the swap PTE carried the exclusive bit */
  swapSlot = -1;
  swapExclusive = false;
  /** swap-in: the page was read without entering the swap cache */
  swapCacheBypassed = false;
  readonly folio: FolioRef;
  readonly page: PageRef;
  readonly entry: EntryRef = new EntryRef(this);
  /** the range answer handed out by reuseRange() */
  readonly range = new ReuseRange();

  constructor(readonly kernel: Kernel) {
    this.folio = new FolioRef(kernel, this);
    this.page = new PageRef(kernel, this);
  }

  /** Reset for a new fault (handle_mm_fault()). */
  begin(mm: MmStruct, vma: Vma, vpn: number, cpu: number, write: boolean, unshare: boolean): this {
    this.mm = mm;
    this.vma = vma;
    this.vpn = vpn;
    this.cpu = cpu;
    this.write = write;
    this.unshare = unshare;
    this.table = -1;
    this.index = -1;
    this.pfn = -1;
    this.head = -1;
    this.swapSlot = -1;
    this.swapExclusive = false;
    this.swapCacheBypassed = false;
    this.range.nr = 0;
    return this;
  }

  get address(): number {
    return this.vpn;
  }
  get level(): Level {
    return this.table >= 0 && isPmdFault(this.kernel, this.table) ? 'pmd' : 'pte';
  }

  pfnAt(vpn: number): number {
    if (this.table < 0 || pmdStart(vpn) !== pmdStart(this.vpn)) return -1;
    const pt = this.kernel.pt;
    const s = pt.slot(this.table, pteIndex(vpn));
    return (pt.fl[s]! & PTE.present) === 0 || (pt.fl[s]! & PTE.table) !== 0 ? -1 : pt.val[s]!;
  }
  markedAt(vpn: number): boolean {
    if (this.table < 0 || pmdStart(vpn) !== pmdStart(this.vpn)) return false;
    const pt = this.kernel.pt;
    return (pt.fl[pt.slot(this.table, pteIndex(vpn))]! & (PTE.uffdWp | PTE.protNone)) !== 0;
  }
  cowOrderFits(order: number): number {
    if (this.table < 0 || order <= 0) return 0;
    const zero = this.pfn === ZERO_PFN;
    return validCowOrder(this.kernel, this.vma, this.vpn, this.table, order, zero ? -1 : this.head);
  }

  lruAddDrain(cpu: number = this.cpu): void {
    this.kernel.checkCpu(cpu);
    lruAddDrain(this.kernel, cpu);
  }
  lruAddDrainAll(): void {
    lruAddDrainAll(this.kernel);
  }
  freeSwapCache(): boolean {
    return this.head >= 0 && folioFreeSwap(this.kernel, this.head);
  }
  reuseSwapPage(): boolean {
    const k = this.kernel;
    const f = k.f;
    const head = this.head;
    let count = f.mapcount[this.pfn]!;
    const inCache = (f.flags[head]! & PG.swapcache) !== 0;
    if (inCache) count += k.swap.count[f.swap[head]! + (this.pfn - head)]!;
    if (count === 1 && inCache && (f.flags[head]! & PG.writeback) === 0) {
      deleteFromSwapCache(k, head);
      f.flags[head]! |= PG.dirty;
    }
    return count <= 1;
  }
  reuseRange(start: number, nr: number): WpReuseRange {
    this.range.start = start;
    this.range.nr = nr;
    return this.range;
  }
}
