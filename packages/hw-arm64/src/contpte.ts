import {
  HUGE_ZERO_PFN,
  PTE,
  PTE_HW_MASK,
  SimError,
  ZERO_PFN,
  type Kernel,
  type MmStruct,
  type Stats,
} from '@mmsim/core';
import type { CounterIds } from './counters.js';

/** The contiguous hint, PTE_CONT (bit 52 on real hardware), kept in core's first hardware bit. */
export const PTE_CONT = PTE.hw0;

/** Bits that may differ inside a block: the access flag and dirty state (OR-ed, contpte_ptep_get), and hw bits. */
const IGNORED = PTE.young | PTE.dirty | PTE_HW_MASK;

/**
 * Paths that change whole blocks without unfolding them; only partially covered blocks at the
 * range ends are unfolded (contpte_try_unfold_partial): wrprotect_ptes at fork
 * (contpte_wrprotect_ptes) and the zap paths (contpte_get_and_clear_full_ptes).
 */
const WHOLE_BLOCK_OK = new Set(['fork_wrprotect', 'munmap', 'exit', 'madvise_dontneed']);

/** Invalidate [start, end) of mm on every core and wait (the TLBI of a break-before-make). */
export type BlockInvalidate = (mm: MmStruct, start: number, end: number) => void;

/**
 * The contiguous bit as arch/arm64/mm/contpte.c manages it. A block of `span` naturally aligned
 * PTEs mapping a naturally aligned, physically contiguous range of one folio with identical
 * attributes (access/dirty aside) is folded: PTE_CONT on every entry, one TLB entry for all.
 * Changing an entry of a folded block unfolds it first by break-before-make (contpte_convert:
 * clear all, TLBI the block, rewrite without the bit). Eligible blocks are folded again when
 * PTEs are set (afterSet).
 */
export class ContPte {
  constructor(
    private readonly k: Kernel,
    readonly span: number,
    private readonly stats: Stats,
    private readonly ids: CounterIds,
    private readonly invalidate: BlockInvalidate,
  ) {}

  /** pte.beforeChange: unfold the folded blocks the change would split. */
  beforeChange(mm: MmStruct, start: number, end: number, reason: string): void {
    const n = this.span;
    const keepWhole = WHOLE_BLOCK_OK.has(reason);
    for (let b = start - (start % n); b < end; b += n) {
      if (keepWhole && b >= start && b + n <= end) continue;
      const t = this.k.pteTable(mm, b);
      if (t < 0) continue;
      const base = t * 512 + (b & 511);
      if (this.folded(base)) this.unfold(mm, base, b);
    }
  }

  /** pte.afterSet: fold every block of the range that became eligible. */
  afterSet(mm: MmStruct, start: number, end: number): void {
    const n = this.span;
    for (let b = start - (start % n); b < end; b += n) {
      const t = this.k.pteTable(mm, b);
      if (t < 0) continue;
      const base = t * 512 + (b & 511);
      if (this.folded(base)) {
        if (this.valid(base, true)) continue;
        if (this.allCont(base)) {
          // a folded block whose entries diverged under a whole-block path (e.g. a page
          // copied at fork kept its write bit): repaint it as single PTEs
          this.unfold(mm, base, b);
          continue;
        }
        // residue: a core path wrote back a PTE value it read before beforeChange unfolded
        // the block (see README "Core notes"); the block was already invalidated
        this.stripCont(base);
      }
      if (!this.eligible(base)) continue;
      // contpte_set_ptes() over none PTEs needs no invalidation; __contpte_try_fold() of
      // entries that may be cached goes through contpte_convert()
      this.fold(mm, base, b, !(b >= start && b + n <= end));
    }
  }

  private folded(base: number): boolean {
    const fl = this.k.pt.fl;
    for (let i = 0; i < this.span; i++) if ((fl[base + i]! & PTE_CONT) !== 0) return true;
    return false;
  }

  private allCont(base: number): boolean {
    const fl = this.k.pt.fl;
    for (let i = 0; i < this.span; i++) if ((fl[base + i]! & PTE_CONT) === 0) return false;
    return true;
  }

  private stripCont(base: number): void {
    const fl = this.k.pt.fl;
    for (let i = 0; i < this.span; i++) fl[base + i] = fl[base + i]! & ~PTE_CONT;
  }

  /** A block the hardware accepts: valid entries, contiguous aligned PFNs, equal attributes. */
  private valid(base: number, withCont: boolean): boolean {
    return this.problem(base, withCont) === null;
  }

  /** What is wrong with the block at `base`, or null. */
  problem(base: number, withCont: boolean): string | null {
    const { fl, val } = this.k.pt;
    const n = this.span;
    const f0 = fl[base]!;
    const p0 = val[base]!;
    if ((f0 & PTE.present) === 0 || (f0 & (PTE.protNone | PTE.swap | PTE.table)) !== 0)
      return 'an entry is not a valid page descriptor';
    if (p0 % n !== 0) return `the output address (pfn ${p0}) is not aligned to the block`;
    const attrs = f0 & ~IGNORED;
    for (let i = 0; i < n; i++) {
      const fi = fl[base + i]!;
      if ((fi & PTE.present) === 0 || (fi & (PTE.protNone | PTE.swap | PTE.table)) !== 0)
        return `entry ${i} is not a valid page descriptor`;
      if (withCont && (fi & PTE_CONT) === 0) return `entry ${i} lacks the contiguous bit`;
      if (val[base + i] !== p0 + i) return `entry ${i} maps pfn ${val[base + i]}, not ${p0 + i} (not contiguous)`;
      if ((fi & ~IGNORED) !== attrs)
        return `entry ${i} has attributes 0x${(fi & ~IGNORED).toString(16)}, entry 0 has 0x${attrs.toString(16)}`;
    }
    return null;
  }

  /** __contpte_try_fold()'s conditions: a valid block inside one folio, not a special mapping. */
  private eligible(base: number): boolean {
    const p0 = this.k.pt.val[base]!;
    if ((this.k.pt.fl[base]! & PTE.present) === 0) return false;
    if (p0 === ZERO_PFN || (p0 >= HUGE_ZERO_PFN && p0 < HUGE_ZERO_PFN + 512)) return false;
    if (!this.valid(base, false)) return false;
    const f = this.k.f;
    return f.head(p0) === f.head(p0 + this.span - 1);
  }

  /** contpte_convert(): gather access/dirty over the block and rewrite it with/without PTE_CONT. */
  private convert(base: number, cont: boolean): void {
    const fl = this.k.pt.fl;
    let ad = 0;
    for (let i = 0; i < this.span; i++) ad |= fl[base + i]! & (PTE.young | PTE.dirty);
    for (let i = 0; i < this.span; i++) {
      const v = fl[base + i]!;
      if ((v & PTE.present) === 0) continue;
      fl[base + i] = cont ? v | ad | PTE_CONT : (v | ad) & ~PTE_CONT;
    }
  }

  private fold(mm: MmStruct, base: number, b: number, bbm: boolean): void {
    this.convert(base, true);
    if (bbm) this.invalidate(mm, b, b + this.span);
    this.stats.v[this.ids.contpte_fold]!++;
  }

  private unfold(mm: MmStruct, base: number, b: number): void {
    this.convert(base, false);
    this.invalidate(mm, b, b + this.span);
    this.stats.v[this.ids.contpte_unfold]!++;
  }

  /**
   * The MMU meets PTE_CONT on a walk: the block must be valid, or the translation is
   * CONSTRAINED UNPREDICTABLE (TLB conflict aborts, overlapping entries). Throws.
   */
  checkOnFill(slot: number, vpn: number): void {
    const n = this.span;
    const base = slot - (vpn % n);
    const why = this.problem(base, true);
    if (why !== null) {
      throw new SimError(
        `misprogrammed contiguous block at page 0x${(vpn - (vpn % n)).toString(16)}: ${why} (arm64 honours PTE_CONT only on a valid block)`,
        'internal',
      );
    }
  }
}

/**
 * Hardware coalescing without the bit (HPA, or a granule larger than the 4 KiB base page):
 * whether the naturally aligned group of `n` PTEs around `slot` maps an aligned contiguous
 * range with equal attributes. Returns -1 when not, 1 when every entry is dirty (the group may
 * be cached writable), 0 otherwise (cached read-only: a write walks again to set dirty state).
 */
export function coalescable(k: Kernel, slot: number, vpn: number, n: number): number {
  const { fl, val } = k.pt;
  const base = slot - (vpn % n);
  const f0 = fl[base]!;
  const p0 = val[base]!;
  if (p0 % n !== 0) return -1;
  const attrs = f0 & ~IGNORED;
  let dirty = 1;
  for (let i = 0; i < n; i++) {
    const fi = fl[base + i]!;
    if ((fi & PTE.present) === 0 || (fi & (PTE.protNone | PTE.swap | PTE.table)) !== 0) return -1;
    if (val[base + i] !== p0 + i || (fi & ~IGNORED) !== attrs) return -1;
    if ((fi & PTE.dirty) === 0) dirty = 0;
  }
  return dirty;
}
