/**
 * `strict-tlb`: the checker's own hardware model. Every CPU has an unbounded TLB that never
 * evicts, keyed by (mm, page) like a TLB with unlimited PCIDs/ASIDs, so any translation that a
 * flush should have removed is still there when the page is next touched. Each hit is compared
 * with a fresh page walk (`kernel.translate`); a hit the page table no longer agrees with is a
 * missing TLB flush and throws (SimError 'internal'), as hw-x86 / hw-arm64 do with
 * `coherenceCheck: true`.
 *
 * Flush semantics are the ideal ones: a flush of an mm invalidates its entries on every CPU
 * (whatever mm_cpumask says), so only flushes that were never requested are caught.
 * Costs are core's unit costs; this model is for checking, not for figures.
 */
import {
  PTE,
  SimError,
  UNIT_COSTS,
  type CostProfile,
  type FlushRequest,
  type HardwareFactoryOptions,
  type HardwareModel,
  type MmStruct,
  type MmSystem,
} from '@mmsim/core';

interface Entry {
  pfn: number;
  writable: boolean;
  /** the PTE was dirty when the entry was filled */
  dirty: boolean;
}

/** A cached translation the page table no longer agrees with. */
export interface StaleEntry {
  cpu: number;
  mm: MmStruct;
  vpn: number;
  /** what the TLB says */
  pfn: number;
  writable: boolean;
  /** the access that would use the stale entry */
  access: 'read' | 'write';
  /** what a walk finds now for that access (-1: fault) */
  now: number;
}

/** A hardware model that can list its stale entries between kernel operations. */
export interface AuditableHardware {
  audit(): StaleEntry[];
}

export function isAuditable(hw: unknown): hw is AuditableHardware {
  return typeof (hw as Partial<AuditableHardware>).audit === 'function';
}

export class StrictTlbHardware implements HardwareModel, AuditableHardware {
  readonly name = 'strict-tlb';
  readonly costs: CostProfile = { ...UNIT_COSTS };
  /** per CPU: mm id → vpn → entry */
  private readonly tlbs: Array<Map<number, Map<number, Entry>>>;
  private sys!: MmSystem;
  /** stale hits seen (only non-zero when `throwOnStale` is false) */
  staleHits = 0;

  constructor(
    readonly ncpus = 2,
    readonly throwOnStale = true,
  ) {
    this.tlbs = Array.from({ length: ncpus }, () => new Map());
  }

  /** Every TLB empty and no stale hit seen, as when made (a reused system's next run: fuzz/run.ts). */
  reset(): void {
    for (const m of this.tlbs) m.clear();
    this.staleHits = 0;
  }

  apply(system: MmSystem): void {
    this.sys = system;
    system.hooks.tlbFlush.request.tap({ name: 'strict-tlb', stage: -1000 }, (r) => this.flush(r));
    system.hooks.mm.destroyed.tap({ name: 'strict-tlb', stage: 1000 }, (mm) => this.dropMm(mm.id));
  }

  tlbLookup(cpu: number, mm: MmStruct, vpn: number, write: boolean): number {
    const e = this.tlbs[cpu]!.get(mm.id)?.get(vpn);
    // a write through an entry cached clean re-walks to set the dirty bit (x86 and arm64 HAFDBS):
    // hitting it would leave the PTE clean and reclaim would drop the write
    if (!e || (write && (!e.writable || !e.dirty))) return -1;
    const k = this.sys.kernel;
    const now = k.translate(mm, vpn, write);
    if (now !== e.pfn) {
      this.staleHits++;
      if (this.throwOnStale) {
        throw new SimError(
          `stale TLB entry: cpu ${cpu} translates page 0x${vpn.toString(16)} of mm ${mm.id} to pfn ${e.pfn} for a ${write ? 'write' : 'read'}, ` +
            `but the page table now ${now < 0 ? 'does not permit the access' : `maps pfn ${now}`} and no TLB flush covered it`,
          'internal',
        );
      }
    }
    this.sys.clock.chargeUser(cpu, this.costs.memAccess);
    return e.pfn;
  }

  tlbFill(
    cpu: number,
    mm: MmStruct,
    vpn: number,
    pfn: number,
    writable: boolean,
    _leafShift: number,
    pteSlot: number,
  ): void {
    let m = this.tlbs[cpu]!.get(mm.id);
    if (!m) this.tlbs[cpu]!.set(mm.id, (m = new Map()));
    m.set(vpn, { pfn, writable, dirty: (this.sys.kernel.pt.fl[pteSlot]! & PTE.dirty) !== 0 });
    this.sys.clock.chargeUser(cpu, this.costs.memAccess + this.costs.walkLevel * 4);
  }

  /**
   * Entries that disagree with the page tables. Between kernel operations every flush the
   * kernel owed has been issued, so there must be none: a cached entry may be less permissive
   * than the PTE (a write-protect lifted without a flush is legal), never map another frame or
   * allow a write the PTE no longer allows.
   */
  audit(): StaleEntry[] {
    const k = this.sys.kernel;
    const out: StaleEntry[] = [];
    const mms = new Map<number, MmStruct>();
    for (const mm of k.mms) mms.set(mm.id, mm);
    this.tlbs.forEach((t, cpu) => {
      for (const [id, m] of t) {
        const mm = mms.get(id);
        if (!mm) continue;
        for (const [vpn, e] of m) {
          const r = k.translate(mm, vpn, false);
          if (r !== e.pfn) out.push({ cpu, mm, vpn, pfn: e.pfn, writable: e.writable, access: 'read', now: r });
          else if (e.writable) {
            const w = k.translate(mm, vpn, true);
            if (w !== e.pfn) out.push({ cpu, mm, vpn, pfn: e.pfn, writable: true, access: 'write', now: w });
          }
        }
      }
    });
    return out;
  }

  private flush(r: FlushRequest): void {
    switch (r.kind) {
      case 'batch-add':
        return; // deferred until the batch flush
      case 'batch-flush':
        for (const mm of this.sys.kernel.cpus[r.cpu]!.tlbUbc.mms) this.dropMm(mm.id);
        return;
      case 'mm':
      case 'fullmm':
        if (r.mm) this.dropMm(r.mm.id);
        return;
      case 'range': {
        if (!r.mm) return;
        const id = r.mm.id;
        for (const t of this.tlbs) {
          const m = t.get(id);
          if (!m) continue;
          if (r.end - r.start > m.size) {
            for (const vpn of [...m.keys()]) if (vpn >= r.start && vpn < r.end) m.delete(vpn);
          } else {
            for (let vpn = r.start; vpn < r.end; vpn++) m.delete(vpn);
          }
        }
      }
    }
  }

  private dropMm(id: number): void {
    for (const t of this.tlbs) t.delete(id);
  }

  describe(): Record<string, unknown> {
    let entries = 0;
    for (const t of this.tlbs) for (const m of t.values()) entries += m.size;
    return { entries, staleHits: this.staleHits };
  }
}

/** Hardware factory (the CLI loads `createHardware` from a hardware module): `{ cpus }`. */
export function createHardware(options: HardwareFactoryOptions = {}): HardwareModel {
  const cpus = options.cpus ?? 2;
  if (!Number.isInteger(cpus) || cpus < 1) throw new Error('strict-tlb: "cpus" must be a positive integer');
  return new StrictTlbHardware(cpus, options.throwOnStale !== false);
}

export default createHardware;
