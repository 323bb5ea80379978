import { describe, expect, it } from 'vitest';
import { ctr, ctrs, mem, run } from './helpers.js';

const WP = ['pgfault', 'pgreuse', 'cow_copy', 'cow_zero'];

describe('write-protect faults (do_wp_page), default v5.9 rule: reuse iff order 0 and refcount 1', () => {
  it('after fork the child copies; after the child exits the parent reuses', () => {
    const r = run({
      name: 'fork-cow',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '32KiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 1 },
        { op: 'drain' },
        { op: 'fork', pid: 'p', child: 'c' },
        // each page: refcount 2 (two mappings) -> copy
        { op: 'touch', pid: 'c', region: 'b', access: 'write', value: 2, phase: 'child' },
        { op: 'exit', pid: 'c', phase: 'exit' },
        // each page: refcount 1 again -> reuse
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 3, phase: 'parent' },
        { op: 'access', pid: 'p', region: 'b', offset: '4KiB', access: 'read', expect: 3 },
      ],
    });
    expect(ctrs(r, 'child', WP)).toEqual({ pgfault: 8, pgreuse: 0, cow_copy: 8, cow_zero: 0 });
    expect(ctrs(r, 'parent', WP)).toEqual({ pgfault: 8, pgreuse: 8, cow_copy: 0, cow_zero: 0 });
    // wp_page_reuse() needs no flush
    expect(ctr(r, 'parent', 'tlb_flush_request')).toBe(0);
    expect(mem(r, 'parent')).toMatchObject({ AnonPages: 32, MemUsed: 32 });
    expect(r.checks.failed).toBe(0);
  });

  it('the child copies land in the LRU batch; exit drains it (free_pages_and_swap_cache → lru_add_drain) so the parent still reuses', () => {
    const r = run({
      name: 'fork-cow-nodrain',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '32KiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 1 },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'touch', pid: 'c', region: 'b', access: 'write', value: 2, phase: 'child' },
        { op: 'exit', pid: 'c', phase: 'exit' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 3, phase: 'parent' },
      ],
    });
    // child: refcount 3 (2 mappings + the batch): copies
    expect(ctrs(r, 'child', WP)).toEqual({ pgfault: 8, pgreuse: 0, cow_copy: 8, cow_zero: 0 });
    expect(ctr(r, 'exit', 'lru_batch_drain')).toBe(1);
    expect(ctrs(r, 'parent', WP)).toEqual({ pgfault: 8, pgreuse: 8, cow_copy: 0, cow_zero: 0 });
  });

  it('a page still in the per-CPU LRU batch is copied (seed 000), and reused after drain', () => {
    const steps = (drain: boolean) => [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
      { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 1 },
      { op: 'mprotect', pid: 'p', region: 'b', prot: 'r' },
      { op: 'mprotect', pid: 'p', region: 'b', prot: 'rw' },
      ...(drain ? [{ op: 'drain' }] : []),
      { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 2, phase: 'write' },
      { op: 'access', pid: 'p', region: 'b', access: 'read', expect: 2 },
    ];
    const batched = run({ name: 'batched', steps: steps(false) });
    // refcount 2: the mapping and the lru_add batch
    expect(ctrs(batched, 'write', WP)).toEqual({ pgfault: 1, pgreuse: 0, cow_copy: 1, cow_zero: 0 });
    expect(ctr(batched, 'write', 'nr_tlb_local_flush_one')).toBe(1); // ptep_clear_flush
    // the old page waits in the batch: 2 pages in use until the next drain
    expect(mem(batched, 'write')).toMatchObject({ AnonPages: 4, MemUsed: 8 });
    const drained = run({ name: 'drained', steps: steps(true) });
    expect(ctrs(drained, 'write', WP)).toEqual({ pgfault: 1, pgreuse: 1, cow_copy: 0, cow_zero: 0 });
    expect(ctr(drained, 'write', 'tlb_flush_request')).toBe(0);
    expect(mem(drained, 'write')).toMatchObject({ AnonPages: 4, MemUsed: 4 });
    expect(batched.checks.failed + drained.checks.failed).toBe(0);
  });

  it('only the batch of the CPU that holds the page matters: draining another CPU does not help', () => {
    const steps = (drainCpu: number) => [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'thread', pid: 'p', cpu: 1 },
      { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
      { op: 'touch', pid: 'p', region: 'b', access: 'write', cpu: 1 },
      { op: 'mprotect', pid: 'p', region: 'b', prot: 'r' },
      { op: 'mprotect', pid: 'p', region: 'b', prot: 'rw' },
      { op: 'drain', cpu: drainCpu },
      { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'write' },
    ];
    expect(ctrs(run({ name: 'other', steps: steps(0) }), 'write', WP)).toEqual({
      pgfault: 1,
      pgreuse: 0,
      cow_copy: 1,
      cow_zero: 0,
    });
    expect(ctrs(run({ name: 'own', steps: steps(1) }), 'write', WP)).toEqual({
      pgfault: 1,
      pgreuse: 1,
      cow_copy: 0,
      cow_zero: 0,
    });
  });

  it('the LRU batch size decides when the batch drains by itself (15 vs 31)', () => {
    // 20 pages written, write-protected, rewritten.
    const steps = [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'b', size: '80KiB' },
      { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'touch' },
      { op: 'mprotect', pid: 'p', region: 'b', prot: 'r', phase: 'protect' },
      { op: 'mprotect', pid: 'p', region: 'b', prot: 'rw' },
      { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'rewrite' },
    ];
    // 15: the 15th fault fills the batch, pages 1-15 go to the LRU (refcount 1), 16-20 stay
    // batched. Rewrite: 15 reuses, 5 copies (the copies refill the batch to 10: no drain).
    const r15 = run({ name: 'b15', steps }, { config: { lruBatchSize: 15 } });
    expect(ctr(r15, 'touch', 'lru_batch_drain')).toBe(1);
    expect(mem(r15, 'touch')).toMatchObject({ Inactive_anon: 60, AnonPages: 80 });
    expect(ctrs(r15, 'rewrite', [...WP, 'lru_batch_drain'])).toEqual({
      pgfault: 20,
      pgreuse: 15,
      cow_copy: 5,
      cow_zero: 0,
      lru_batch_drain: 0,
    });
    expect(mem(r15, 'rewrite')).toMatchObject({ AnonPages: 80, MemUsed: 100, Inactive_anon: 60 });
    // 31: all 20 stay batched. Rewrite: pages 1-11 copy (batch 20 → 31 with the 11th copy,
    // which drains it: the 11 old pages are freed), pages 12-20 are then reused.
    const r31 = run({ name: 'b31', steps }, { config: { lruBatchSize: 31 } });
    expect(ctr(r31, 'touch', 'lru_batch_drain')).toBe(0);
    expect(mem(r31, 'touch')).toMatchObject({ Inactive_anon: 0, AnonPages: 80 });
    expect(ctrs(r31, 'rewrite', [...WP, 'lru_batch_drain'])).toEqual({
      pgfault: 20,
      pgreuse: 9,
      cow_copy: 11,
      cow_zero: 0,
      lru_batch_drain: 1,
    });
    expect(mem(r31, 'rewrite')).toMatchObject({ AnonPages: 80, MemUsed: 80, Inactive_anon: 80 });
    // mprotect(r) changed 20 PTEs; mprotect(rw) without tryChangeWritable changes none
    expect(ctr(r31, 'protect', 'mprotect_pte')).toBe(20);
  });
});
