import { describe, expect, test } from 'vitest';
import { createSystem, runScenario, ScenarioSchema, type RunResult } from '@mmsim/core';
import { createHardware } from '../src/index.js';
import { COMPARABLE, PRIVATE_MM, SHARED_MM } from './comparable-scenarios.js';
import { forceswap } from './helpers.js';

/**
 * The counters comparable across architectures (docs/counters.md): the same scenarios and the
 * same expected figures as hw-arm64's test/comparable.test.ts, except where the architectures
 * really differ (x86 flushes whole ASIDs above 33 pages and for every reclaim batch, and does a
 * full remote flush in flush_tlb_batched_pending(); arm64 only waits there with DSB ISH).
 */

function run(sc: unknown): RunResult {
  const sys = createSystem({ hardware: createHardware({ cpus: 4 }) });
  return runScenario(sys, ScenarioSchema.parse(sc), { file: 'comparable.json' });
}

function pick(r: RunResult, phase: string, names: readonly string[] = COMPARABLE): Record<string, number> {
  const c = r.phases[phase]!.counters;
  return Object.fromEntries(names.map((n) => [n, c[n] ?? 0]));
}

const req = (remote: number, cpus: number, local: number, pages: number, full: number) => ({
  tlb_remote_inval: remote,
  tlb_remote_inval_cpus: cpus,
  tlb_local_inval: local,
  tlb_inval_pages: pages,
  tlb_inval_full: full,
});

describe('comparable counters: an mm on 4 CPUs (cpu 3 lazy)', () => {
  const r = run(SHARED_MM);

  test.each([
    ['munmap1', req(1, 3, 0, 1, 0)],
    ['dontneed16', req(1, 3, 0, 16, 0)],
    // 40 pages > flushCeiling (33): flush_tlb_mm_range() flushes the whole ASID (arm64: 40 pages)
    ['dontneed40', req(1, 3, 0, 0, 1)],
    ['mprotect2', req(1, 3, 0, 2, 0)],
    // madvise's 3-page range flush, then one arch_tlbbatch_flush() (full) per dirty page
    ['pageout3', req(4, 12, 0, 3, 3)],
    ['exit', req(1, 3, 0, 0, 1)],
  ])('%s', (phase, want) => {
    expect(pick(r, phase)).toEqual(want);
  });

  test('tlb_remote_inval is nr_tlb_remote_flush; its CPUs are the IPIs plus the skipped lazy CPUs', () => {
    for (const phase of Object.keys(r.phases)) {
      const c = r.phases[phase]!.counters;
      expect(c.tlb_remote_inval ?? 0).toBe(c.nr_tlb_remote_flush ?? 0);
      expect(c.tlb_remote_inval_cpus ?? 0).toBe((c.ipi_sent ?? 0) + (c.tlb_lazy_skip ?? 0));
    }
    // the lazy cpu 3 is skipped unless page tables were freed (exit)
    expect(pick(r, 'munmap1', ['ipi_sent', 'tlb_lazy_skip'])).toEqual({ ipi_sent: 2, tlb_lazy_skip: 1 });
    expect(pick(r, 'exit', ['ipi_sent', 'tlb_lazy_skip'])).toEqual({ ipi_sent: 3, tlb_lazy_skip: 0 });
  });
});

describe('comparable counters: a single-threaded mm', () => {
  const r = run(PRIVATE_MM);

  test.each([
    ['munmap1', req(0, 0, 1, 1, 0)],
    ['dontneed40', req(0, 0, 1, 0, 1)],
    // dup_mmap(): flush_tlb_mm() of the parent after write-protecting it
    ['fork', req(0, 0, 1, 0, 1)],
    // exit_mm() made the CPU lazy before exit_mmap(): flush_tlb_func() switches to init_mm, no invalidation
    ['exit', req(0, 0, 0, 0, 0)],
  ])('%s', (phase, want) => {
    expect(pick(r, phase)).toEqual(want);
  });

  test('no remote invalidation, no IPI', () => {
    expect(r.total.counters.tlb_remote_inval ?? 0).toBe(0);
    expect(r.total.counters.ipi_sent ?? 0).toBe(0);
  });
});

describe('comparable counters: forceswap (seed 000), 2 threads', () => {
  const ROUNDS = 500;
  const sum = (r: RunResult, name: string) =>
    ['pageout', 'read', 'write'].reduce((n, ph) => n + (r.phases[ph]?.counters[name] ?? 0), 0);

  // per steady round, pageout: flush_tlb_batched_pending() (full), arch_tlbbatch_flush() (full),
  // madvise's 1-page range flush; the first round has no batched flush pending yet (- 1)
  test('v5.8 rule: 3 remote invalidations per round, none in the write', () => {
    const r = forceswap({ threads: 2, rounds: ROUNDS, v58: true });
    expect(sum(r, 'tlb_remote_inval')).toBe(3 * ROUNDS - 1);
    expect(sum(r, 'tlb_remote_inval_cpus')).toBe(3 * ROUNDS - 1);
    expect(sum(r, 'tlb_local_inval')).toBe(0);
    expect(sum(r, 'tlb_inval_pages')).toBe(ROUNDS);
    expect(sum(r, 'tlb_inval_full')).toBe(2 * ROUNDS - 1);
    expect(pick(r, 'write')).toEqual(req(0, 0, 0, 0, 0));
  });

  test("v5.9 rule: the write's CoW adds a 4th, a 1-page remote invalidation per round", () => {
    const r = forceswap({ threads: 2, rounds: ROUNDS, v58: false });
    expect(sum(r, 'tlb_remote_inval')).toBe(4 * ROUNDS - 1);
    expect(sum(r, 'tlb_inval_pages')).toBe(2 * ROUNDS);
    expect(sum(r, 'tlb_inval_full')).toBe(2 * ROUNDS - 1);
    expect(pick(r, 'write')).toEqual(req(ROUNDS, ROUNDS, 0, ROUNDS, 0));
    expect(pick(r, 'pageout')).toEqual(pick(forceswap({ threads: 2, rounds: ROUNDS, v58: true }), 'pageout'));
  });

  // should_defer_flush(): with no other CPU in mm_cpumask try_to_unmap() flushes the PTE at once
  // (one page), nothing is left batched, so neither arch_tlbbatch_flush() nor
  // flush_tlb_batched_pending() flushes: 1-page invalidations only, no full one
  test('one thread: nothing batched, every request a local 1-page invalidation', () => {
    for (const [v58, perRound] of [
      [true, 2],
      [false, 3],
    ] as const) {
      const r = forceswap({ threads: 1, rounds: ROUNDS, v58 });
      expect(sum(r, 'tlb_remote_inval')).toBe(0);
      expect(sum(r, 'tlb_local_inval')).toBe(perRound * ROUNDS);
      expect(sum(r, 'tlb_inval_pages')).toBe(perRound * ROUNDS);
      expect(sum(r, 'tlb_inval_full')).toBe(0);
    }
  });
});
