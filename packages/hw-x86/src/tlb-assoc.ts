import { ASID_COUNT_SLOTS, setsOf, type TlbStore } from './tlb-array.js';

/**
 * A TLB array with many ways per set (the fully associative paging-structure caches, SDM
 * 4.10.3), in constant time per operation. It behaves exactly like the scanned TlbArray: the
 * same slot for every entry, true LRU within a set, a free slot taken lowest way first, a
 * matching entry replaced in place. Per CPU it keeps an open-addressing hash (linear probing)
 * from (key, asid, span) to slot, an intrusive LRU list per set (most recent at the head), a
 * bitmap of free ways per set, valid-entry counts, and the last slot found (memo).
 */
export class AssocTlbArray implements TlbStore {
  readonly sets: number;
  readonly perCpu: number;
  private readonly setMask: number;
  readonly key: Float64Array;
  readonly span: Int8Array;
  readonly asid: Int8Array;
  readonly pfn: Float64Array;
  readonly flags: Uint8Array;
  /** LRU list links per slot, and head (MRU) / tail (LRU) per (cpu, set); -1 ends */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  /** free ways per (cpu, set), `words` 32-bit words each */
  private readonly free: Int32Array;
  private readonly words: number;
  /** hash buckets per CPU: slot + 1, 0 = empty */
  private readonly bucket: Int32Array;
  private readonly tsize: number;
  private readonly tmask: number;
  private readonly cpuCount: Int32Array;
  private readonly asidCount: Int32Array;
  private readonly memo: Int32Array;

  constructor(
    readonly name: string,
    readonly ncpus: number,
    readonly entries: number,
    readonly ways: number,
  ) {
    this.sets = setsOf(name, entries, ways);
    this.setMask = this.sets - 1;
    this.perCpu = entries;
    const n = ncpus * entries;
    this.key = new Float64Array(n).fill(-1);
    this.span = new Int8Array(n);
    this.asid = new Int8Array(n).fill(-1);
    this.pfn = new Float64Array(n);
    this.flags = new Uint8Array(n);
    this.prev = new Int32Array(n).fill(-1);
    this.next = new Int32Array(n).fill(-1);
    this.head = new Int32Array(ncpus * this.sets).fill(-1);
    this.tail = new Int32Array(ncpus * this.sets).fill(-1);
    this.words = (ways + 31) >>> 5;
    this.free = new Int32Array(ncpus * this.sets * this.words);
    for (let ls = 0; ls < ncpus * this.sets; ls++) {
      for (let w = 0; w < ways; w++) this.free[ls * this.words + (w >>> 5)]! |= 1 << (w & 31);
    }
    let t = 4;
    while (t < entries * 4) t *= 2;
    this.tsize = t;
    this.tmask = t - 1;
    this.bucket = new Int32Array(ncpus * t);
    this.cpuCount = new Int32Array(ncpus);
    this.asidCount = new Int32Array(ncpus * ASID_COUNT_SLOTS);
    this.memo = new Int32Array(ncpus).fill(-1);
  }

  private hash(key: number, asid: number, span: number): number {
    const lo = key | 0;
    const hi = (key / 4294967296) | 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) ^ Math.imul(asid + (span << 8) + 1, 0x85ebca6b);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    return h & this.tmask;
  }

  /** The valid slot of (asid, key, span) on cpu, or -1. (Keys are unique per CPU: insert replaces a match.) */
  private slotOf(cpu: number, asid: number, key: number, span: number): number {
    const m = this.memo[cpu]!;
    if (m >= 0 && this.key[m] === key && this.asid[m] === asid && this.span[m] === span) return m;
    const base = cpu * this.tsize;
    let h = this.hash(key, asid, span);
    for (;;) {
      const v = this.bucket[base + h]!;
      if (v === 0) return -1;
      const s = v - 1;
      if (this.key[s] === key && this.asid[s] === asid && this.span[s] === span) return s;
      h = (h + 1) & this.tmask;
    }
  }

  private addHash(cpu: number, s: number): void {
    const base = cpu * this.tsize;
    let h = this.hash(this.key[s]!, this.asid[s]!, this.span[s]!);
    while (this.bucket[base + h] !== 0) h = (h + 1) & this.tmask;
    this.bucket[base + h] = s + 1;
  }

  /** Remove slot s (still holding its tag) from the hash: linear probing's backward-shift delete. */
  private removeHash(cpu: number, s: number): void {
    const base = cpu * this.tsize;
    const mask = this.tmask;
    let i = this.hash(this.key[s]!, this.asid[s]!, this.span[s]!);
    while (this.bucket[base + i] !== s + 1) i = (i + 1) & mask;
    let k = i;
    for (;;) {
      this.bucket[base + i] = 0;
      for (;;) {
        k = (k + 1) & mask;
        const v = this.bucket[base + k]!;
        if (v === 0) return;
        const home = this.hash(this.key[v - 1]!, this.asid[v - 1]!, this.span[v - 1]!);
        if (((k - home) & mask) >= ((k - i) & mask)) {
          this.bucket[base + i] = v;
          i = k;
          break;
        }
      }
    }
  }

  private unlink(ls: number, s: number): void {
    const p = this.prev[s]!;
    const n = this.next[s]!;
    if (p >= 0) this.next[p] = n;
    else this.head[ls] = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail[ls] = p;
  }

  private pushFront(ls: number, s: number): void {
    const h = this.head[ls]!;
    this.prev[s] = -1;
    this.next[s] = h;
    if (h >= 0) this.prev[h] = s;
    else this.tail[ls] = s;
    this.head[ls] = s;
  }

  /** A use: the entry becomes the most recently used of its set. */
  private touch(ls: number, s: number): void {
    if (this.head[ls] === s) return;
    this.unlink(ls, s);
    this.pushFront(ls, s);
  }

  private listOf(cpu: number, key: number): number {
    return cpu * this.sets + (key & this.setMask);
  }

  find(cpu: number, asid: number, key: number, span: number): number {
    const s = this.slotOf(cpu, asid, key, span);
    if (s < 0) return -1;
    this.touch(this.listOf(cpu, key), s);
    this.memo[cpu] = s;
    return s;
  }

  insert(cpu: number, asid: number, key: number, span: number, pfn: number, flags: number): void {
    const ls = this.listOf(cpu, key);
    let s = this.slotOf(cpu, asid, key, span);
    if (s >= 0) {
      this.pfn[s] = pfn;
      this.flags[s] = flags;
      this.touch(ls, s);
      this.memo[cpu] = s;
      return;
    }
    const fw = ls * this.words;
    let way = -1;
    for (let w = 0; w < this.words; w++) {
      const bits = this.free[fw + w]!;
      if (bits !== 0) {
        way = (w << 5) + 31 - Math.clz32(bits & -bits);
        break;
      }
    }
    if (way >= 0) {
      s = cpu * this.perCpu + (ls - cpu * this.sets) * this.ways + way;
      this.free[fw + (way >>> 5)]! &= ~(1 << (way & 31));
    } else {
      s = this.tail[ls]!;
      this.unlink(ls, s);
      this.removeHash(cpu, s);
      this.cpuCount[cpu]!--;
      this.asidCount[cpu * ASID_COUNT_SLOTS + this.asid[s]!]!--;
    }
    this.key[s] = key;
    this.asid[s] = asid;
    this.span[s] = span;
    this.pfn[s] = pfn;
    this.flags[s] = flags;
    this.addHash(cpu, s);
    this.pushFront(ls, s);
    this.cpuCount[cpu]!++;
    this.asidCount[cpu * ASID_COUNT_SLOTS + (asid & 127)]!++;
    this.memo[cpu] = s;
  }

  invalidate(cpu: number, asid: number, key: number, span: number): number {
    if (this.cpuCount[cpu] === 0) return 0;
    const s = this.slotOf(cpu, asid, key, span);
    if (s < 0) return 0;
    this.kill(cpu, s);
    return 1;
  }

  invalidateIndex(i: number): void {
    this.kill(Math.floor(i / this.perCpu), i);
  }

  invalidateAsid(cpu: number, asid: number): void {
    if (asid < 0) return;
    let left = this.asidCount[cpu * ASID_COUNT_SLOTS + (asid & 127)]!;
    const b = cpu * this.perCpu;
    const e = b + this.perCpu;
    for (let i = b; i < e && left > 0; i++) {
      if (this.asid[i] === asid) {
        this.kill(cpu, i);
        left--;
      }
    }
  }

  invalidateCpu(cpu: number): void {
    if (this.cpuCount[cpu] === 0) return;
    const b = cpu * this.perCpu;
    for (let i = b; i < b + this.perCpu; i++) this.kill(cpu, i);
  }

  occupancy(cpu: number): number {
    return this.cpuCount[cpu]!;
  }

  private kill(cpu: number, s: number): void {
    const a = this.asid[s]!;
    if (a < 0) return;
    const ls = this.listOf(cpu, this.key[s]!);
    this.removeHash(cpu, s);
    this.unlink(ls, s);
    const way = s - cpu * this.perCpu - (ls - cpu * this.sets) * this.ways;
    this.free[ls * this.words + (way >>> 5)]! |= 1 << (way & 31);
    this.cpuCount[cpu]!--;
    this.asidCount[cpu * ASID_COUNT_SLOTS + a]!--;
    this.asid[s] = -1;
    this.key[s] = -1;
  }
}

/** Scan a set of few ways (as the hardware compares them in parallel); hash and list wide ones. */
export const SCAN_WAYS = 8;
