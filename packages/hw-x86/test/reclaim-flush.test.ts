import { describe, expect, test } from 'vitest';
import { createSystem, runScenario, ScenarioSchema } from '@mmsim/core';
import { createHardware } from '../src/index.js';

const F = [
  'nr_tlb_local_flush_all',
  'nr_tlb_local_flush_one',
  'nr_tlb_remote_flush',
  'nr_tlb_remote_flush_received',
  'pswpout',
];

/** 8 dirty pages of p (cpu 0) paged out twice; `spin`: a second thread of p spins on cpu 1. */
function run(spin: boolean) {
  const sc = ScenarioSchema.parse({
    name: 'reclaim-flush',
    system: { swap: { synchronousIo: true } },
    steps: [
      { op: 'spawn', pid: 'p', cpu: 0 },
      ...(spin ? [{ op: 'thread', pid: 'p', cpu: 1, spin: true }] : []),
      { op: 'mmap', pid: 'p', name: 'a', size: '32KiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write' },
      { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'pageout' },
      // every page is a swap entry now: nothing to unmap
      { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'again' },
    ],
  });
  const sys = createSystem({ hardware: createHardware({ cpus: 2 }), config: { swap: { synchronousIo: true } } });
  const r = runScenario(sys, sc, { file: 'reclaim-flush.json' });
  const pick = (ph: string) => Object.fromEntries(F.map((n) => [n, r.phases[ph]!.counters[n] ?? 0]));
  return { pageout: pick('pageout'), again: pick('again') };
}

/*
 * should_defer_flush() (mm/rmap.c) batches only when arch_tlbbatch_should_defer() says so: on
 * x86, when another CPU is in mm_cpumask (the IPI is what batching saves).
 */
describe('reclaim flush batching (should_defer_flush / arch_tlbbatch_should_defer)', () => {
  test('single-threaded mm: try_to_unmap() flushes each PTE at once (flush_tlb_range of one page)', () => {
    expect(run(false)).toEqual({
      // 8 INVLPGs from try_to_unmap + 8 from tlb_finish_mmu (the young bits madvise cleared)
      pageout: {
        nr_tlb_local_flush_all: 0,
        nr_tlb_local_flush_one: 16,
        nr_tlb_remote_flush: 0,
        nr_tlb_remote_flush_received: 0,
        pswpout: 8,
      },
      // nothing was batched, so flush_tlb_batched_pending() has nothing to flush
      again: {
        nr_tlb_local_flush_all: 0,
        nr_tlb_local_flush_one: 0,
        nr_tlb_remote_flush: 0,
        nr_tlb_remote_flush_received: 0,
        pswpout: 0,
      },
    });
  });

  test('mm live on cpu 1 too: deferred; each dirty folio waits for try_to_unmap_flush_dirty() (full, remote)', () => {
    expect(run(true)).toEqual({
      pageout: {
        nr_tlb_local_flush_all: 8,
        nr_tlb_local_flush_one: 8,
        nr_tlb_remote_flush: 9,
        nr_tlb_remote_flush_received: 9,
        pswpout: 8,
      },
      // mm->tlb_flush_batched was set: flush_tlb_batched_pending() flushes the mm once
      again: {
        nr_tlb_local_flush_all: 1,
        nr_tlb_local_flush_one: 0,
        nr_tlb_remote_flush: 1,
        nr_tlb_remote_flush_received: 1,
        pswpout: 0,
      },
    });
  });
});
