import {
  C,
  PTE,
  X86_64_TASK_SIZE,
  type FlushRequest,
  type HardwareModel,
  type Kernel,
  type MmStruct,
  type MmSystem,
} from '@mmsim/core';
import { AsidState } from './asid.js';
import { checkHit } from './coherence.js';
import { coalescedBase } from './coalesce.js';
import { PLUGIN_NAME } from './constants.js';

/** init_mm's context.ctx_id in the ASID slots (mm ids are never negative; 0 marks a free slot) */
const INIT_MM_CTX_ID = -1;
import { defineX86Counters, type X86CounterIds } from './counters.js';
import { FlushEngine } from './flush.js';
import { mmContext } from './mm-context.js';
import type { ResolvedX86Options } from './options.js';
import type { X86CostProfile } from './profiles.js';
import { TLBF } from './tlb-array.js';
import { TlbHierarchy } from './tlb-hierarchy.js';

/**
 * The x86-64 hardware model: per-CPU L1 dTLB + STLB (4 KiB and 2 MiB arrays, LRU), PCID with
 * the kernel's 6 dynamic ASIDs per CPU, paging-structure caches, optional AMD-style PTE
 * coalescing, and the TLB shootdown protocol of arch/x86/mm/tlb.c with its nr_tlb_* counting.
 */
export class X86Hardware implements HardwareModel {
  readonly name = 'x86';
  readonly ncpus: number;
  /** TASK_SIZE_MAX with 4-level paging (47-bit user addresses; no LA57) */
  readonly taskSize = X86_64_TASK_SIZE;
  /** arch/x86/Kconfig: select ARCH_SUPPORTS_PT_RECLAIM if X86_64 (4817f70c25b6, v6.14) */
  readonly archSupportsPtReclaim = true;
  sys!: MmSystem;
  kernel!: Kernel;
  ids!: X86CounterIds;
  readonly tlb: TlbHierarchy;
  readonly asid: AsidState;
  readonly flushes: FlushEngine;
  private readonly coalesceOut = { dirty: false };

  constructor(
    readonly opts: ResolvedX86Options,
    readonly costs: X86CostProfile,
    readonly profileName: string,
  ) {
    this.ncpus = opts.cpus;
    this.tlb = new TlbHierarchy(opts.cpus, opts, opts.coalescing);
    this.asid = new AsidState(opts.cpus, opts.pcid);
    this.flushes = new FlushEngine(this);
  }

  apply(system: MmSystem): void {
    this.sys = system;
    this.kernel = system.kernel;
    this.ids = defineX86Counters(system.stats);
    const name = `${PLUGIN_NAME}:tlb`;
    system.hooks.tlbFlush.request.tap({ name, stage: -1000 }, (r: FlushRequest) => this.flushes.request(r));
    system.hooks.sched.switchMm.tap({ name, stage: -1000 }, (cpu: number, prev: MmStruct | null, next: MmStruct) => {
      // switch_mm_irqs_off() since 209954cbc7d0: leave this CPU in prev's mm_cpumask (cleared at a flush IPI)
      if (prev && !prev.dead && this.kernel.config.features.lazyMmCpumask) prev.cpumask[cpu] = 1;
      this.switchMm(cpu, next);
    });
    system.hooks.mm.destroyed.tap({ name, stage: -1000 }, (mm: MmStruct) => this.mmDestroyed(mm));
  }

  /** A CPU is in lazy-TLB mode when no thread of its loaded mm is running there: the current
   *  thread is not spinning (it only runs during its own steps) or has exited. */
  isLazy(cpu: number): boolean {
    const cur = this.kernel.cpus[cpu]!.curr;
    return cur === null || !cur.spin;
  }

  /** arch_tlbbatch_should_defer(): batch the reclaim flush only if another CPU is in mm_cpumask. */
  tlbbatchShouldDefer(mm: MmStruct, cpu: number): boolean {
    for (let c = 0; c < this.ncpus; c++) if (c !== cpu && mm.cpumask[c]) return true;
    return false;
  }

  /** switch_mm_irqs_off(): pick the ASID (choose_new_asid) and flush it if needed. */
  switchMm(cpu: number, next: MmStruct): void {
    const a = this.asid;
    const ctx = mmContext(next);
    const slot = a.choose(cpu, ctx.ctxId, ctx.tlbGen);
    const g = cpu * a.slots + slot;
    this.sys.stats.v[this.ids.tlb_switch_mm]!++;
    if (a.needFlush) {
      this.tlb.invalidateAsid(cpu, slot);
      a.ctxId[g] = ctx.ctxId;
      a.gen[g] = ctx.tlbGen;
      this.sys.stats.v[this.ids.tlb_switch_flush]!++;
    }
    a.loadedAsid[cpu] = slot;
    a.loadedMm[cpu] = next;
    a.lazyStale[cpu] = 0;
  }

  /**
   * switch_mm_irqs_off(NULL, &init_mm, NULL), as flush_tlb_func() does on a lazy CPU: init_mm
   * gets an ASID slot like any mm (choose_new_asid); a new slot is flushed and traced as a
   * "flush on task switch" with pages ALL (tlb_switch_flush). init_mm's tlb_gen never moves.
   */
  switchToInitMm(cpu: number): void {
    const a = this.asid;
    const slot = a.choose(cpu, INIT_MM_CTX_ID, 1);
    const g = cpu * a.slots + slot;
    this.sys.stats.v[this.ids.tlb_switch_mm]!++;
    if (a.needFlush) {
      this.tlb.invalidateAsid(cpu, slot);
      a.ctxId[g] = INIT_MM_CTX_ID;
      a.gen[g] = 1;
      this.sys.stats.v[this.ids.tlb_switch_flush]!++;
    }
    a.loadedAsid[cpu] = slot;
    a.loadedMm[cpu] = null;
    a.lazyStale[cpu] = 0;
  }

  /** A lazy CPU that missed shootdowns runs the mm again: switch_mm_irqs_off() sees the stale
   *  tlb_gen and flushes the ASID (not counted in nr_tlb_*, as in the kernel). */
  lazyCatchUp(cpu: number): void {
    const a = this.asid;
    a.lazyStale[cpu] = 0;
    const mm = a.loadedMm[cpu];
    if (!mm) return;
    const ctx = mmContext(mm);
    const slot = a.loadedAsid[cpu]!;
    const g = cpu * a.slots + slot;
    if (a.gen[g]! >= ctx.tlbGen) return;
    this.tlb.invalidateAsid(cpu, slot);
    a.gen[g] = ctx.tlbGen;
    this.sys.stats.v[this.ids.tlb_lazy_catchup]!++;
    this.sys.clock.charge(cpu, this.costs.tlbFlushAll);
  }

  private mmDestroyed(mm: MmStruct): void {
    const a = this.asid;
    for (let c = 0; c < this.ncpus; c++) {
      const slot = a.slotOf(c, mm.id);
      if (slot >= 0) {
        this.tlb.invalidateAsid(c, slot);
        a.ctxId[c * a.slots + slot] = 0;
        a.gen[c * a.slots + slot] = 0;
      }
      if (a.loadedMm[c] === mm) {
        a.loadedMm[c] = null;
        a.lazyStale[c] = 0;
      }
    }
  }

  tlbLookup(cpu: number, mm: MmStruct, vpn: number, write: boolean): number {
    const a = this.asid;
    if (a.loadedMm[cpu] !== mm) this.switchMm(cpu, mm);
    if (a.lazyStale[cpu]) this.lazyCatchUp(cpu);
    const slot = a.loadedAsid[cpu]!;
    const tlb = this.tlb;
    const v = this.sys.stats.v;
    if (!tlb.lookup(cpu, slot, vpn)) {
      v[this.ids.tlb_miss]!++;
      return -1;
    }
    const flags = tlb.flags;
    if (write && (flags & (TLBF.WRITABLE | TLBF.DIRTY)) !== (TLBF.WRITABLE | TLBF.DIRTY)) {
      // read-only entry: #PF (which drops the entry); clean entry: re-walk to set D
      tlb.invalidateTlbPage(cpu, slot, vpn);
      v[this.ids.tlb_miss]!++;
      return -1;
    }
    const pfn = tlb.pfn;
    if (tlb.level === 2) {
      v[this.ids.stlb_hit]!++;
      this.sys.clock.chargeUser(cpu, this.costs.memAccess + this.costs.stlbHit);
    } else {
      this.sys.clock.chargeUser(cpu, this.costs.memAccess);
    }
    if (this.opts.coherenceCheck) checkHit(this.kernel, cpu, mm, vpn, write, pfn, (flags & TLBF.WRITABLE) !== 0);
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
    const a = this.asid;
    if (a.loadedMm[cpu] !== mm) this.switchMm(cpu, mm);
    const slot = a.loadedAsid[cpu]!;
    const huge = leafShift >= 21;
    const levels = this.tlb.walkLevels(cpu, slot, vpn, huge);
    const v = this.sys.stats.v;
    v[this.ids.page_walk]!++;
    v[this.ids.page_walk_level]! += levels;
    this.sys.clock.chargeUser(cpu, this.costs.memAccess + levels * this.costs.walkLevel);
    const fl = this.kernel.pt.fl[pteSlot]!;
    let flags = writable ? TLBF.WRITABLE | ((fl & PTE.dirty) !== 0 ? TLBF.DIRTY : 0) : 0;
    let group = -1;
    if (this.opts.coalescing && !huge) {
      group = coalescedBase(this.kernel, vpn, pfn, pteSlot, this.coalesceOut);
      if (group >= 0) {
        v[this.ids.tlb_coalesced_fill]!++;
        if (writable && !this.coalesceOut.dirty) flags &= ~TLBF.DIRTY;
      }
    }
    this.tlb.fill(cpu, slot, vpn, pfn, flags, huge, group);
  }

  describe(): Record<string, unknown> {
    const o = this.opts;
    const tlbs: Record<string, number>[] = [];
    for (let c = 0; c < this.ncpus; c++) tlbs.push(this.tlb.occupancy(c));
    return {
      profile: this.profileName,
      pcid: o.pcid,
      lazyTlbSkip: o.lazyTlbSkip,
      coalescing: o.coalescing,
      pagingStructureCache: o.pagingStructureCache,
      flushCeiling: o.flushCeiling,
      tlb: {
        l1: `${o.l1Entries}x4K/${o.l1Ways}-way + ${o.l1Entries2M}x2M/${o.l1Ways2M}-way`,
        stlb: `${o.stlbEntries}x4K/${o.stlbWays}-way + ${o.stlbEntries2M}x2M/${o.stlbWays2M}-way`,
        reachBytes: o.stlbEntries * 4096 * (o.coalescing ? 4 : 1) + o.stlbEntries2M * 2 * 1024 * 1024,
      },
      occupancy: tlbs,
      contextSwitches: this.sys?.stats.v[C.context_switch] ?? 0,
    };
  }
}
