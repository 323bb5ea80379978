/* Reference model: the TLB hierarchy as it was before the constant-time rewrite (mmsim issue 12),
 * kept verbatim for the differential tests. Do not optimise. */
import { RefTlbArray as TlbArray } from './tlb-array.js';
import type { ResolvedX86Options } from '../../src/options.js';

/** Paging-structure cache sizes (entries, fully associative): PML4E, PDPTE, PDE. */
const PSC_ENTRIES = Object.freeze({ pml4e: 2, pdpte: 4, pde: 32 } as const);

const SPAN_4K = 0;
const SPAN_COALESCED = 2;
const SPAN_2M = 9;

/**
 * The per-CPU translation caches: L1 dTLB and STLB, each with separate 4 KiB and 2 MiB arrays,
 * plus the paging-structure caches. Entries are tagged by the CPU-local ASID slot.
 * `lookup()` leaves its result in `pfn` / `flags` / `level` (no allocation).
 */
export class RefTlbHierarchy {
  readonly l1: TlbArray;
  readonly l1h: TlbArray;
  readonly stlb: TlbArray;
  readonly stlbh: TlbArray;
  readonly pml4e: TlbArray | null;
  readonly pdpte: TlbArray | null;
  readonly pde: TlbArray | null;
  /** result of the last lookup: PFN, entry flags, and where it hit (1 = L1, 2 = STLB) */
  pfn = -1;
  flags = 0;
  level = 0;

  constructor(
    ncpus: number,
    o: ResolvedX86Options,
    readonly coalescing: boolean,
  ) {
    this.l1 = new TlbArray('L1 dTLB 4K', ncpus, o.l1Entries, o.l1Ways);
    this.l1h = new TlbArray('L1 dTLB 2M', ncpus, o.l1Entries2M, o.l1Ways2M);
    this.stlb = new TlbArray('STLB 4K', ncpus, o.stlbEntries, o.stlbWays);
    this.stlbh = new TlbArray('STLB 2M', ncpus, o.stlbEntries2M, o.stlbWays2M);
    if (o.pagingStructureCache) {
      this.pml4e = new TlbArray('PML4E cache', ncpus, PSC_ENTRIES.pml4e, PSC_ENTRIES.pml4e);
      this.pdpte = new TlbArray('PDPTE cache', ncpus, PSC_ENTRIES.pdpte, PSC_ENTRIES.pdpte);
      this.pde = new TlbArray('PDE cache', ncpus, PSC_ENTRIES.pde, PSC_ENTRIES.pde);
    } else {
      this.pml4e = this.pdpte = this.pde = null;
    }
  }

  /** Probe one 4K array (4K entries, then coalesced entries) and its 2M sibling. */
  private probe(a4: TlbArray, a2: TlbArray, cpu: number, asid: number, vpn: number): boolean {
    let i = a4.find(cpu, asid, vpn, SPAN_4K);
    if (i >= 0) {
      this.pfn = a4.pfn[i]!;
      this.flags = a4.flags[i]!;
      return true;
    }
    if (this.coalescing) {
      const g = Math.floor(vpn / 4);
      i = a4.find(cpu, asid, g, SPAN_COALESCED);
      if (i >= 0) {
        this.pfn = a4.pfn[i]! + (vpn - g * 4);
        this.flags = a4.flags[i]!;
        return true;
      }
    }
    const h = Math.floor(vpn / 512);
    i = a2.find(cpu, asid, h, SPAN_2M);
    if (i >= 0) {
      this.pfn = a2.pfn[i]! + (vpn - h * 512);
      this.flags = a2.flags[i]!;
      return true;
    }
    return false;
  }

  /** Look vpn up: L1, then STLB (refilling L1). */
  lookup(cpu: number, asid: number, vpn: number): boolean {
    if (this.probe(this.l1, this.l1h, cpu, asid, vpn)) {
      this.level = 1;
      return true;
    }
    if (this.probe(this.stlb, this.stlbh, cpu, asid, vpn)) {
      this.level = 2;
      // refill L1 with the same-size entry
      this.insertL1(cpu, asid, vpn);
      return true;
    }
    this.level = 0;
    return false;
  }

  private insertL1(cpu: number, asid: number, vpn: number): void {
    // find which STLB array hit, to copy its shape
    let i = this.stlb.find(cpu, asid, vpn, SPAN_4K);
    if (i >= 0) return this.l1.insert(cpu, asid, vpn, SPAN_4K, this.stlb.pfn[i]!, this.stlb.flags[i]!);
    if (this.coalescing) {
      const g = Math.floor(vpn / 4);
      i = this.stlb.find(cpu, asid, g, SPAN_COALESCED);
      if (i >= 0) return this.l1.insert(cpu, asid, g, SPAN_COALESCED, this.stlb.pfn[i]!, this.stlb.flags[i]!);
    }
    const h = Math.floor(vpn / 512);
    i = this.stlbh.find(cpu, asid, h, SPAN_2M);
    if (i >= 0) this.l1h.insert(cpu, asid, h, SPAN_2M, this.stlbh.pfn[i]!, this.stlbh.flags[i]!);
  }

  /**
   * Levels a walk for vpn must read given the paging-structure caches, and cache the upper
   * levels it read. 4 KiB leaf: 4 levels, 1 on a PDE-cache hit. 2 MiB leaf: 3 levels.
   */
  walkLevels(cpu: number, asid: number, vpn: number, huge: boolean): number {
    const full = huge ? 3 : 4;
    if (!this.pde) return full;
    const kPde = Math.floor(vpn / 512);
    const kPdpte = Math.floor(vpn / 262144);
    const kPml4 = Math.floor(vpn / 134217728);
    let levels = full;
    if (!huge && this.pde.find(cpu, asid, kPde, 0) >= 0) levels = 1;
    else if (this.pdpte!.find(cpu, asid, kPdpte, 0) >= 0) levels = huge ? 1 : 2;
    else if (this.pml4e!.find(cpu, asid, kPml4, 0) >= 0) levels = huge ? 2 : 3;
    this.pml4e!.insert(cpu, asid, kPml4, 0, 0, 0);
    this.pdpte!.insert(cpu, asid, kPdpte, 0, 0, 0);
    if (!huge) this.pde.insert(cpu, asid, kPde, 0, 0, 0);
    return levels;
  }

  /** Cache a walked translation in L1 and STLB. `group` >= 0: a coalesced 4-page entry. */
  fill(cpu: number, asid: number, vpn: number, pfn: number, flags: number, huge: boolean, group: number): void {
    if (huge) {
      const h = Math.floor(vpn / 512);
      const base = pfn - (vpn - h * 512);
      this.l1h.insert(cpu, asid, h, SPAN_2M, base, flags);
      this.stlbh.insert(cpu, asid, h, SPAN_2M, base, flags);
    } else if (group >= 0) {
      const g = Math.floor(vpn / 4);
      // a coalesced entry replaces any single-page entries of its group
      for (let j = 0; j < 4; j++) {
        this.l1.invalidate(cpu, asid, g * 4 + j, SPAN_4K);
        this.stlb.invalidate(cpu, asid, g * 4 + j, SPAN_4K);
      }
      this.l1.insert(cpu, asid, g, SPAN_COALESCED, group, flags);
      this.stlb.insert(cpu, asid, g, SPAN_COALESCED, group, flags);
    } else {
      this.l1.insert(cpu, asid, vpn, SPAN_4K, pfn, flags);
      this.stlb.insert(cpu, asid, vpn, SPAN_4K, pfn, flags);
    }
  }

  /** INVLPG: every entry covering vpn, and (SDM 4.10.4.1) all paging-structure-cache entries of the ASID. */
  invalidatePage(cpu: number, asid: number, vpn: number): void {
    this.invalidateTlbPage(cpu, asid, vpn);
    this.invalidatePsc(cpu, asid);
  }

  /** The TLB entries covering vpn (a #PF on a write through a read-only entry drops them too). */
  invalidateTlbPage(cpu: number, asid: number, vpn: number): void {
    const g = Math.floor(vpn / 4);
    const h = Math.floor(vpn / 512);
    this.l1.invalidate(cpu, asid, vpn, SPAN_4K);
    this.stlb.invalidate(cpu, asid, vpn, SPAN_4K);
    if (this.coalescing) {
      this.l1.invalidate(cpu, asid, g, SPAN_COALESCED);
      this.stlb.invalidate(cpu, asid, g, SPAN_COALESCED);
    }
    this.l1h.invalidate(cpu, asid, h, SPAN_2M);
    this.stlbh.invalidate(cpu, asid, h, SPAN_2M);
  }

  invalidatePsc(cpu: number, asid: number): void {
    if (!this.pde) return;
    this.pde.invalidateAsid(cpu, asid);
    this.pdpte!.invalidateAsid(cpu, asid);
    this.pml4e!.invalidateAsid(cpu, asid);
  }

  /** Everything of one ASID slot on cpu. */
  invalidateAsid(cpu: number, asid: number): void {
    this.l1.invalidateAsid(cpu, asid);
    this.l1h.invalidateAsid(cpu, asid);
    this.stlb.invalidateAsid(cpu, asid);
    this.stlbh.invalidateAsid(cpu, asid);
    this.invalidatePsc(cpu, asid);
  }

  /** Entries (of any ASID) cached on cpu, per array. */
  occupancy(cpu: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const a of [this.l1, this.l1h, this.stlb, this.stlbh]) out[a.name] = a.occupancy(cpu);
    return out;
  }
}
