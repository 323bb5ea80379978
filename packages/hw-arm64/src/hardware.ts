import {
  C,
  PMD_SHIFT,
  PTE,
  arm64TaskSize,
  type FlushRequest,
  type HardwareModel,
  type Kernel,
  type MmStruct,
  type MmSystem,
} from '@mmsim/core';
import { AsidAllocator, type AsidContext } from './asid.js';
import { checkCoherent } from './coherence.js';
import { ContPte, PTE_CONT, coalescable } from './contpte.js';
import { defineCounters, type CounterIds } from './counters.js';
import type { ResolvedOptions } from './options.js';
import type { Arm64CostProfile } from './profiles.js';
import { TlbArray } from './tlb.js';
import { BroadcastTlbi, type CoreTlbs } from './tlbi.js';

export const PLUGIN_NAME = 'arm64';

/**
 * The arm64 hardware model: per-core L1/L2 TLBs tagged with 16-bit ASIDs from context.c's
 * generation allocator, broadcast TLB maintenance (TLBI ... IS + DSB ISH, never an IPI), the
 * contiguous bit managed as contpte.c does, optional HPA coalescing, and a TLB coherence
 * checker. Create it with `createHardware()`.
 */
export class Arm64Hardware implements HardwareModel {
  readonly name = PLUGIN_NAME;
  readonly ncpus: number;
  /** TASK_SIZE_64 with VA_BITS=48 (the walk depths of granule.ts assume 48 bits too) */
  readonly taskSize = arm64TaskSize(48);
  /** arch/arm64/Kconfig does not select ARCH_SUPPORTS_PT_RECLAIM in v6.18 */
  readonly archSupportsPtReclaim = false;
  /** arm64 ptep_clear_flush_young(): __ptep_test_and_clear_young() + flush_tlb_page_nosync() */
  readonly clearYoungFlushes = true;
  /** arch/arm64 does not select HAVE_ARCH_SOFT_DIRTY */
  readonly softDirty = false;
  readonly costs: Arm64CostProfile;
  readonly cores: readonly CoreTlbs[];
  readonly asids: AsidAllocator;
  /** global epoch per ASID: TLBI ASIDE1IS bumps it (see TlbArray) */
  private readonly asidEpoch: Int32Array;
  /** per core: the mm, its ASID context and ASID currently loaded in TTBR0 */
  private readonly cpuMm: (MmStruct | null)[];
  private readonly cpuAsid: Int32Array;
  private readonly contShift: number;
  private readonly coalescePages: number;
  private readonly coalesceShift: number;
  private readonly walkLevels: number;
  private sys!: MmSystem;
  private k!: Kernel;
  private ids!: CounterIds;
  private tlbi!: BroadcastTlbi;
  private contpte: ContPte | null = null;
  /** the PTE try_to_unmap() just cleared: arch_tlbbatch_add_pending() invalidates its VA */
  private unmapMm: MmStruct | null = null;
  private unmapStart = 0;
  private unmapEnd = 0;
  /** per initiating CPU: its pending reclaim batch (batch-add TLBIs not yet completed by a
   *  batch-flush): the union of the batched mms' cpumasks (ncpus x ncpus), the base pages of
   *  its per-VA TLBIs, whether one was ASID-wide, whether there is one at all */
  private readonly batchMask: Uint8Array;
  private readonly batchPages: Float64Array;
  private readonly batchFull: Uint8Array;
  private readonly batchPending: Uint8Array;

  constructor(readonly options: ResolvedOptions) {
    this.ncpus = options.cpus;
    this.costs = options.profile.costs;
    this.asids = new AsidAllocator(options.asidBits, options.cpus);
    this.asidEpoch = new Int32Array(this.asids.numAsids);
    const g = options.geometry;
    this.cores = Array.from({ length: options.cpus }, () => ({
      l1: new TlbArray(g.l1Entries, g.l1Ways, this.asidEpoch),
      l2: new TlbArray(g.l2Entries, g.l2Ways, this.asidEpoch),
    }));
    this.cpuMm = new Array<MmStruct | null>(options.cpus).fill(null);
    this.cpuAsid = new Int32Array(options.cpus);
    this.contShift = Math.log2(options.granule.contPages);
    this.coalescePages = Math.max(options.hpa, options.granule.granulePages);
    this.coalesceShift = this.coalescePages > 1 ? Math.log2(this.coalescePages) : 0;
    this.walkLevels = options.granule.walkLevels;
    this.batchMask = new Uint8Array(options.cpus * options.cpus);
    this.batchPages = new Float64Array(options.cpus);
    this.batchFull = new Uint8Array(options.cpus);
    this.batchPending = new Uint8Array(options.cpus);
  }

  /** FEAT_HAFDBS: without it, core takes access-flag and dirty-bit faults. */
  get managesAccessFlags(): boolean {
    return this.options.hafdbs;
  }

  get profileName(): string {
    return this.options.profile.name;
  }

  apply(system: MmSystem): void {
    this.sys = system;
    this.k = system.kernel;
    this.ids = defineCounters(system.stats);
    this.tlbi = new BroadcastTlbi(
      this.cores,
      this.asidEpoch,
      system.stats,
      system.clock,
      this.costs,
      this.ids,
      this.options.tlbiRange,
    );
    if (this.options.contpte) {
      this.contpte = new ContPte(this.k, this.options.granule.contPages, system.stats, this.ids, (mm, s, e) =>
        this.flushBlock(mm, s, e),
      );
    }
    const h = system.hooks;
    h.tlbFlush.request.tap({ name: 'arm64-tlbi', stage: -1000 }, (r) => this.flush(r));
    h.sched.switchMm.tap({ name: 'arm64-asid', stage: -1000 }, (cpu, _prev, next) => this.switchTo(cpu, next));
    h.mm.created.tap({ name: 'arm64-asid', stage: -1000 }, (mm) => {
      mm.hwContext = { id: 0, touched: new Uint8Array(this.ncpus) } satisfies AsidContext;
    });
    h.mm.destroyed.tap({ name: 'arm64-asid', stage: -1000 }, (mm) => {
      // context.c never frees an ASID: it stays taken until the next rollover
      for (let c = 0; c < this.ncpus; c++) if (this.cpuMm[c] === mm) this.cpuMm[c] = null;
    });
    h.pte.beforeChange.tap({ name: 'arm64-contpte', stage: -1000 }, (mm, start, end, reason) => {
      if (reason === 'try_to_unmap') {
        this.unmapMm = mm;
        this.unmapStart = start;
        this.unmapEnd = end;
      }
      this.contpte?.beforeChange(mm, start, end, reason);
    });
    if (this.contpte) {
      const cp = this.contpte;
      h.pte.afterSet.tap({ name: 'arm64-contpte', stage: -1000 }, (mm, start, end) => cp.afterSet(mm, start, end));
    }
  }

  /* ------------------------------------------------------------------ ASIDs */

  private ctxOf(mm: MmStruct): AsidContext {
    let ctx = mm.hwContext as AsidContext | undefined;
    if (ctx === undefined) {
      ctx = { id: 0, touched: new Uint8Array(this.ncpus) };
      mm.hwContext = ctx;
    }
    return ctx;
  }

  /** The ASID `mm` currently owns (0: none yet, nothing of it can be cached). */
  asidOf(mm: MmStruct): number {
    const ctx = mm.hwContext as AsidContext | undefined;
    return ctx === undefined || ctx.id === 0 ? 0 : this.asids.asidOf(ctx.id);
  }

  /** switch_mm() → check_and_switch_context() */
  private switchTo(cpu: number, mm: MmStruct): void {
    const ctx = this.ctxOf(mm);
    const rollovers = this.asids.rollovers;
    const allocs = this.asids.allocations;
    if (this.asids.switchTo(ctx, cpu)) this.tlbi.localFlushAll(cpu);
    const v = this.sys.stats.v;
    v[this.ids.asid_rollover]! += this.asids.rollovers - rollovers;
    v[this.ids.asid_alloc]! += this.asids.allocations - allocs;
    this.cpuMm[cpu] = mm;
    this.cpuAsid[cpu] = this.asids.asidOf(ctx.id);
  }

  /* -------------------------------------------------------------- the MMU */

  tlbLookup(cpu: number, mm: MmStruct, vpn: number, write: boolean): number {
    if (this.cpuMm[cpu] !== mm) this.switchTo(cpu, mm);
    const asid = this.cpuAsid[cpu]!;
    const t = this.cores[cpu]!;
    const v = this.sys.stats.v;
    let arr = t.l1;
    let e = arr.lookup(asid, vpn);
    if (e < 0) {
      v[this.ids.tlb_l1_miss]!++;
      arr = t.l2;
      e = arr.lookup(asid, vpn);
      if (e < 0) {
        v[this.ids.tlb_miss]!++;
        return -1;
      }
      this.sys.clock.chargeUser(cpu, this.costs.tlbL2Hit);
      t.l1.insert(asid, arr.baseOf(e), arr.shift[e]!, arr.pfn[e]!, arr.writable[e] === 1);
    }
    // a write through an entry without write permission (or with clean dirty state) walks again
    if (write && arr.writable[e] === 0) return -1;
    const pfn = arr.pfn[e]! + (vpn - arr.baseOf(e));
    if (this.options.coherenceCheck)
      checkCoherent(this.k, cpu, mm, vpn, write, pfn, arr === t.l1 ? 'L1 TLB' : 'L2 TLB');
    this.sys.clock.chargeUser(cpu, this.costs.memAccess);
    return pfn;
  }

  tlbFill(
    cpu: number,
    mm: MmStruct,
    vpn: number,
    pfn: number,
    writable: boolean,
    leafShift: number,
    pteSlot: number,
  ): void {
    const c = this.costs;
    const v = this.sys.stats.v;
    const huge = leafShift > 12;
    const levels = this.walkLevels - (huge ? (leafShift - 12) / 9 : 0);
    this.sys.clock.chargeUser(cpu, c.memAccess + c.tlbL2Hit + c.walkLevel * levels);
    v[this.ids.page_walk]!++;
    if (this.cpuMm[cpu] !== mm) this.switchTo(cpu, mm);
    const asid = this.cpuAsid[cpu]!;
    const t = this.cores[cpu]!;
    // the new translation replaces whatever this core still caches for the page
    t.l1.invalidateVa(asid, vpn);
    t.l2.invalidateVa(asid, vpn);
    const fl = this.k.pt.fl[pteSlot]!;
    // FEAT_HAFDBS: the first write to a clean page updates the descriptor, so only a dirty
    // writable descriptor is cached with write permission
    let w = writable && (fl & PTE.dirty) !== 0;
    let shift = 0;
    if (huge) {
      shift = leafShift - 12;
    } else if ((fl & PTE_CONT) !== 0) {
      this.contpteCheck(pteSlot, vpn);
      shift = this.contShift;
      v[this.ids.tlb_fill_contpte]!++;
    } else if (this.coalesceShift > 0) {
      const r = coalescable(this.k, pteSlot, vpn, this.coalescePages);
      if (r >= 0) {
        shift = this.coalesceShift;
        w = w && r === 1;
        v[this.ids.tlb_fill_coalesced]!++;
      }
    }
    const size = 2 ** shift;
    const off = vpn % size;
    t.l2.insert(asid, vpn - off, shift, pfn - off, w);
    t.l1.insert(asid, vpn - off, shift, pfn - off, w);
    this.ctxOf(mm).touched[cpu] = 1;
  }

  private contpteCheck(slot: number, vpn: number): void {
    if (this.contpte) this.contpte.checkOnFill(slot, vpn);
    else new ContPte(this.k, this.options.granule.contPages, this.sys.stats, this.ids, () => {}).checkOnFill(slot, vpn);
  }

  /* ------------------------------------------------------------- flushes */

  /** Break-before-make invalidation of a contpte block: __flush_tlb_range(..., PAGE_SIZE, true, 3). */
  private flushBlock(mm: MmStruct, start: number, end: number): void {
    const ctx = mm.hwContext as AsidContext | undefined;
    const cpu = this.k.cpu;
    if (end > start)
      this.countComparable(cpu, mm.cpumask, this.cpuMm[cpu] === mm, this.tlbi.aboveCeiling(end - start), end - start);
    this.tlbi.flushRange(ctx, this.asidOf(mm), start, end, cpu, true);
  }

  /**
   * The architecture-neutral counters (docs/counters.md, "Comparable across architectures"),
   * once per TLBI sequence a flush request (or a completed reclaim batch) issues: remote when
   * `mask` (core's mm_cpumask; the union of them for a batch) has a CPU other than the
   * initiator, the test x86 uses for a shootdown; else local when the initiator has the mm
   * loaded. The TLBIs themselves are broadcast either way. `pages`: base pages of per-VA /
   * range TLBIs, unless `full` (TLBI ASIDE1IS).
   */
  private countComparable(cpu: number, mask: Uint8Array, loadedHere: boolean, full: boolean, pages: number): void {
    const v = this.sys.stats.v;
    const ids = this.ids;
    let others = 0;
    for (let c = 0; c < this.ncpus; c++) if (c !== cpu && mask[c]) others++;
    if (others > 0) {
      v[ids.tlb_remote_inval]!++;
      v[ids.tlb_remote_inval_cpus]! += others;
    } else if (loadedHere) {
      v[ids.tlb_local_inval]!++;
    } else {
      return;
    }
    if (full) v[ids.tlb_inval_full]!++;
    else v[ids.tlb_inval_pages]! += pages;
  }

  /** arch_tlbbatch_should_defer() (v6.5+, 43b3dfdd0455): arm64 always batches (no ARM64_WORKAROUND_REPEAT_TLBI). */
  tlbbatchShouldDefer(): boolean {
    return true;
  }

  private flush(r: FlushRequest): void {
    const v = this.sys.stats.v;
    switch (r.kind) {
      case 'range': {
        const mm = r.mm!;
        const pages = r.end - r.start;
        const asid = this.asidOf(mm);
        const ctx = mm.hwContext as AsidContext | undefined;
        // flush_pmd_tlb_range(): __flush_tlb_range(vma, addr, end, PMD_SIZE, false, 2), one TLBI per PMD
        const stride = r.strideShift === PMD_SHIFT ? 2 ** (PMD_SHIFT - 12) : 1;
        const all = this.tlbi.aboveCeiling(pages, stride);
        if (this.options.vmstatTlb) {
          if (all) v[C.nr_tlb_local_flush_all]!++;
          else v[C.nr_tlb_local_flush_one]! += Math.ceil(pages / stride);
        }
        if (pages > 0) this.countComparable(r.cpu, mm.cpumask, this.cpuMm[r.cpu] === mm, all, pages);
        this.tlbi.flushRange(ctx, asid, r.start, r.end, r.cpu, true, stride);
        return;
      }
      case 'mm': {
        // arch_flush_tlb_batched_pending(): the TLBIs went out at batch-add; only wait
        if (r.reason === 'flush_tlb_batched_pending') {
          this.tlbi.dsb(r.cpu);
          return;
        }
        this.flushMm(r.mm!, r.cpu);
        return;
      }
      case 'batch-add': {
        // arch_tlbbatch_add_pending(): __flush_tlb_range_nosync() for the unmapped page now
        const mm = r.mm!;
        let start = r.start;
        let end = r.end;
        if (end <= start && this.unmapMm === mm) {
          start = this.unmapStart;
          end = this.unmapEnd;
        }
        this.batchAdd(r.cpu, mm, start, end);
        if (end <= start) {
          this.tlbi.flushAsid(mm.hwContext as AsidContext | undefined, this.asidOf(mm), r.cpu, false);
          return;
        }
        this.tlbi.flushRange(mm.hwContext as AsidContext | undefined, this.asidOf(mm), start, end, r.cpu, false);
        if (this.options.vmstatTlb) v[C.nr_tlb_local_flush_one]! += end - start;
        return;
      }
      case 'batch-flush':
        // arch_tlbbatch_flush(): one DSB ISH completes every TLBI issued at batch-add
        this.batchComplete(r.cpu);
        this.tlbi.dsb(r.cpu);
        return;
      case 'fullmm':
        // tlb_flush() with fullmm: only the walk caches matter, and only when tables were freed;
        // the ASID is not reused before a rollover invalidates everything
        if (r.freedTables) this.flushMm(r.mm!, r.cpu);
        return;
    }
  }

  /** Record a batch-add's TLBIs in the initiator's pending batch (for the comparable counters). */
  private batchAdd(cpu: number, mm: MmStruct, start: number, end: number): void {
    const n = this.ncpus;
    const row = cpu * n;
    const mask = mm.cpumask;
    for (let c = 0; c < n; c++) if (mask[c]) this.batchMask[row + c] = 1;
    this.batchPending[cpu] = 1;
    if (end <= start || this.tlbi.aboveCeiling(end - start)) this.batchFull[cpu] = 1;
    else this.batchPages[cpu]! += end - start;
  }

  /** arch_tlbbatch_flush() completes the batch's TLBIs: one TLBI sequence, counted now. */
  private batchComplete(cpu: number): void {
    if (this.batchPending[cpu] === 0) return;
    const n = this.ncpus;
    const row = cpu * n;
    const mask = this.batchMask.subarray(row, row + n);
    this.countComparable(cpu, mask, mask[cpu] === 1, this.batchFull[cpu] === 1, this.batchPages[cpu]!);
    mask.fill(0);
    this.batchPages[cpu] = 0;
    this.batchFull[cpu] = 0;
    this.batchPending[cpu] = 0;
  }

  private flushMm(mm: MmStruct, cpu: number): void {
    if (this.options.vmstatTlb) this.sys.stats.v[C.nr_tlb_local_flush_all]!++;
    this.countComparable(cpu, mm.cpumask, this.cpuMm[cpu] === mm, true, 0);
    this.tlbi.flushAsid(mm.hwContext as AsidContext | undefined, this.asidOf(mm), cpu, true);
  }

  /* ------------------------------------------------------------ reporting */

  /** TLB reach of one core (entries and base pages they map), for `mm` or every ASID. */
  reach(
    cpu: number,
    mm?: MmStruct,
  ): { l1: { entries: number; pages: number }; l2: { entries: number; pages: number } } {
    const asid = mm ? this.asidOf(mm) : -1;
    const t = this.cores[cpu]!;
    return { l1: t.l1.reach(asid), l2: t.l2.reach(asid) };
  }

  describe(): Record<string, unknown> {
    const o = this.options;
    let pages = 0;
    let entries = 0;
    for (let c = 0; c < this.ncpus; c++) {
      const r = this.cores[c]!.l2.reach();
      pages += r.pages;
      entries += r.entries;
    }
    return {
      profile: o.profile.name,
      cpus: this.ncpus,
      granule: o.granule.granule,
      contpte: o.contpte,
      hpa: o.hpa,
      hafdbs: o.hafdbs,
      asidBits: o.asidBits,
      tlbiRange: o.tlbiRange,
      l1: { entries: o.geometry.l1Entries, ways: o.geometry.l1Ways },
      l2: { entries: o.geometry.l2Entries, ways: o.geometry.l2Ways },
      dsbIshCycles: this.tlbi ? this.tlbi.dsbCost() : undefined,
      l2LiveEntries: entries,
      l2ReachPages: pages,
      asidRollovers: this.asids.rollovers,
    };
  }
}
