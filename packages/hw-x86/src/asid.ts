import type { MmStruct } from '@mmsim/core';
import { TLB_NR_DYN_ASIDS } from './constants.js';

/**
 * cpu_tlbstate per CPU (arch/x86/mm/tlb.c): the loaded mm and its ASID slot, and for each of
 * the TLB_NR_DYN_ASIDS slots the ctx_id of the mm that owns it and the tlb_gen its TLB
 * entries are up to date with. Without PCID there is one slot (ASID 0), flushed on every switch.
 */
export class AsidState {
  readonly slots: number;
  readonly ctxId: Float64Array;
  readonly gen: Float64Array;
  readonly nextAsid: Int32Array;
  readonly loadedAsid: Int32Array;
  readonly loadedMm: (MmStruct | null)[];
  /** a shootdown skipped this CPU while lazy: catch up before it next uses the mm */
  readonly lazyStale: Uint8Array;
  /** result of choose(): whether the chosen slot must be flushed */
  needFlush = false;

  constructor(
    readonly ncpus: number,
    readonly pcid: boolean,
  ) {
    this.slots = pcid ? TLB_NR_DYN_ASIDS : 1;
    this.ctxId = new Float64Array(ncpus * this.slots);
    this.gen = new Float64Array(ncpus * this.slots);
    this.nextAsid = new Int32Array(ncpus).fill(1);
    this.loadedAsid = new Int32Array(ncpus);
    this.loadedMm = new Array<MmStruct | null>(ncpus).fill(null);
    this.lazyStale = new Uint8Array(ncpus);
  }

  /**
   * choose_new_asid(): reuse the slot this CPU already gave to ctxId (flush only if its
   * tlb_gen is behind), else take the next slot round-robin (always flush). Sets needFlush.
   */
  choose(cpu: number, ctxId: number, tlbGen: number): number {
    const b = cpu * this.slots;
    if (!this.pcid) {
      this.needFlush = true;
      return 0;
    }
    for (let a = 0; a < this.slots; a++) {
      if (this.ctxId[b + a] === ctxId) {
        this.needFlush = this.gen[b + a]! < tlbGen;
        return a;
      }
    }
    let a = this.nextAsid[cpu]!;
    this.nextAsid[cpu] = a + 1;
    if (a >= this.slots) {
      a = 0;
      this.nextAsid[cpu] = 1;
    }
    this.needFlush = true;
    return a;
  }

  /** The slot of ctxId on cpu, or -1. */
  slotOf(cpu: number, ctxId: number): number {
    const b = cpu * this.slots;
    for (let a = 0; a < this.slots; a++) if (this.ctxId[b + a] === ctxId) return a;
    return -1;
  }
}
