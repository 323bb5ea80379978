import { describe, expect, it } from 'vitest';
import { PTE, SimError, userAccess } from '@mmsim/core';
import { region, rig, touch } from './helpers.js';

describe('TLB coherence checking', () => {
  it('catches a planted missing invalidation (frame changed behind the TLB)', () => {
    const r = rig({}, 0);
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 2);
    touch(r, p, vma.start, 2, true);
    userAccess(r.k, p.main, vma.start, false, 0); // cached
    const t = r.k.pteTable(p.mm, vma.start);
    const kk = t * 512 + (vma.start & 511);
    const other = r.k.pt.val[t * 512 + ((vma.start + 1) & 511)]!;
    r.k.pt.val[kk] = other; // no flush
    let err: unknown;
    try {
      userAccess(r.k, p.main, vma.start, false, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).code).toBe('internal');
    expect((err as Error).message).toMatch(/stale TLB entry.*no TLB invalidation/);
  });

  it('catches a write-protect without flush, and accepts it after the flush', () => {
    const r = rig({}, 0);
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 1);
    touch(r, p, vma.start, 1, true);
    const t = r.k.pteTable(p.mm, vma.start);
    r.k.pt.fl[t * 512 + (vma.start & 511)]! &= ~PTE.write;
    expect(() => userAccess(r.k, p.main, vma.start, true, 1)).toThrow(/does not permit the access/);
    userAccess(r.k, p.main, vma.start, false, 0); // a read through the entry is still coherent
    r.k.flushPage(p.mm, vma.start, 'test');
    expect(() => userAccess(r.k, p.main, vma.start, false, 0)).not.toThrow();
  });

  it('catches a stale contpte block entry on another core', () => {
    const r = rig();
    const p = r.k.spawn('a', 0);
    r.k.addThread(p, 3, false);
    const vma = region(r, p, 16);
    touch(r, p, vma.start, 16, true);
    userAccess(r.k, p.threads[1]!, vma.start, false, 0); // cpu 3 caches the whole block
    const t = r.k.pteTable(p.mm, vma.start);
    r.k.pt.clear(t, (vma.start + 12) & 511); // no unfold, no flush
    expect(() => userAccess(r.k, p.threads[1]!, vma.start + 12, false, 0)).toThrow(/stale TLB entry: cpu 3/);
  });

  it('can be switched off', () => {
    const r = rig({ coherenceCheck: false }, 0);
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 2);
    touch(r, p, vma.start, 2, true);
    const t = r.k.pteTable(p.mm, vma.start);
    r.k.pt.val[t * 512 + (vma.start & 511)] = r.k.pt.val[t * 512 + ((vma.start + 1) & 511)]!;
    expect(() => userAccess(r.k, p.main, vma.start, false, 0)).not.toThrow();
  });
});
