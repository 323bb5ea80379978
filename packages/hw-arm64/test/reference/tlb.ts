/* Reference model: the TLB array as it was before the constant-time rewrite (mmsim issue 12),
 * kept verbatim for the differential tests (tlb-differential.test.ts). Do not optimise. */
/**
 * One set-associative TLB array (an L1 micro-TLB or the L2 main TLB of one core). Entries are
 * tagged with (ASID, block base VPN, size): a size of 2^shift base pages lets one entry hold
 * a contpte block, an HPA-coalesced group or a PMD mapping. All state lives in typed arrays;
 * lookups, fills and invalidations allocate nothing.
 *
 * ASID-wide invalidation (TLBI ASIDE1IS) is O(1): an entry is live only while the global
 * epoch of its ASID (`asidEpoch`, shared by every core) equals the epoch it was filled under.
 */
export class RefTlbArray {
  readonly size: number;
  readonly sets: number;
  private readonly vpn: Float64Array;
  private readonly asid: Int32Array;
  private readonly epoch: Int32Array;
  readonly pfn: Int32Array;
  readonly shift: Uint8Array;
  readonly writable: Uint8Array;
  private readonly stamp: Float64Array;
  private clock = 0;
  /** bit s set: an entry of 2^s pages was ever inserted (lookups skip the other sizes) */
  private usedShifts = 0;

  constructor(
    entries: number,
    readonly ways: number,
    private readonly asidEpoch: Int32Array,
  ) {
    if (!Number.isInteger(entries) || !Number.isInteger(ways) || entries <= 0 || ways <= 0 || entries % ways !== 0) {
      throw new Error(`TLB geometry: ${entries} entries is not a multiple of ${ways} ways`);
    }
    this.size = entries;
    this.sets = entries / ways;
    this.vpn = new Float64Array(entries);
    this.asid = new Int32Array(entries).fill(-1);
    this.epoch = new Int32Array(entries);
    this.pfn = new Int32Array(entries);
    this.shift = new Uint8Array(entries);
    this.writable = new Uint8Array(entries);
    this.stamp = new Float64Array(entries);
  }

  private setOf(base: number, shift: number): number {
    return (Math.floor(base / (1 << shift)) % this.sets) * this.ways;
  }

  private live(e: number, asid: number): boolean {
    return this.asid[e] === asid && this.epoch[e] === this.asidEpoch[asid];
  }

  /** The entry translating vpn for asid, or -1. Refreshes its LRU stamp. */
  lookup(asid: number, vpn: number): number {
    let used = this.usedShifts;
    for (let s = 0; used !== 0; s++, used >>>= 1) {
      if ((used & 1) === 0) continue;
      const size = 1 << s;
      const base = vpn - (vpn % size);
      const b = this.setOf(base, s);
      for (let w = 0; w < this.ways; w++) {
        const e = b + w;
        if (this.vpn[e] === base && this.shift[e] === s && this.live(e, asid)) {
          this.stamp[e] = ++this.clock;
          return e;
        }
      }
    }
    return -1;
  }

  /** Base VPN of entry e. */
  baseOf(e: number): number {
    return this.vpn[e]!;
  }

  /** Insert a translation of 2^shift pages at `base` (replacing the LRU way of its set). */
  insert(asid: number, base: number, shift: number, pfn: number, writable: boolean): number {
    const b = this.setOf(base, shift);
    let victim = b;
    let oldest = Infinity;
    for (let w = 0; w < this.ways; w++) {
      const e = b + w;
      const a = this.asid[e]!;
      if (a < 0 || this.epoch[e] !== this.asidEpoch[a]) {
        victim = e;
        break;
      }
      if (this.stamp[e]! < oldest) {
        oldest = this.stamp[e]!;
        victim = e;
      }
    }
    this.vpn[victim] = base;
    this.asid[victim] = asid;
    this.epoch[victim] = this.asidEpoch[asid]!;
    this.pfn[victim] = pfn;
    this.shift[victim] = shift;
    this.writable[victim] = writable ? 1 : 0;
    this.stamp[victim] = ++this.clock;
    this.usedShifts |= 1 << shift;
    return victim;
  }

  /** TLBI VAE1 for one page: drop every entry of `asid` that covers vpn. Returns how many. */
  invalidateVa(asid: number, vpn: number): number {
    let n = 0;
    let used = this.usedShifts;
    for (let s = 0; used !== 0; s++, used >>>= 1) {
      if ((used & 1) === 0) continue;
      const size = 1 << s;
      const base = vpn - (vpn % size);
      const b = this.setOf(base, s);
      for (let w = 0; w < this.ways; w++) {
        const e = b + w;
        if (this.vpn[e] === base && this.shift[e] === s && this.asid[e] === asid) {
          this.asid[e] = -1;
          n++;
        }
      }
    }
    return n;
  }

  /** Drop every entry of `asid` intersecting [start, end) (a range TLBI over many pages). */
  invalidateRange(asid: number, start: number, end: number): void {
    for (let e = 0; e < this.size; e++) {
      if (this.asid[e] !== asid) continue;
      const v = this.vpn[e]!;
      if (v < end && v + (1 << this.shift[e]!) > start) this.asid[e] = -1;
    }
  }

  /** local_flush_tlb_all() */
  invalidateAll(): void {
    this.asid.fill(-1);
  }

  /** Live entries and the base pages they map (TLB reach), for `asid` or all ASIDs (-1). */
  reach(asid = -1): { entries: number; pages: number } {
    let entries = 0;
    let pages = 0;
    for (let e = 0; e < this.size; e++) {
      const a = this.asid[e]!;
      if (a < 0 || this.epoch[e] !== this.asidEpoch[a] || (asid >= 0 && a !== asid)) continue;
      entries++;
      pages += 1 << this.shift[e]!;
    }
    return { entries, pages };
  }
}
