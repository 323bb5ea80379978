/**
 * One set-associative TLB array (or paging-structure cache) for every CPU, with true LRU
 * replacement. All state lives in typed arrays indexed `cpu * entriesPerCpu + set * ways + way`,
 * so lookups and fills allocate nothing.
 *
 * An entry caches one translation of `2^span` base pages: the key is `floor(vpn / 2^span)`,
 * `pfn` is the first frame, `flags` holds WRITABLE and DIRTY, `asid` is the CPU-local ASID slot.
 */
export const TLBF = Object.freeze({ WRITABLE: 1, DIRTY: 2 } as const);

/** ASID slots an array keeps valid-entry counts for (the Int8 range of `asid`). */
export const ASID_COUNT_SLOTS = 128;

/** What the hierarchy needs of a TLB array: the scanned one below or the hashed AssocTlbArray. */
export interface TlbStore {
  readonly name: string;
  readonly ncpus: number;
  readonly entries: number;
  readonly ways: number;
  readonly sets: number;
  readonly perCpu: number;
  readonly key: Float64Array;
  readonly span: Int8Array;
  readonly asid: Int8Array;
  readonly pfn: Float64Array;
  readonly flags: Uint8Array;
  find(cpu: number, asid: number, key: number, span: number): number;
  insert(cpu: number, asid: number, key: number, span: number, pfn: number, flags: number): void;
  invalidate(cpu: number, asid: number, key: number, span: number): number;
  invalidateIndex(i: number): void;
  invalidateAsid(cpu: number, asid: number): void;
  invalidateCpu(cpu: number): void;
  occupancy(cpu: number): number;
}

/** Sets of a geometry: entries a positive multiple of ways, a power-of-two number of sets. */
export function setsOf(name: string, entries: number, ways: number): number {
  if (!Number.isInteger(entries) || !Number.isInteger(ways) || entries <= 0 || ways <= 0 || entries % ways !== 0) {
    throw new Error(`${name}: ${entries} entries is not a positive multiple of ${ways} ways`);
  }
  const sets = entries / ways;
  if ((sets & (sets - 1)) !== 0) throw new Error(`${name}: ${sets} sets is not a power of two`);
  return sets;
}

export class TlbArray implements TlbStore {
  readonly sets: number;
  readonly perCpu: number;
  private readonly setMask: number;
  readonly key: Float64Array;
  readonly span: Int8Array;
  readonly asid: Int8Array;
  readonly pfn: Float64Array;
  readonly flags: Uint8Array;
  private readonly stamp: Float64Array;
  private tick = 0;
  /** valid entries per CPU, and per CPU and ASID slot: flushes of empty ones do nothing */
  private readonly cpuCount: Int32Array;
  private readonly asidCount: Int32Array;
  /** per CPU: the slot last found or filled (the same upper-level entries recur fault after fault) */
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
    this.stamp = new Float64Array(n);
    this.cpuCount = new Int32Array(ncpus);
    this.asidCount = new Int32Array(ncpus * ASID_COUNT_SLOTS);
    this.memo = new Int32Array(ncpus).fill(-1);
  }

  /** The memoised slot of `cpu` when it holds (asid, key, span), else -1. Tags are unique in a
   *  set (insert replaces a match), so it is the slot a scan would find. */
  private memoSlot(cpu: number, asid: number, key: number, span: number): number {
    const m = this.memo[cpu]!;
    return m >= 0 && asid >= 0 && this.key[m] === key && this.asid[m] === asid && this.span[m] === span ? m : -1;
  }

  /** First slot of the set holding `key` on `cpu`. (`key & mask` is exact below 2^53.) */
  private base(cpu: number, key: number): number {
    return cpu * this.perCpu + (key & this.setMask) * this.ways;
  }

  /** Index of the valid entry for (asid, key, span), marking it most recently used; -1 if none. */
  find(cpu: number, asid: number, key: number, span: number): number {
    if (asid >= 0 && this.cpuCount[cpu] === 0) return -1;
    const m = this.memoSlot(cpu, asid, key, span);
    if (m >= 0) {
      this.stamp[m] = ++this.tick;
      return m;
    }
    const b = this.base(cpu, key);
    const e = b + this.ways;
    for (let i = b; i < e; i++) {
      if (this.key[i] === key && this.asid[i] === asid && this.span[i] === span) {
        this.stamp[i] = ++this.tick;
        this.memo[cpu] = i;
        return i;
      }
    }
    return -1;
  }

  /** Cache a translation, replacing a matching entry, else an invalid one, else the LRU one. */
  insert(cpu: number, asid: number, key: number, span: number, pfn: number, flags: number): void {
    const m = this.memoSlot(cpu, asid, key, span);
    if (m >= 0) {
      // the match a scan would replace in place
      this.pfn[m] = pfn;
      this.flags[m] = flags;
      this.stamp[m] = ++this.tick;
      return;
    }
    const b = this.base(cpu, key);
    const e = b + this.ways;
    let victim = -1;
    let free = -1;
    let lru = b;
    let oldest = Infinity;
    for (let i = b; i < e; i++) {
      if (this.asid[i]! < 0) {
        if (free < 0) free = i;
        continue;
      }
      if (this.key[i] === key && this.asid[i] === asid && this.span[i] === span) {
        victim = i;
        break;
      }
      if (this.stamp[i]! < oldest) {
        oldest = this.stamp[i]!;
        lru = i;
      }
    }
    if (victim < 0) victim = free >= 0 ? free : lru;
    this.uncount(cpu, victim);
    this.cpuCount[cpu]!++;
    this.asidCount[cpu * ASID_COUNT_SLOTS + (asid & 127)]!++;
    this.key[victim] = key;
    this.asid[victim] = asid;
    this.span[victim] = span;
    this.pfn[victim] = pfn;
    this.flags[victim] = flags;
    this.stamp[victim] = ++this.tick;
    this.memo[cpu] = victim;
  }

  /** Drop the entry for (asid, key, span) if cached. Returns 1 when one was dropped. */
  invalidate(cpu: number, asid: number, key: number, span: number): number {
    if (asid >= 0 && this.cpuCount[cpu] === 0) return 0;
    const m = this.memoSlot(cpu, asid, key, span);
    if (m >= 0) {
      this.kill(m);
      return 1;
    }
    const b = this.base(cpu, key);
    const e = b + this.ways;
    for (let i = b; i < e; i++) {
      if (this.key[i] === key && this.asid[i] === asid && this.span[i] === span) {
        this.kill(i);
        return 1;
      }
    }
    return 0;
  }

  invalidateIndex(i: number): void {
    this.kill(i);
  }

  /** Drop every entry of one ASID slot of `cpu` (a CR3 write with flush / INVPCID single-context). */
  invalidateAsid(cpu: number, asid: number): void {
    // an invalid entry already has asid -1: nothing to drop for a negative slot
    if (asid < 0) return;
    let left = this.asidCount[cpu * ASID_COUNT_SLOTS + (asid & 127)]!;
    const b = cpu * this.perCpu;
    const e = b + this.perCpu;
    for (let i = b; i < e && left > 0; i++) {
      if (this.asid[i] === asid) {
        this.kill(i);
        left--;
      }
    }
  }

  /** Drop everything cached on `cpu`. */
  invalidateCpu(cpu: number): void {
    if (this.cpuCount[cpu] === 0) return;
    const b = cpu * this.perCpu;
    const e = b + this.perCpu;
    for (let i = b; i < e; i++) this.kill(i);
  }

  /** Valid entries on `cpu` (for describe()). */
  occupancy(cpu: number): number {
    return this.cpuCount[cpu]!;
  }

  private uncount(cpu: number, i: number): void {
    const a = this.asid[i]!;
    if (a < 0) return;
    this.cpuCount[cpu]!--;
    this.asidCount[cpu * ASID_COUNT_SLOTS + a]!--;
  }

  private kill(i: number): void {
    this.uncount(Math.floor(i / this.perCpu), i);
    this.asid[i] = -1;
    this.key[i] = -1;
  }
}
