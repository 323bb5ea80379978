import { describe, expect, it } from 'vitest';
import { delta, region, rig, touch } from './helpers.js';

/** A small TLB (16-entry L1, 64-entry L2) so that 8 MiB overflows it with and without contpte. */
const SMALL = { l1Entries: 16, l1Ways: 16, l2Entries: 64, l2Ways: 4 } as const;
const PAGES = 2048; // 8 MiB: 128 contpte blocks
const ROUNDS = 4;

function misses(opts: Parameters<typeof rig>[0], order = 4) {
  const r = rig({ ...SMALL, ...opts }, order);
  const p = r.k.spawn('a', 0);
  const vma = region(r, p, PAGES);
  touch(r, p, vma.start, PAGES, true); // fault everything in
  return {
    r,
    p,
    vma,
    d: delta(r, ['tlb_miss', 'page_walk', 'tlb_fill_contpte', 'tlb_fill_coalesced'], () =>
      touch(r, p, vma.start, PAGES, false, ROUNDS),
    ),
  };
}

describe('TLB reach', () => {
  it('64 KiB folios: contpte cuts misses 16x', () => {
    const off = misses({ contpte: false });
    const on = misses({ contpte: true });
    expect(off.d.tlb_miss).toBe(PAGES * ROUNDS); // every access misses: reach 64 pages < 2048
    expect(on.d.tlb_miss).toBe((PAGES / 16) * ROUNDS); // one miss per 64 KiB block
    expect(off.d.tlb_miss! / on.d.tlb_miss!).toBe(16);
    expect(on.d.tlb_fill_contpte).toBe(on.d.tlb_miss);
    expect(on.r.sys.stats.get('contpte_fold')).toBe(PAGES / 16);
  });

  it('HPA coalesces N aligned contiguous PTEs without the bit', () => {
    const hpa4 = misses({ contpte: false, hpa: 4 });
    expect(hpa4.d.tlb_miss).toBe((PAGES / 4) * ROUNDS);
    expect(hpa4.d.tlb_fill_coalesced).toBe(hpa4.d.tlb_miss);
    expect(hpa4.r.sys.stats.get('contpte_fold')).toBe(0);
    // contpte wins where both apply
    const both = misses({ contpte: true, hpa: 4 });
    expect(both.d.tlb_miss).toBe((PAGES / 16) * ROUNDS);
  });

  it('order-0 folios are never folded nor coalesced across folios that are not contiguous', () => {
    const r = rig({ ...SMALL, hpa: 4 }, 0);
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 256);
    // interleave two regions so that physical frames alternate
    const other = region(r, p, 256, 'other');
    for (let i = 0; i < 256; i++) {
      touch(r, p, vma.start + i, 1, true);
      touch(r, p, other.start + i, 1, true);
    }
    expect(r.sys.stats.get('contpte_fold')).toBe(0);
    const d = delta(r, ['tlb_fill_coalesced', 'tlb_miss'], () => touch(r, p, vma.start, 256, false, 2));
    expect(d.tlb_fill_coalesced).toBe(0);
    expect(d.tlb_miss).toBe(512);
  });

  it('reports reach: one L2 entry maps 16 pages with contpte on the Neoverse N1 geometry', () => {
    const r = rig({ profile: 'neoverse-n1' });
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 1024);
    touch(r, p, vma.start, 1024, true);
    touch(r, p, vma.start, 1024, false);
    const reach = r.hw.reach(0, p.mm);
    expect(reach.l2.pages).toBe(1024);
    expect(reach.l2.entries).toBe(64);
    const desc = r.hw.describe();
    expect(desc.l2).toEqual({ entries: 1280, ways: 5 });
  });
});
