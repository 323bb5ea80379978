import { CORE_COUNTERS } from './counters.js';

/** Event counters, vmstat style. Plugins register their own with `define()`. */
export class Stats {
  private readonly names: string[] = [...CORE_COUNTERS];
  private readonly ids = new Map<string, number>(CORE_COUNTERS.map((n, i) => [n, i]));
  v = new Float64Array(Math.max(64, CORE_COUNTERS.length * 2));

  /** Register (or look up) a counter; returns its id for hot-path increments. */
  define(name: string): number {
    const have = this.ids.get(name);
    if (have !== undefined) return have;
    const id = this.names.length;
    this.names.push(name);
    this.ids.set(name, id);
    if (id >= this.v.length) {
      const n = new Float64Array(this.v.length * 2);
      n.set(this.v);
      this.v = n;
    }
    return id;
  }
  add(id: number, n = 1): void {
    this.v[id]! += n;
  }
  get(name: string): number {
    const id = this.ids.get(name);
    return id === undefined ? 0 : this.v[id]!;
  }
  snapshot(): Float64Array {
    return this.v.slice(0, this.names.length);
  }
  /** Non-zero counters as a record, optionally as the difference from a snapshot. */
  toRecord(since?: Float64Array): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.names.length; i++) {
      const d = this.v[i]! - (since && i < since.length ? since[i]! : 0);
      if (d !== 0) out[this.names[i]!] = d;
    }
    return out;
  }
  counterNames(): readonly string[] {
    return this.names;
  }
}

/**
 * The cost clock. Cycles are charged to the CPU doing the work. `cycles` is the time seen by
 * the acting threads (initiators, including waits such as IPI acknowledgements); work done on
 * other CPUs on their behalf (IPI handlers) is kept per CPU. `userCycles` is the part of
 * `cycles` spent in user mode (chargeUser(): the accesses' TLB hits and page walks, the
 * scenario's `compute`), like perf's `cycles:u`; the rest is kernel time (`cycles:k`).
 */
export class CostClock {
  cycles = 0;
  /** the user-mode part of `cycles` */
  userCycles = 0;
  byCpu: Float64Array;
  private remoteObservers: Array<(cpu: number, cycles: number) => void> = [];
  constructor(ncpus: number) {
    this.byCpu = new Float64Array(ncpus);
  }
  /**
   * Observe chargeRemote(): `fn(cpu, cycles)` runs before the charge is added, so
   * `byCpu[cpu]` is then the time the remote work starts on that CPU's time line (tools such
   * as @mmsim/trace; the hardware models need not know). Returns the function that stops it.
   */
  observeRemote(fn: (cpu: number, cycles: number) => void): () => void {
    this.remoteObservers = [...this.remoteObservers, fn];
    return () => {
      this.remoteObservers = this.remoteObservers.filter((f) => f !== fn);
    };
  }
  /** Charge the acting CPU. */
  charge(cpu: number, c: number): void {
    this.cycles += c;
    this.byCpu[cpu]! += c;
  }
  /**
   * Charge the acting CPU for user-mode work: a user access (load/store, the TLB lookup, the
   * hardware page walk of a miss) or the workload's own computation. Counts in `cycles` too.
   */
  chargeUser(cpu: number, c: number): void {
    this.cycles += c;
    this.userCycles += c;
    this.byCpu[cpu]! += c;
  }
  /** Charge a CPU that works on someone else's behalf (not on the acting thread's path). */
  chargeRemote(cpu: number, c: number): void {
    const obs = this.remoteObservers;
    for (let i = 0; i < obs.length; i++) obs[i]!(cpu, c);
    this.byCpu[cpu]! += c;
  }
}
