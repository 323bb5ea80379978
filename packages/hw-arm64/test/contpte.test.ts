import { describe, expect, it } from 'vitest';
import { forkProcess, mprotect, munmap, PTE, SimError, userAccess } from '@mmsim/core';
import { PTE_CONT } from '../src/index.js';
import { delta, region, rig, stat, touch } from './helpers.js';

function contBits(r: ReturnType<typeof rig>, mm: Parameters<typeof r.k.pteTable>[0], start: number, n: number): number {
  let c = 0;
  for (let v = start; v < start + n; v++) {
    const t = r.k.pteTable(mm, v);
    if (t >= 0 && (r.k.pt.fl[t * 512 + (v & 511)]! & PTE_CONT) !== 0) c++;
  }
  return c;
}

describe('contiguous bit (contpte.c)', () => {
  it('folds every 64 KiB folio at fault time, with no TLBI (set_ptes over none PTEs)', () => {
    const r = rig();
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 64);
    const d = delta(r, ['contpte_fold', 'contpte_unfold', 'tlbi_va'], () => touch(r, p, vma.start, 64, true));
    expect(d).toEqual({ contpte_fold: 4, contpte_unfold: 0, tlbi_va: 0 });
    expect(contBits(r, p.mm, vma.start, 64)).toBe(64);
  });

  it('mprotect of one page unfolds its block (break-before-make), refolds when eligible again', () => {
    const r = rig({}, 4, { features: { tryChangeWritable: true } });
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 64);
    touch(r, p, vma.start, 64, true);
    touch(r, p, vma.start, 64, false);
    const d = delta(r, ['contpte_fold', 'contpte_unfold', 'tlbi_va', 'dsb_ish'], () =>
      mprotect(r.k, p.mm, vma.start + 5, vma.start + 6, 'r'),
    );
    // unfold: TLBI of the 16-page block + DSB; mprotect's own flush: 1 page + DSB
    expect(d).toEqual({ contpte_fold: 0, contpte_unfold: 1, tlbi_va: 17, dsb_ish: 2 });
    expect(contBits(r, p.mm, vma.start, 64)).toBe(48);
    // reads still hit the right frames; a write to the protected page faults
    touch(r, p, vma.start, 64, false);
    expect(() => userAccess(r.k, p.main, vma.start + 5, true, 9)).toThrow(/segmentation fault/);
    // back to rw: the PTE is writable again (can_change_pte_writable) and the block refolds
    const d2 = delta(r, ['contpte_fold', 'contpte_unfold'], () =>
      mprotect(r.k, p.mm, vma.start + 5, vma.start + 6, 'rw'),
    );
    expect(d2).toEqual({ contpte_fold: 1, contpte_unfold: 0 });
    expect(contBits(r, p.mm, vma.start, 64)).toBe(64);
    touch(r, p, vma.start, 64, true, 1, 7);
  });

  it('fork keeps whole blocks folded (contpte_wrprotect_ptes); a CoW write unfolds one block', () => {
    const r = rig();
    const p = r.k.spawn('parent', 0);
    const vma = region(r, p, 64);
    touch(r, p, vma.start, 64, true, 1, 1);
    const f = delta(r, ['contpte_fold', 'contpte_unfold'], () => forkProcess(r.k, p, 'child', 1));
    // parent's 4 blocks stay folded (no unfold, no refold); the child's PTEs are copied with
    // PTE_CONT (contpte_set_ptes), which is not counted as a fold
    expect(f).toEqual({ contpte_fold: 0, contpte_unfold: 0 });
    const c = r.k.proc('child');
    expect(contBits(r, p.mm, vma.start, 64)).toBe(64);
    expect(contBits(r, c.mm, vma.start, 64)).toBe(64);
    // reads through the read-only folded blocks
    touch(r, c, vma.start, 64, false);
    touch(r, p, vma.start, 64, false);
    const w = delta(r, ['contpte_fold', 'contpte_unfold', 'cow_copy'], () => {
      userAccess(r.k, c.main, vma.start + 3, true, 42); // child CoW in block 0
      userAccess(r.k, p.main, vma.start + 20, true, 43); // parent CoW in block 1
    });
    expect(w).toEqual({ contpte_fold: 0, contpte_unfold: 2, cow_copy: 2 });
    expect(contBits(r, c.mm, vma.start, 64)).toBe(48);
    expect(contBits(r, p.mm, vma.start, 64)).toBe(48);
    // isolation holds through the TLBs
    userAccess(r.k, p.main, vma.start + 3, false, 0);
    expect(r.k.lastValue).toBe(1);
    userAccess(r.k, c.main, vma.start + 3, false, 0);
    expect(r.k.lastValue).toBe(42);
    userAccess(r.k, c.main, vma.start + 20, false, 0);
    expect(r.k.lastValue).toBe(1);
  });

  it('munmap of a whole block clears it without unfolding; a partial munmap unfolds', () => {
    const r = rig();
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 64);
    touch(r, p, vma.start, 64, true);
    const d = delta(r, ['contpte_unfold'], () => munmap(r.k, p.mm, vma.start, vma.start + 16));
    expect(d.contpte_unfold).toBe(0);
    const d2 = delta(r, ['contpte_unfold'], () => munmap(r.k, p.mm, vma.start + 16, vma.start + 20));
    expect(d2.contpte_unfold).toBe(1);
    touch(r, p, vma.start + 20, 44, false);
  });

  it('contpte: false never sets the bit', () => {
    const r = rig({ contpte: false });
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 64);
    touch(r, p, vma.start, 64, true);
    expect(stat(r, 'contpte_fold')).toBe(0);
    expect(contBits(r, p.mm, vma.start, 64)).toBe(0);
  });

  it('a misprogrammed block found on a TLB fill is an internal error', () => {
    // (1) a folded block whose entry lost the bit
    const r = rig();
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 16);
    touch(r, p, vma.start, 16, true);
    const t = r.k.pteTable(p.mm, vma.start);
    r.k.pt.fl[t * 512 + ((vma.start + 7) & 511)]! &= ~PTE_CONT;
    r.k.flushMm(p.mm, 'test');
    expect(() => userAccess(r.k, p.main, vma.start, false, 0)).toThrow(SimError);
    expect(() => userAccess(r.k, p.main, vma.start, false, 0)).toThrow(
      /misprogrammed contiguous block.*lacks the contiguous bit/,
    );

    // (2) the bit set by hand over order-0 pages: not physically contiguous / aligned
    const r2 = rig({ contpte: false }, 0);
    const q = r2.k.spawn('b', 0);
    const a = region(r2, q, 16, 'a');
    const b = region(r2, q, 16, 'b');
    for (let i = 0; i < 16; i++) {
      touch(r2, q, a.start + i, 1, true);
      touch(r2, q, b.start + i, 1, true);
    }
    const t2 = r2.k.pteTable(q.mm, a.start);
    for (let i = 0; i < 16; i++) r2.k.pt.fl[t2 * 512 + ((a.start + i) & 511)]! |= PTE_CONT;
    r2.k.flushMm(q.mm, 'test');
    let err: unknown;
    try {
      userAccess(r2.k, q.main, a.start + 2, false, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).code).toBe('internal');
    expect((err as Error).message).toMatch(/not aligned|not contiguous/);

    // (3) mixed attributes
    const r3 = rig();
    const s = r3.k.spawn('c', 0);
    const v3 = region(r3, s, 16);
    touch(r3, s, v3.start, 16, true);
    const t3 = r3.k.pteTable(s.mm, v3.start);
    r3.k.pt.fl[t3 * 512 + ((v3.start + 9) & 511)]! &= ~PTE.write;
    r3.k.flushMm(s.mm, 'test');
    expect(() => userAccess(r3.k, s.main, v3.start, false, 0)).toThrow(/entry 9 has attributes/);
  });
});
