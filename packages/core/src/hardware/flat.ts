import type { MmSystem } from '../di/system.js';
import type { FlushRequest } from '../hooks/contexts.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { C } from '../stats/counters.js';
import { UNIT_COSTS, type CostProfile } from './cost-profile.js';
import type { HardwareModel } from './hardware.js';
import { checkCpus } from './limits.js';

/**
 * The minimal hardware model for core's own tests: no TLB, unit costs. Flushes are counted
 * with x86's accounting (flush_tlb_mm_range / arch_tlbbatch_flush: a remote flush when another
 * CPU is in mm_cpumask), so the kernel's flush requests can be checked without a real model.
 */
export class FlatHardware implements HardwareModel {
  readonly name = 'flat';
  readonly costs: CostProfile;
  private sys!: MmSystem;
  /** CPUs whose batched reclaim flush targets (union of cpumasks) */
  private batchMask: Uint8Array;
  readonly ncpus: number;

  /** `ncpus`: 1 to MAX_CPUS (checkCpus); the address space is x86-64's (no `taskSize`) */
  constructor(ncpus = 1, costs: Partial<CostProfile> = {}) {
    this.ncpus = checkCpus(ncpus, 1);
    this.costs = { ...UNIT_COSTS, ...costs };
    this.batchMask = new Uint8Array(this.ncpus);
  }

  apply(system: MmSystem): void {
    this.sys = system;
    system.hooks.tlbFlush.request.tap({ name: 'flat-hw', stage: -1000 }, (r) => this.flush(r));
  }

  /** No TLB: every access walks. */
  tlbLookup(_cpu: number, _mm: MmStruct, _vpn: number, _write: boolean): number {
    return -1;
  }

  tlbFill(cpu: number): void {
    this.sys.clock.chargeUser(cpu, this.costs.memAccess);
  }

  /** x86's arch_tlbbatch_should_defer(): defer only if another CPU is in mm_cpumask. */
  tlbbatchShouldDefer(mm: MmStruct, cpu: number): boolean {
    for (let c = 0; c < this.ncpus; c++) if (c !== cpu && mm.cpumask[c]) return true;
    return false;
  }

  private flush(r: FlushRequest): void {
    const s = this.sys.stats.v;
    const cpumask = r.kind === 'batch-flush' ? this.batchMask : r.mm!.cpumask;
    if (r.kind === 'batch-add') {
      for (let c = 0; c < this.ncpus; c++) if (cpumask[c]) this.batchMask[c] = 1;
      return;
    }
    if (r.kind === 'fullmm') return;
    let remote = 0;
    for (let c = 0; c < this.ncpus; c++) {
      if (c !== r.cpu && cpumask[c]) remote++;
    }
    const local = cpumask[r.cpu] === 1;
    const all = r.kind !== 'range' || r.end - r.start > 33;
    if (local) {
      s[all ? C.nr_tlb_local_flush_all : C.nr_tlb_local_flush_one]! += all ? 1 : r.end - r.start;
      this.sys.clock.charge(r.cpu, all ? this.costs.tlbFlushAll : this.costs.tlbFlushOne * (r.end - r.start));
    }
    if (remote > 0) {
      s[C.nr_tlb_remote_flush]!++;
      s[C.nr_tlb_remote_flush_received]! += remote;
      this.sys.clock.charge(r.cpu, this.costs.ipiSend + this.costs.ipiPerTarget * (remote - 1));
    }
    if (r.kind === 'batch-flush') this.batchMask.fill(0);
  }
}
