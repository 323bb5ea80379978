import { describe, expect, it } from 'vitest';
import { madvise, munmap, splitHugePmdAt, tryToUnmap, userAccess } from '@mmsim/core';
import { delta, region, rig, touch } from './helpers.js';

const FLUSH = [
  'tlbi_va',
  'tlbi_asid',
  'tlbi_broadcast',
  'dsb_ish',
  'ipi_sent',
  'nr_tlb_remote_flush',
  'nr_tlb_remote_flush_received',
  'nr_tlb_local_flush_one',
  'nr_tlb_local_flush_all',
] as const;

describe('broadcast TLB invalidation', () => {
  it('a shootdown reaches every core with no IPI', () => {
    const r = rig({}, 0);
    const p = r.k.spawn('a', 0);
    for (let c = 1; c < 4; c++) r.k.addThread(p, c, false);
    const vma = region(r, p, 8);
    for (const t of p.threads) for (let v = vma.start; v < vma.start + 8; v++) userAccess(r.k, t, v, true, 5);
    for (let c = 0; c < 4; c++) expect(r.hw.reach(c, p.mm).l2.entries).toBe(8);
    const cycles = r.sys.clock.byCpu.slice();
    const d = delta(r, FLUSH, () => munmap(r.k, p.mm, vma.start, vma.start + 1));
    expect(d).toEqual({
      tlbi_va: 1,
      tlbi_asid: 0,
      tlbi_broadcast: 1,
      dsb_ish: 1,
      ipi_sent: 0,
      nr_tlb_remote_flush: 0,
      nr_tlb_remote_flush_received: 0,
      nr_tlb_local_flush_one: 0,
      nr_tlb_local_flush_all: 0,
    });
    // every core lost the entry, and no other core was charged for it
    for (let c = 0; c < 4; c++) expect(r.hw.reach(c, p.mm).l2.entries).toBe(7);
    const acting = r.k.cpu;
    for (let c = 0; c < 4; c++) if (c !== acting) expect(r.sys.clock.byCpu[c]).toBe(cycles[c]);
    expect(() => userAccess(r.k, p.threads[2]!, vma.start, false, 0)).toThrow(/segmentation fault/);
  });

  it('per-VA TLBIs below MAX_DVM_OPS, one ASID-wide TLBI above', () => {
    const r = rig({}, 0);
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 1024);
    touch(r, p, vma.start, 1024, true);
    const small = delta(r, FLUSH, () => munmap(r.k, p.mm, vma.start, vma.start + 511));
    expect(small.tlbi_va).toBe(511);
    expect(small.tlbi_asid).toBe(0);
    const big = delta(r, FLUSH, () => munmap(r.k, p.mm, vma.start + 512, vma.start + 1024));
    expect(big.tlbi_va).toBe(0);
    expect(big.tlbi_asid).toBe(1);
    expect(big.ipi_sent! + big.nr_tlb_remote_flush!).toBe(0);
  });

  it('flush_pmd_tlb_range() is __flush_tlb_range(PMD_SIZE stride, level 2): one TLBI per PMD, not an ASID flush', () => {
    for (const profile of ['neoverse-n1', 'apple-m2-vm'] as const) {
      const r = rig({ profile }, 9);
      const p = r.k.spawn('a', 0);
      const vma = region(r, p, 1024);
      touch(r, p, vma.start, 1024, true);
      // __split_huge_pmd_locked() → pmdp_invalidate() → flush_pmd_tlb_range() over 2 MiB
      const d = delta(r, FLUSH, () => splitHugePmdAt(r.k, p.mm, vma.start, 'test'));
      expect(d).toMatchObject({ tlbi_va: 1, tlbi_asid: 0, tlbi_broadcast: 1, dsb_ish: 1, ipi_sent: 0 });
    }
  });

  it('FEAT_TLBIRANGE (apple-m2-vm) covers large ranges with a few range TLBIs', () => {
    const r = rig({ profile: 'apple-m2-vm' }, 0);
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 1100);
    touch(r, p, vma.start, 1100, true);
    // (the rest of the mapping keeps the page tables: no freed-table range)
    const d = delta(r, FLUSH, () => munmap(r.k, p.mm, vma.start, vma.start + 1024));
    expect(d.tlbi_asid).toBe(0);
    expect(d.tlbi_va).toBeGreaterThan(0);
    expect(d.tlbi_va).toBeLessThan(4);
    touch(r, p, vma.start, 0, false);
  });

  it('the DSB ISH wait grows with the core count', () => {
    const cost = (cpus: number) => {
      const r = rig({ cpus, profile: 'neoverse-n1' }, 0);
      const p = r.k.spawn('a', 0);
      const vma = region(r, p, 2);
      touch(r, p, vma.start, 2, true);
      const before = r.sys.clock.cycles;
      r.k.flushPage(p.mm, vma.start, 'test');
      return r.sys.clock.cycles - before;
    };
    const c8 = cost(8);
    const c80 = cost(80);
    expect(c80 - c8).toBe(72 * 45);
    expect(c80 / c8).toBeGreaterThan(2);
  });

  it('batched reclaim: TLBIs at batch-add, one DSB at batch-flush (arch_tlbbatch)', () => {
    const run = (batch: boolean) => {
      const r = rig({}, 0);
      const p = r.k.spawn('a', 0);
      const vma = region(r, p, 64);
      touch(r, p, vma.start, 64, true, 1, 3);
      touch(r, p, vma.start, 64, false);
      const heads: number[] = [];
      for (let v = vma.start; v < vma.start + 64; v++) heads.push(r.k.f.head(r.k.translate(p.mm, v, false)));
      const d = delta(r, [...FLUSH, 'tlb_miss'], () => {
        for (const h of heads) {
          r.k.addToSwap(h);
          tryToUnmap(r.k, h, batch); // try_to_unmap(TTU_BATCH_FLUSH) or ptep_clear_flush()
        }
        r.k.tlbBatchFlush(false); // try_to_unmap_flush()
      });
      // the pages read back through swap-cache faults: no stale translation survived
      const m = delta(r, ['tlb_miss'], () => {
        for (let v = vma.start; v < vma.start + 64; v++) {
          userAccess(r.k, p.main, v, false, 0);
          expect(r.k.lastValue).toBe(3);
        }
      });
      expect(m.tlb_miss).toBe(64);
      return d;
    };
    const batched = run(true);
    const immediate = run(false);
    expect(batched).toMatchObject({ tlbi_va: 64, tlbi_broadcast: 64, dsb_ish: 1, ipi_sent: 0, nr_tlb_remote_flush: 0 });
    expect(immediate).toMatchObject({
      tlbi_va: 64,
      tlbi_broadcast: 64,
      dsb_ish: 64,
      ipi_sent: 0,
      nr_tlb_remote_flush: 0,
    });
  });

  it('madvise(PAGEOUT) of dirty pages: try_to_unmap_flush_dirty() waits once per folio before pageout', () => {
    const r = rig({}, 0);
    const p = r.k.spawn('a', 0);
    const vma = region(r, p, 64);
    touch(r, p, vma.start, 64, true, 1, 3);
    r.k.lruAddDrainAll();
    const d = delta(r, [...FLUSH, 'pswpout'], () => madvise(r.k, p.mm, vma.start, vma.start + 64, 'pageout'));
    expect(d.pswpout).toBe(64);
    expect(d.ipi_sent! + d.nr_tlb_remote_flush!).toBe(0);
    for (let v = vma.start; v < vma.start + 64; v++) {
      userAccess(r.k, p.main, v, false, 0);
      expect(r.k.lastValue).toBe(3);
    }
  });

  it('vmstatTlb counts local flushes only (never remote)', () => {
    const r = rig({ vmstatTlb: true }, 0);
    const p = r.k.spawn('a', 0);
    r.k.addThread(p, 1, false);
    const vma = region(r, p, 8);
    touch(r, p, vma.start, 8, true);
    const d = delta(r, FLUSH, () => munmap(r.k, p.mm, vma.start, vma.start + 4));
    expect(d.nr_tlb_local_flush_one).toBe(4);
    expect(d.nr_tlb_remote_flush).toBe(0);
  });
});
