import { describe, expect, it } from 'vitest';
import { definePlugin, type MmPlugin } from '../src/index.js';
import { ctr, ctrs, run } from './helpers.js';

/** The v5.8 rule: reuse when this is the only mapping; the refcount (LRU batch, pins) is ignored. */
const v58: MmPlugin = definePlugin({
  name: 'wp-v5.8',
  api: '^1.0.0',
  apply(ctx) {
    ctx.hooks.fault.wpReuse.tap('wp-v5.8', (vmf) => (vmf.page.mapcount === 1 ? 'reuse' : undefined));
  },
});

const ROUNDS = 10;
/**
 * Seed 000, forceswap: one page, a second thread spinning on cpu 1 (so the mm stays in
 * mm_cpumask of cpu 1), rounds of MADV_PAGEOUT / read / write on a synchronous swap device.
 */
function forceswap(spin: boolean) {
  const round = [
    { op: 'madvise', pid: 'p', region: 'buf', advice: 'pageout' },
    { op: 'access', pid: 'p', region: 'buf', access: 'read' },
    { op: 'access', pid: 'p', region: 'buf', access: 'write' },
  ];
  return {
    name: 'forceswap',
    system: { swap: { synchronousIo: true } },
    steps: [
      { op: 'spawn', pid: 'p', cpu: 0, phase: 'setup' },
      ...(spin ? [{ op: 'thread', pid: 'p', cpu: 1, spin: true }] : []),
      { op: 'mmap', pid: 'p', name: 'buf', size: '4KiB' },
      { op: 'access', pid: 'p', region: 'buf', access: 'write' },
      { op: 'repeat', times: 1, steps: round, phase: 'first' },
      { op: 'repeat', times: ROUNDS, steps: round, phase: 'steady' },
    ],
  };
}

const F = [
  'nr_tlb_remote_flush',
  'nr_tlb_remote_flush_received',
  'nr_tlb_local_flush_all',
  'nr_tlb_local_flush_one',
  'cow_copy',
  'pgreuse',
  'pswpout',
  'pswpin',
  'pgmajfault',
  'pgfault',
];

/*
 * Where the flushes of one steady-state round come from (kernel-notes §2), with cpu 1 in
 * mm_cpumask so each is a remote flush (an IPI to cpu 1):
 *  1. madvise_pageout → flush_tlb_batched_pending(): the previous round's reclaim left
 *     mm->tlb_flush_batched set → flush_tlb_mm (a full flush, local + remote).
 *  2. shrink_folio_list → try_to_unmap() with TTU_BATCH_FLUSH defers the flush; the PTE was
 *     dirty, so try_to_unmap_flush_dirty() flushes before pageout() (arch_tlbbatch_flush: full).
 *  3. tlb_finish_mmu() flushes the one-page range whose young bit madvise cleared.
 *  4. (v5.9 rule only) the read fault swapped the page in (skipping the swap cache) and put it
 *     in the LRU batch; the write fault sees page_count 2, copies, and ptep_clear_flush()
 *     flushes the old PTE (one page). The v5.8 rule reuses (mapcount 1) without a flush.
 * The first round has no pending batched flush (1.), hence one flush less.
 */
describe('TLB flush accounting through FlatHardware: the seed-000 forceswap loop', () => {
  it('v5.8 rule (mapcount): 3 remote flushes per round, no copy', () => {
    const r = run(forceswap(true), { policies: [v58] });
    expect(ctrs(r, 'steady', F)).toEqual({
      nr_tlb_remote_flush: 3 * ROUNDS,
      nr_tlb_remote_flush_received: 3 * ROUNDS,
      nr_tlb_local_flush_all: 2 * ROUNDS, // 1. and 2.
      nr_tlb_local_flush_one: 1 * ROUNDS, // 3.
      cow_copy: 0,
      pgreuse: ROUNDS,
      pswpout: ROUNDS,
      pswpin: ROUNDS,
      pgmajfault: ROUNDS,
      pgfault: 2 * ROUNDS,
    });
    expect(ctrs(r, 'first', ['nr_tlb_remote_flush', 'cow_copy', 'pgreuse'])).toEqual({
      nr_tlb_remote_flush: 2,
      cow_copy: 0,
      pgreuse: 1,
    });
  });

  it('default v5.9 rule (refcount): 4 remote flushes and 1 copy per round', () => {
    const r = run(forceswap(true));
    expect(ctrs(r, 'steady', F)).toEqual({
      nr_tlb_remote_flush: 4 * ROUNDS,
      nr_tlb_remote_flush_received: 4 * ROUNDS,
      nr_tlb_local_flush_all: 2 * ROUNDS,
      nr_tlb_local_flush_one: 2 * ROUNDS, // 3. and 4.
      cow_copy: ROUNDS,
      pgreuse: 0,
      pswpout: ROUNDS,
      pswpin: ROUNDS,
      pgmajfault: ROUNDS,
      pgfault: 2 * ROUNDS,
    });
    expect(ctrs(r, 'first', ['nr_tlb_remote_flush', 'cow_copy', 'pgreuse'])).toEqual({
      nr_tlb_remote_flush: 3,
      cow_copy: 1,
      pgreuse: 0,
    });
    // the copied-from page waits in the batch until the next pageout drains it: 2 frames at the end
    expect(r.total.meminfo).toMatchObject({ AnonPages: 4, MemUsed: 8 });
  });

  /*
   * Without the second thread, should_defer_flush() (x86 arch_tlbbatch_should_defer: another CPU
   * in mm_cpumask?) is false: try_to_unmap() flushes the PTE at once, a local 1-page flush.
   * Nothing is batched, so mm->tlb_flush_batched stays clear: no flush_tlb_batched_pending()
   * flush (1.) and no arch_tlbbatch_flush() (2.). Left: that 1-page flush, 3. and 4.
   */
  it('without the second thread nothing is batched: local 1-page flushes only, one per page', () => {
    for (const policies of [[], [v58]]) {
      const r = run(forceswap(false), { policies });
      expect(ctrs(r, 'steady', F)).toEqual({
        nr_tlb_remote_flush: 0,
        nr_tlb_remote_flush_received: 0,
        nr_tlb_local_flush_all: 0,
        nr_tlb_local_flush_one: (policies.length ? 2 : 3) * ROUNDS,
        cow_copy: policies.length ? 0 : ROUNDS,
        pgreuse: policies.length ? ROUNDS : 0,
        pswpout: ROUNDS,
        pswpin: ROUNDS,
        pgmajfault: ROUNDS,
        pgfault: 2 * ROUNDS,
      });
      // the first round is no different: there was never a batched flush to wait for
      expect(ctr(r, 'first', 'nr_tlb_local_flush_one')).toBe(policies.length ? 2 : 3);
      expect(ctr(r, 'first', 'nr_tlb_local_flush_all')).toBe(0);
    }
  });

  it('the batch reference is what forces the copy: lruBatchSize 1 drains at once and the default rule reuses', () => {
    const r = run(forceswap(true), { config: { lruBatchSize: 1 } });
    expect(ctrs(r, 'steady', ['nr_tlb_remote_flush', 'cow_copy', 'pgreuse'])).toEqual({
      nr_tlb_remote_flush: 3 * ROUNDS,
      cow_copy: 0,
      pgreuse: ROUNDS,
    });
  });
});
