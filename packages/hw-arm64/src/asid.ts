/**
 * The arm64 ASID allocator (arch/arm64/mm/context.c): ASIDs of `bits` bits (16 on most cores,
 * 8 on some), a generation counter above them, a bitmap of the ASIDs handed out in the current
 * generation, per-CPU active and reserved ASIDs, and a per-CPU pending local TLB flush after a
 * rollover. ASIDs are never freed when an mm dies: the bitmap is only reset at rollover.
 * ASID 0 is reserved (init_mm / the reserved TTBR0). KPTI, which uses ASIDs in pairs, is not
 * modelled.
 */
export interface AsidContext {
  /** generation * 2^bits + asid (mm->context.id); 0 before the first switch */
  id: number;
  /** CPUs whose TLBs may hold entries under the current ASID (a simulator shortcut) */
  readonly touched: Uint8Array;
}

export class AsidAllocator {
  readonly numAsids: number;
  private generation: number;
  private readonly map: Uint8Array;
  private readonly active: Float64Array;
  private readonly reserved: Float64Array;
  readonly flushPending: Uint8Array;
  private curIdx = 1;
  rollovers = 0;
  allocations = 0;

  constructor(
    readonly bits: number,
    readonly ncpus: number,
  ) {
    this.numAsids = 2 ** bits;
    if (this.numAsids - 1 <= ncpus) {
      throw new Error(`${bits}-bit ASIDs cannot serve ${ncpus} CPUs (context.c needs more ASIDs than CPUs)`);
    }
    this.generation = this.numAsids;
    this.map = new Uint8Array(this.numAsids);
    this.active = new Float64Array(ncpus);
    this.reserved = new Float64Array(ncpus);
    this.flushPending = new Uint8Array(ncpus);
  }

  asidOf(id: number): number {
    return id % this.numAsids;
  }

  private genOf(id: number): number {
    return id - (id % this.numAsids);
  }

  private flushContext(): void {
    this.map.fill(0);
    for (let i = 0; i < this.ncpus; i++) {
      let asid = this.active[i]!;
      this.active[i] = 0;
      if (asid === 0) asid = this.reserved[i]!;
      this.map[this.asidOf(asid)] = 1;
      this.reserved[i] = asid;
    }
    this.map[0] = 1;
    this.flushPending.fill(1);
  }

  private checkUpdateReserved(asid: number, newasid: number): boolean {
    let hit = false;
    for (let c = 0; c < this.ncpus; c++) {
      if (this.reserved[c] === asid) {
        hit = true;
        this.reserved[c] = newasid;
      }
    }
    return hit;
  }

  private newContext(id: number): number {
    let generation = this.generation;
    if (id !== 0) {
      const newasid = generation + this.asidOf(id);
      if (this.checkUpdateReserved(id, newasid)) return newasid;
      const a = this.asidOf(id);
      if (this.map[a] === 0) {
        this.map[a] = 1;
        return newasid;
      }
    }
    let asid = this.findZero(this.curIdx);
    if (asid < 0) {
      this.generation += this.numAsids;
      generation = this.generation;
      this.rollovers++;
      this.flushContext();
      asid = this.findZero(1);
    }
    this.map[asid] = 1;
    this.curIdx = asid;
    this.allocations++;
    return generation + asid;
  }

  private findZero(from: number): number {
    for (let a = Math.max(1, from); a < this.numAsids; a++) if (this.map[a] === 0) return a;
    return -1;
  }

  /**
   * check_and_switch_context(): the ASID `ctx` runs with on `cpu`. Returns true when the CPU
   * must do local_flush_tlb_all() first (a rollover queued it).
   */
  switchTo(ctx: AsidContext, cpu: number): boolean {
    const id = ctx.id;
    if (id !== 0 && this.genOf(id) === this.generation && this.active[cpu] !== 0) {
      this.active[cpu] = id;
      return false;
    }
    if (id === 0 || this.genOf(id) !== this.generation) {
      const nid = this.newContext(id);
      if (nid % this.numAsids !== id % this.numAsids || id === 0) ctx.touched.fill(0);
      ctx.id = nid;
    }
    let flush = false;
    if (this.flushPending[cpu] === 1) {
      this.flushPending[cpu] = 0;
      flush = true;
    }
    this.active[cpu] = ctx.id;
    return flush;
  }
}
