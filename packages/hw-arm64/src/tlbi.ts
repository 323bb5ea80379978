import type { CostClock, Stats } from '@mmsim/core';
import type { AsidContext } from './asid.js';
import type { CounterIds } from './counters.js';
import type { Arm64CostProfile } from './profiles.js';
import type { TlbArray } from './tlb.js';

/** The TLBs of one core: the L1 data micro-TLB and the L2 main TLB. */
export interface CoreTlbs {
  readonly l1: TlbArray;
  readonly l2: TlbArray;
}

/** MAX_DVM_OPS (= PTRS_PER_PTE): without FEAT_TLBIRANGE, ranges of this many pages or more flush the ASID. */
export const MAX_DVM_OPS = 512;
/** MAX_TLBI_RANGE_PAGES = __TLBI_RANGE_PAGES(31, 3) = 32 << 16 pages (8 GiB of 4 KiB pages). */
export const MAX_TLBI_RANGE_PAGES = 32 << 16;

/**
 * TLB maintenance by broadcast (arch/arm64/include/asm/tlbflush.h): `TLBI ... IS` reaches every
 * core of the inner-shareable domain without an IPI; the initiator then waits in `DSB ISH`
 * for all of them, which is what grows with the core count. Nothing here ever counts an IPI
 * or charges a remote CPU.
 */
export class BroadcastTlbi {
  constructor(
    private readonly cores: readonly CoreTlbs[],
    private readonly asidEpoch: Int32Array,
    private readonly stats: Stats,
    private readonly clock: CostClock,
    private readonly costs: Arm64CostProfile,
    private readonly ids: CounterIds,
    private readonly tlbiRange: boolean,
  ) {}

  /** DSB ISH cost: waits for every core of the inner-shareable domain. */
  dsbCost(): number {
    return this.costs.dsbBase + this.costs.dsbPerCore * this.cores.length;
  }

  dsb(cpu: number): void {
    this.stats.v[this.ids.dsb_ish]!++;
    this.clock.charge(cpu, this.dsbCost());
  }

  /** TLBI instructions __flush_tlb_range_op() issues for `pages` pages, one per `stride` pages without range ops. */
  rangeOps(pages: number, stride = 1): number {
    if (!this.tlbiRange) return Math.ceil(pages / stride);
    // range TLBIs: an odd leading page alone, then one op per non-zero 5-bit digit per scale
    let ops = pages & 1;
    for (let scale = 0; scale <= 3; scale++) if (Math.floor(pages / 2 ** (5 * scale + 1)) % 32 !== 0) ops++;
    return ops;
  }

  /** __flush_tlb_range_limit_excess(): whether __flush_tlb_range_nosync() does flush_tlb_mm() instead. */
  aboveCeiling(pages: number, stride = 1): boolean {
    return (!this.tlbiRange && pages >= MAX_DVM_OPS * stride) || pages > MAX_TLBI_RANGE_PAGES;
  }

  /**
   * __flush_tlb_range(): per-VA (or range) TLBIs for [start, end) of `ctx`'s ASID, or an
   * ASID-wide TLBI above the ceiling. `sync`: wait with DSB ISH (the _nosync variants used by
   * arch_tlbbatch_add_pending do not). `stride`: pages per TLBI (512 for flush_pmd_tlb_range).
   */
  flushRange(
    ctx: AsidContext | undefined,
    asid: number,
    start: number,
    end: number,
    cpu: number,
    sync: boolean,
    stride = 1,
  ): void {
    const pages = end - start;
    if (pages <= 0) return;
    if (this.aboveCeiling(pages, stride)) {
      this.flushAsid(ctx, asid, cpu, sync);
      return;
    }
    const ops = this.rangeOps(pages, stride);
    const v = this.stats.v;
    v[this.ids.tlbi_va]! += ops;
    v[this.ids.tlbi_broadcast]! += ops;
    this.clock.charge(cpu, this.costs.tlbiIssue * ops);
    if (ctx !== undefined && asid > 0) {
      const touched = ctx.touched;
      for (let c = 0; c < this.cores.length; c++) {
        if (touched[c] === 0) continue;
        const t = this.cores[c]!;
        if (pages * 4 < t.l2.size) {
          for (let p = start; p < end; p++) {
            t.l1.invalidateVa(asid, p);
            t.l2.invalidateVa(asid, p);
          }
        } else {
          t.l1.invalidateRange(asid, start, end);
          t.l2.invalidateRange(asid, start, end);
        }
      }
    }
    if (sync) this.dsb(cpu);
  }

  /** flush_tlb_mm(): TLBI ASIDE1IS + DSB ISH. */
  flushAsid(ctx: AsidContext | undefined, asid: number, cpu: number, sync = true): void {
    const v = this.stats.v;
    v[this.ids.tlbi_asid]!++;
    v[this.ids.tlbi_broadcast]!++;
    this.clock.charge(cpu, this.costs.tlbiIssue);
    if (ctx !== undefined && asid > 0) {
      this.asidEpoch[asid]!++;
      for (const t of this.cores) {
        t.l1.epochChanged();
        t.l2.epochChanged();
      }
      ctx.touched.fill(0);
    }
    if (sync) this.dsb(cpu);
  }

  /** local_flush_tlb_all() on one core (after an ASID rollover). */
  localFlushAll(cpu: number): void {
    const t = this.cores[cpu]!;
    t.l1.invalidateAll();
    t.l2.invalidateAll();
    this.stats.v[this.ids.tlb_local_flush_all]!++;
    this.clock.charge(cpu, this.costs.tlbFlushAll);
  }
}
