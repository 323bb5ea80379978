import { C, PMD_SHIFT, type FlushRequest, type MmStruct } from '@mmsim/core';
import type { X86Hardware } from './hardware.js';
import { mmContext } from './mm-context.js';

/** flushOn() result: pages invalidated one by one, FULL for a full flush, 0 when up to date. */
export const FULL = -1;

/**
 * The flush paths of arch/x86/mm/tlb.c for the kernel's FlushRequests:
 *
 * - range / mm / fullmm → flush_tlb_mm_range(): a range with strideShift 21 is
 *   flush_pmd_tlb_range(), which x86 does not define: include/linux/pgtable.h makes it
 *   flush_tlb_range(), i.e. 512 pages at PAGE_SHIFT with freed_tables (above the ceiling: a
 *   full flush, and lazy CPUs are not skipped); from an mmu_gather (`gather`) the stride is
 *   tlb_get_unmap_shift() as is (a whole THP: 1 entry, INVLPG). fullmm (exit_mmap) finds the
 *   initiator lazy (exit_mm: enter_lazy_tlb) and switches it to init_mm unflushed.
 *   Then: bump mm->context.tlb_gen; flush locally when the mm is loaded here (INVLPG per stride up to the ceiling, else a full flush of the ASID);
 *   when another CPU is in mm_cpumask: count nr_tlb_remote_flush once and IPI the others
 *   (native_flush_tlb_multi / flush_tlb_others), skipping lazy-TLB CPUs unless tables were
 *   freed (should_flush_tlb / tlb_is_not_lazy); the initiator waits for the acks.
 * - batch-add → arch_tlbbatch_add_mm(): bump tlb_gen, OR the mm's cpumask into this CPU's batch.
 * - batch-flush → arch_tlbbatch_flush(): full flush of whatever each CPU of the batch has loaded.
 *
 * Each CPU catches up from its ASID's tlb_gen like flush_tlb_func(): nothing when already up to
 * date, a partial flush only when it is exactly one generation behind, else a full flush.
 */
export class FlushEngine {
  /** per initiating CPU: the CPUs its pending reclaim batch must flush (ncpus x ncpus) */
  private readonly batchMask: Uint8Array;

  constructor(private readonly hw: X86Hardware) {
    this.batchMask = new Uint8Array(hw.ncpus * hw.ncpus);
  }

  request(r: FlushRequest): void {
    const hw = this.hw;
    // the initiator was lazy and skipped earlier: it catches up when it runs again
    if (hw.asid.lazyStale[r.cpu]) hw.lazyCatchUp(r.cpu);
    switch (r.kind) {
      case 'batch-add':
        return this.batchAdd(r.cpu, r.mm!);
      case 'batch-flush':
        return this.batchFlush(r.cpu);
      case 'range': {
        // flush_pmd_tlb_range(): no __HAVE_ARCH_FLUSH_PMD_TLB_RANGE on x86, so flush_tlb_range() (PAGE_SHIFT, freed_tables);
        // tlb_flush() of a gather passes tlb_get_unmap_shift() as is: a whole THP is one 2 MiB stride (016c4d92cd16)
        const pmd = r.strideShift === PMD_SHIFT && !r.gather;
        const unit = pmd ? 1 : 2 ** Math.max(0, r.strideShift - 12);
        const n = Math.ceil((r.end - r.start) / unit);
        const full = r.end >= Number.MAX_SAFE_INTEGER || n > hw.opts.flushCeiling;
        return this.flushMmRange(r.cpu, r.mm!, r.start, r.end, unit, full, r.freedTables || pmd, false);
      }
      case 'mm':
        // flush_tlb_mm(mm) == flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, 0, true)
        return this.flushMmRange(r.cpu, r.mm!, 0, 0, 1, true, true, false);
      case 'fullmm':
        // tlb_flush() with tlb->fullmm: the whole mm, tables freed. exit_mmap() runs from mmput()
        // in exit_mm(), after enter_lazy_tlb() made this CPU lazy (kernel/exit.c)
        return this.flushMmRange(r.cpu, r.mm!, 0, 0, 1, true, true, true);
    }
  }

  private flushMmRange(
    cpu: number,
    mm: MmStruct,
    start: number,
    end: number,
    unit: number,
    full: boolean,
    freedTables: boolean,
    lazyHere: boolean,
  ): void {
    const hw = this.hw;
    const s = hw.sys.stats.v;
    const costs = hw.costs;
    mmContext(mm).tlbGen++; // inc_mm_tlb_gen()
    let cycles = 0;
    let loadedHere = hw.asid.loadedMm[cpu] === mm;
    if (loadedHere && lazyHere) {
      // flush_tlb_func() finds cpu_tlbstate_shared.is_lazy: switch_mm_irqs_off(NULL, &init_mm)
      // instead of a flush: no NR_TLB_LOCAL_FLUSH_*, no local tlb_flush event (a task-switch one)
      hw.switchToInitMm(cpu);
      loadedHere = false;
    } else if (loadedHere) {
      const res = this.flushOn(cpu, mm, full, start, end, unit);
      cycles += this.localCount(res);
    }
    const mask = mm.cpumask;
    let any = false;
    for (let c = 0; c < hw.ncpus; c++) {
      if (c !== cpu && mask[c]) {
        any = true;
        break;
      }
    }
    // counted on the mask as sent (an IPI may clear a stale CPU from it)
    this.countComparable(cpu, mask, loadedHere, full, end - start);
    if (any) {
      s[C.nr_tlb_remote_flush]!++;
      let ipis = 0;
      for (let c = 0; c < hw.ncpus; c++) {
        if (c === cpu || !mask[c]) continue;
        if (this.sendIpi(c, mm, full, start, end, unit, freedTables)) ipis++;
      }
      if (ipis > 0) cycles += costs.ipiSend + (ipis - 1) * costs.ipiPerTarget;
    }
    if (cycles > 0) hw.sys.clock.charge(cpu, cycles);
  }

  /**
   * The architecture-neutral counters (docs/counters.md, "Comparable across architectures"),
   * once per flush_tlb_mm_range() / arch_tlbbatch_flush(): remote when `mask` has a CPU other
   * than the initiator (exactly when nr_tlb_remote_flush is counted), else local when the
   * initiator flushed its own TLB; `pages` (base pages of a range) or full.
   */
  private countComparable(cpu: number, mask: Uint8Array, loadedHere: boolean, full: boolean, pages: number): void {
    const hw = this.hw;
    const s = hw.sys.stats.v;
    const ids = hw.ids;
    let others = 0;
    for (let c = 0; c < hw.ncpus; c++) if (c !== cpu && mask[c]) others++;
    if (others > 0) {
      s[ids.tlb_remote_inval]!++;
      s[ids.tlb_remote_inval_cpus]! += others;
    } else if (loadedHere) {
      s[ids.tlb_local_inval]!++;
    } else {
      return;
    }
    if (full) s[ids.tlb_inval_full]!++;
    else s[ids.tlb_inval_pages]! += pages;
  }

  /** One target of a shootdown. Returns whether an IPI was sent. */
  private sendIpi(
    c: number,
    mm: MmStruct | null,
    full: boolean,
    start: number,
    end: number,
    unit: number,
    freedTables: boolean,
  ): boolean {
    const hw = this.hw;
    const s = hw.sys.stats.v;
    const lazy = hw.isLazy(c);
    // a CPU left in mm_cpumask by a lazy switch_mm_irqs_off() (209954cbc7d0) runs another mm
    const other = mm !== null && hw.asid.loadedMm[c] !== mm;
    if (lazy && hw.opts.lazyTlbSkip && !freedTables) {
      // should_flush_tlb() is false: no IPI; the CPU catches up when it leaves lazy mode
      if (!other) hw.asid.lazyStale[c] = 1;
      s[hw.ids.tlb_lazy_skip]!++;
      return false;
    }
    // should_flush_tlb(): another mm loaded and no trim_cpumask. should_trim_cpumask() is true at most once
    // a second, never in an mm's first second (init_new_context: next_trim_cpumask = jiffies + HZ; 6db2526c1d69):
    // every scenario is shorter, so the trim is not modelled
    if (other && !freedTables) return false;
    s[C.nr_tlb_remote_flush_received]!++;
    s[hw.ids.ipi_sent]!++;
    let cycles = hw.costs.ipiHandle;
    if (other) {
      // flush_tlb_func(): f->mm is not loaded here, so clear this CPU from its mm_cpumask
      mm.cpumask[c] = 0;
    } else if (lazy) {
      // flush_tlb_func() on a lazy CPU switches to init_mm; the mm's ASID is then stale
      // and gets a full flush when the CPU next uses the mm (the same as a deferred catch-up)
      hw.asid.lazyStale[c] = 1;
    } else {
      const res = this.flushOn(c, mm, full, start, end, unit);
      cycles += res === FULL ? hw.costs.tlbFlushAll : res * hw.costs.tlbFlushOne;
    }
    hw.sys.clock.chargeRemote(c, cycles);
    return true;
  }

  /** Count a local flush as flush_tlb_func() does (local only) and return its cycles. */
  private localCount(res: number): number {
    const hw = this.hw;
    const s = hw.sys.stats.v;
    if (res === FULL) {
      s[C.nr_tlb_local_flush_all]!++;
      return hw.costs.tlbFlushAll;
    }
    if (res > 0) {
      s[C.nr_tlb_local_flush_one]! += res;
      return res * hw.costs.tlbFlushOne;
    }
    return 0;
  }

  /**
   * flush_tlb_func() on CPU c for mm (null: whatever c has loaded, as arch_tlbbatch_flush
   * asks). Brings the ASID's tlb_gen up to the mm's.
   */
  flushOn(c: number, mmIn: MmStruct | null, full: boolean, start: number, end: number, unit: number): number {
    const hw = this.hw;
    const asid = hw.asid;
    const mm = mmIn ?? asid.loadedMm[c];
    if (!mm) return 0;
    const ctx = mmContext(mm);
    const slot = asid.loadedMm[c] === mm ? asid.loadedAsid[c]! : asid.slotOf(c, ctx.ctxId);
    if (slot < 0) return 0;
    const g = c * asid.slots + slot;
    const local = asid.gen[g]!;
    const target = ctx.tlbGen;
    if (local >= target) return 0;
    asid.gen[g] = target;
    if (!full && target === local + 1) {
      let n = 0;
      for (let v = start; v < end; v += unit) {
        hw.tlb.invalidateTlbPage(c, slot, v);
        n++;
      }
      hw.tlb.invalidatePsc(c, slot);
      return n;
    }
    hw.tlb.invalidateAsid(c, slot);
    return FULL;
  }

  private batchAdd(cpu: number, mm: MmStruct): void {
    const n = this.hw.ncpus;
    mmContext(mm).tlbGen++;
    const row = cpu * n;
    const mask = mm.cpumask;
    for (let c = 0; c < n; c++) if (mask[c]) this.batchMask[row + c] = 1;
  }

  private batchFlush(cpu: number): void {
    const hw = this.hw;
    const n = hw.ncpus;
    const row = cpu * n;
    const bm = this.batchMask;
    let cycles = 0;
    if (bm[row + cpu]) cycles += this.localCount(this.flushOn(cpu, null, true, 0, 0, 1));
    let any = false;
    for (let c = 0; c < n; c++) {
      if (c !== cpu && bm[row + c]) {
        any = true;
        break;
      }
    }
    if (any) {
      hw.sys.stats.v[C.nr_tlb_remote_flush]!++;
      let ipis = 0;
      for (let c = 0; c < n; c++) {
        if (c === cpu || !bm[row + c]) continue;
        if (this.sendIpi(c, null, true, 0, 0, 1, false)) ipis++;
      }
      if (ipis > 0) cycles += hw.costs.ipiSend + (ipis - 1) * hw.costs.ipiPerTarget;
    }
    this.countComparable(cpu, bm.subarray(row, row + n), bm[row + cpu] === 1, true, 0);
    bm.fill(0, row, row + n);
    if (cycles > 0) hw.sys.clock.charge(cpu, cycles);
  }
}
