/**
 * One set-associative TLB array (an L1 micro-TLB or the L2 main TLB of one core). Entries are
 * tagged with (ASID, block base VPN, size): a size of 2^shift base pages lets one entry hold
 * a contpte block, an HPA-coalesced group or a PMD mapping. All state lives in typed arrays;
 * lookups, fills and invalidations allocate nothing.
 *
 * ASID-wide invalidation (TLBI ASIDE1IS) is O(1): an entry is live only while the global
 * epoch of its ASID (`asidEpoch`, shared by every core) equals the epoch it was filled under.
 * Whoever bumps an epoch calls `epochChanged()`; the next fill then frees the stale ways.
 *
 * Every operation on one entry is constant time, also for wide (fully associative) arrays: a
 * chained hash from (ASID, base, size) to the slot, an LRU list per set (most recent first), and
 * a bitmap of the free ways of each set. Replacement is exactly that of a scan: the lowest free
 * way of the set, else its least recently used way.
 */
export class TlbArray {
  readonly size: number;
  readonly sets: number;
  private readonly setMask: number;
  private readonly vpn: Float64Array;
  private readonly asid: Int32Array;
  private readonly epoch: Int32Array;
  readonly pfn: Int32Array;
  readonly shift: Uint8Array;
  readonly writable: Uint8Array;
  /** bit s set: an entry of 2^s pages was ever inserted (lookups skip the other sizes) */
  private usedShifts = 0;
  /** hash chains: bucket heads and next links, as slot + 1 (0 ends) */
  private readonly bucket: Int32Array;
  private readonly chain: Int32Array;
  private readonly hmask: number;
  /** LRU lists: links per slot and head (MRU) / tail (LRU) per set, -1 ends */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  /** free ways per set, `words` 32-bit words each */
  private readonly free: Int32Array;
  private readonly words: number;
  /** entries with asid >= 0 (live, or stale until the next sweep) */
  private valid = 0;
  /** an ASID epoch moved since the last sweep */
  private stale = false;

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
    this.setMask = (this.sets & (this.sets - 1)) === 0 ? this.sets - 1 : -1;
    this.vpn = new Float64Array(entries);
    this.asid = new Int32Array(entries).fill(-1);
    this.epoch = new Int32Array(entries);
    this.pfn = new Int32Array(entries);
    this.shift = new Uint8Array(entries);
    this.writable = new Uint8Array(entries);
    let h = 4;
    while (h < entries * 2) h *= 2;
    this.bucket = new Int32Array(h);
    this.hmask = h - 1;
    this.chain = new Int32Array(entries);
    this.prev = new Int32Array(entries);
    this.next = new Int32Array(entries);
    this.head = new Int32Array(this.sets);
    this.tail = new Int32Array(this.sets);
    this.words = (ways + 31) >>> 5;
    this.free = new Int32Array(this.sets * this.words);
    this.reset();
  }

  private reset(): void {
    this.asid.fill(-1);
    this.bucket.fill(0);
    this.head.fill(-1);
    this.tail.fill(-1);
    const ways = this.ways;
    const words = this.words;
    for (let set = 0; set < this.sets; set++) {
      for (let w = 0; w < words; w++) {
        const left = ways - (w << 5);
        this.free[set * words + w] = left >= 32 ? -1 : (1 << left) - 1;
      }
    }
    this.valid = 0;
    this.stale = false;
  }

  /** The set of an entry of 2^shift pages at `base` (integer arithmetic: base < 2^53). */
  private setOf(base: number, shift: number): number {
    const q = shift === 0 ? base : Math.floor(base / (1 << shift));
    return this.setMask >= 0 ? q & this.setMask : q % this.sets;
  }

  private hash(asid: number, base: number, shift: number): number {
    const lo = base | 0;
    const hi = (base / 4294967296) | 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) ^ Math.imul((asid << 6) + shift + 1, 0x85ebca6b);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    return h & this.hmask;
  }

  private live(e: number, asid: number): boolean {
    return this.asid[e] === asid && this.epoch[e] === this.asidEpoch[asid];
  }

  /** The live entry tagged (asid, base, shift), or -1. */
  private find(asid: number, base: number, shift: number): number {
    for (let c = this.bucket[this.hash(asid, base, shift)]!; c !== 0; c = this.chain[c - 1]!) {
      const e = c - 1;
      if (this.vpn[e] === base && this.shift[e] === shift && this.live(e, asid)) return e;
    }
    return -1;
  }

  /** The entry translating vpn for asid, or -1. Makes it the most recently used of its set. */
  lookup(asid: number, vpn: number): number {
    let used = this.usedShifts;
    for (let s = 0; used !== 0; s++, used >>>= 1) {
      if ((used & 1) === 0) continue;
      const base = vpn - (vpn & ((1 << s) - 1));
      const e = this.find(asid, base, s);
      if (e >= 0) {
        this.touch(this.setOf(base, s), e);
        return e;
      }
    }
    return -1;
  }

  /** Base VPN of entry e. */
  baseOf(e: number): number {
    return this.vpn[e]!;
  }

  /** An ASID epoch moved (TLBI ASIDE1IS): the entries filled under the old one are dead. */
  epochChanged(): void {
    if (this.valid > 0) this.stale = true;
  }

  /** Insert a translation of 2^shift pages at `base` (the lowest free way of its set, else the LRU one). */
  insert(asid: number, base: number, shift: number, pfn: number, writable: boolean): number {
    if (this.stale) this.sweep();
    const set = this.setOf(base, shift);
    const fw = set * this.words;
    let victim = -1;
    for (let w = 0; w < this.words; w++) {
      const bits = this.free[fw + w]!;
      if (bits !== 0) {
        const way = (w << 5) + 31 - Math.clz32(bits & -bits);
        this.free[fw + w] = bits & ~(1 << (way & 31));
        victim = set * this.ways + way;
        break;
      }
    }
    if (victim < 0) {
      victim = this.tail[set]!;
      this.unlink(set, victim);
      this.unhash(victim);
    } else {
      this.valid++;
    }
    this.vpn[victim] = base;
    this.asid[victim] = asid;
    this.epoch[victim] = this.asidEpoch[asid]!;
    this.pfn[victim] = pfn;
    this.shift[victim] = shift;
    this.writable[victim] = writable ? 1 : 0;
    const h = this.hash(asid, base, shift);
    this.chain[victim] = this.bucket[h]!;
    this.bucket[h] = victim + 1;
    this.pushFront(set, victim);
    this.usedShifts |= 1 << shift;
    return victim;
  }

  /** TLBI VAE1 for one page: drop every entry of `asid` that covers vpn. Returns how many. */
  invalidateVa(asid: number, vpn: number): number {
    if (this.valid === 0) return 0;
    let n = 0;
    let used = this.usedShifts;
    for (let s = 0; used !== 0; s++, used >>>= 1) {
      if ((used & 1) === 0) continue;
      const base = vpn - (vpn & ((1 << s) - 1));
      // entries of asid with this tag: at most one live, and stale ones until the next sweep
      let c = this.bucket[this.hash(asid, base, s)]!;
      while (c !== 0) {
        const e = c - 1;
        c = this.chain[e]!;
        if (this.vpn[e] === base && this.shift[e] === s && this.asid[e] === asid) {
          this.kill(e);
          n++;
        }
      }
    }
    return n;
  }

  /** Drop every entry of `asid` intersecting [start, end) (a range TLBI over many pages). */
  invalidateRange(asid: number, start: number, end: number): void {
    if (this.valid === 0) return;
    for (let e = 0; e < this.size; e++) {
      if (this.asid[e] !== asid) continue;
      const v = this.vpn[e]!;
      if (v < end && v + (1 << this.shift[e]!) > start) this.kill(e);
    }
  }

  /** local_flush_tlb_all() */
  invalidateAll(): void {
    this.reset();
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

  /** Free the ways whose ASID epoch moved on. */
  private sweep(): void {
    this.stale = false;
    for (let e = 0; e < this.size; e++) {
      const a = this.asid[e]!;
      if (a >= 0 && this.epoch[e] !== this.asidEpoch[a]) this.kill(e);
    }
  }

  /** Free slot e (valid): out of its hash chain and LRU list, into its set's free ways. */
  private kill(e: number): void {
    const set = Math.floor(e / this.ways);
    const way = e - set * this.ways;
    this.unhash(e);
    this.unlink(set, e);
    this.free[set * this.words + (way >>> 5)]! |= 1 << (way & 31);
    this.asid[e] = -1;
    this.valid--;
  }

  private unhash(e: number): void {
    const h = this.hash(this.asid[e]!, this.vpn[e]!, this.shift[e]!);
    let c = this.bucket[h]!;
    if (c === e + 1) {
      this.bucket[h] = this.chain[e]!;
      return;
    }
    while (this.chain[c - 1] !== e + 1) c = this.chain[c - 1]!;
    this.chain[c - 1] = this.chain[e]!;
  }

  private unlink(set: number, e: number): void {
    const p = this.prev[e]!;
    const n = this.next[e]!;
    if (p >= 0) this.next[p] = n;
    else this.head[set] = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail[set] = p;
  }

  private pushFront(set: number, e: number): void {
    const h = this.head[set]!;
    this.prev[e] = -1;
    this.next[e] = h;
    if (h >= 0) this.prev[h] = e;
    else this.tail[set] = e;
    this.head[set] = e;
  }

  private touch(set: number, e: number): void {
    if (this.head[set] === e) return;
    this.unlink(set, e);
    this.pushFront(set, e);
  }
}
