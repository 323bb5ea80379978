import { describe, expect, test } from 'vitest';
import { createSystem, mprotect, runScenario, ScenarioSchema, type RunResult } from '@mmsim/core';
import { createHardware } from '../src/index.js';
import { COMPARABLE, PRIVATE_MM, SHARED_MM } from './comparable-scenarios.js';
import { delta, forceswap, region, rig, touch } from './helpers.js';

/**
 * The counters comparable across architectures (docs/counters.md): the same scenarios and the
 * same expected figures as hw-x86's test/comparable.test.ts, except where the architectures
 * really differ (arm64 keeps per-VA TLBIs up to MAX_DVM_OPS = 512 pages and for the reclaim
 * batch, and flush_tlb_batched_pending() is only a DSB ISH: no invalidation of its own).
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

describe('comparable counters: an mm on 4 CPUs (cpu 3 idle)', () => {
  const r = run(SHARED_MM);

  test.each([
    ['munmap1', req(1, 3, 0, 1, 0)],
    ['dontneed16', req(1, 3, 0, 16, 0)],
    // below MAX_DVM_OPS: 40 TLBI VAE1IS (x86: a full flush above its 33-page ceiling)
    ['dontneed40', req(1, 3, 0, 40, 0)],
    ['mprotect2', req(1, 3, 0, 2, 0)],
    // madvise's 3-page range flush, then one batch per dirty page, its 1-page TLBI completed
    // by arch_tlbbatch_flush()'s DSB (x86: 3 pages + 3 full flushes)
    ['pageout3', req(4, 12, 0, 6, 0)],
    ['exit', req(1, 3, 0, 0, 1)],
  ])('%s', (phase, want) => {
    expect(pick(r, phase)).toEqual(want);
  });

  test('one request is one sequence however many TLBIs it takes; never an IPI', () => {
    expect(pick(r, 'dontneed40', ['tlbi_broadcast', 'dsb_ish', 'ipi_sent'])).toEqual({
      tlbi_broadcast: 40,
      dsb_ish: 1,
      ipi_sent: 0,
    });
    expect(r.total.counters.nr_tlb_remote_flush ?? 0).toBe(0);
  });
});

describe('comparable counters: a single-threaded mm', () => {
  const r = run(PRIVATE_MM);

  test.each([
    ['munmap1', req(0, 0, 1, 1, 0)],
    ['dontneed40', req(0, 0, 1, 40, 0)],
    // dup_mmap(): flush_tlb_mm() of the parent after write-protecting it
    ['fork', req(0, 0, 1, 0, 1)],
    // tlb_flush() with fullmm and freed tables: flush_tlb_mm() (TLBI ASIDE1IS); no lazy-TLB
    // shortcut on arm64 (x86: exit_mm()'s lazy CPU switches to init_mm and flushes nothing)
    ['exit', req(0, 0, 1, 0, 1)],
  ])('%s', (phase, want) => {
    expect(pick(r, phase)).toEqual(want);
  });

  test('every TLBI is still broadcast, but none counts as remote', () => {
    expect(r.total.counters.tlb_remote_inval ?? 0).toBe(0);
    expect(r.phases.munmap1!.counters.tlbi_broadcast).toBe(1);
  });
});

describe('comparable counters: contpte break-before-make', () => {
  test("an unfold's block TLBI is a sequence of its own", () => {
    const x = rig({}, 4, { features: { tryChangeWritable: true } });
    const p = x.k.spawn('a', 0);
    const vma = region(x, p, 64);
    touch(x, p, vma.start, 64, true);
    const d = delta(x, [...COMPARABLE, 'contpte_unfold', 'dsb_ish'], () =>
      mprotect(x.k, p.mm, vma.start + 5, vma.start + 6, 'r'),
    );
    // the 16-page block (contpte_convert) + mprotect's own 1-page flush
    expect(d).toEqual({ ...req(0, 0, 2, 17, 0), contpte_unfold: 1, dsb_ish: 2 });
  });
});

describe('comparable counters: forceswap (seed 000), 2 threads', () => {
  const ROUNDS = 500;
  const sum = (r: RunResult, name: string) =>
    ['pageout', 'read', 'write'].reduce((n, ph) => n + (r.phases[ph]?.counters[name] ?? 0), 0);

  // per round, pageout: the reclaim batch (a 1-page TLBI VAE1IS completed by
  // arch_tlbbatch_flush()'s DSB) and madvise's 1-page range flush; flush_tlb_batched_pending()
  // is a DSB ISH only (x86: a full remote flush, its 3rd per round)
  test('v5.8 rule: 2 remote invalidations per round, none in the write', () => {
    const r = forceswap({ threads: 2, rounds: ROUNDS, v58: true });
    expect(sum(r, 'tlb_remote_inval')).toBe(2 * ROUNDS);
    expect(sum(r, 'tlb_remote_inval_cpus')).toBe(2 * ROUNDS);
    expect(sum(r, 'tlb_local_inval')).toBe(0);
    expect(sum(r, 'tlb_inval_pages')).toBe(2 * ROUNDS);
    expect(sum(r, 'tlb_inval_full')).toBe(0);
    expect(pick(r, 'write')).toEqual(req(0, 0, 0, 0, 0));
  });

  test("v5.9 rule: the write's CoW adds a 3rd, a 1-page remote invalidation per round", () => {
    const r = forceswap({ threads: 2, rounds: ROUNDS, v58: false });
    expect(sum(r, 'tlb_remote_inval')).toBe(3 * ROUNDS);
    expect(sum(r, 'tlb_inval_pages')).toBe(3 * ROUNDS);
    expect(sum(r, 'tlb_inval_full')).toBe(0);
    expect(pick(r, 'write')).toEqual(req(ROUNDS, ROUNDS, 0, ROUNDS, 0));
    expect(pick(r, 'pageout')).toEqual(pick(forceswap({ threads: 2, rounds: ROUNDS, v58: true }), 'pageout'));
  });

  test('one thread: the same requests, all local', () => {
    for (const [v58, perRound] of [
      [true, 2],
      [false, 3],
    ] as const) {
      const r = forceswap({ threads: 1, rounds: ROUNDS, v58 });
      expect(sum(r, 'tlb_remote_inval')).toBe(0);
      expect(sum(r, 'tlb_local_inval')).toBe(perRound * ROUNDS);
    }
  });
});
