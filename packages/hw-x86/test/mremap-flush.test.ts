import { describe, expect, test } from 'vitest';
import { createSystem, runScenario, ScenarioSchema, type RunResult } from '@mmsim/core';
import { createHardware } from '../src/index.js';

const F = [
  'nr_tlb_local_flush_all',
  'nr_tlb_local_flush_one',
  'nr_tlb_remote_flush',
  'mremap_pte_move',
  'mremap_table_move',
  'pgtable_alloc',
  'pgtable_free',
];

/** p on cpu 0 (a second thread spinning on cpu 1) with a region `a` of `size`, written whole. */
function run(size: string, steps: unknown[]): Record<string, number> {
  const sc = ScenarioSchema.parse({
    name: 'mremap-flush',
    steps: [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'thread', pid: 'p', cpu: 1, spin: true },
      { op: 'mmap', pid: 'p', name: 'a', size, align: '2MiB' },
      { op: 'mmap', pid: 'p', name: 'dst', size, align: '2MiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write' },
      ...steps,
    ],
  });
  const sys = createSystem({ hardware: createHardware({ cpus: 2 }) });
  const r: RunResult = runScenario(sys, sc, { file: 'mremap-flush.json' });
  expect(r.checks.failed).toBe(0);
  return Object.fromEntries(F.map((n) => [n, r.phases.x!.counters[n] ?? 0]));
}

const fixed = { mayMove: true, fixed: { region: 'dst' }, to: 'b', phase: 'x' };

/*
 * flush_tlb_range() on x86: flush_tlb_mm_range(); up to the 33-page ceiling one INVLPG per page,
 * above it a full flush; remote CPUs of the mm get the same request (one IPI each).
 */
describe('mremap flushes on x86 (move_page_tables extent by extent)', () => {
  test('4 MiB, both PMD-aligned: move_normal_pmd() twice, each flushes its 2 MiB (full); no PTE moved, no table allocated', () => {
    expect(run('4MiB', [{ op: 'mremap', pid: 'p', region: 'a', ...fixed }])).toEqual({
      nr_tlb_local_flush_all: 2,
      nr_tlb_local_flush_one: 0,
      nr_tlb_remote_flush: 2,
      mremap_pte_move: 0,
      mremap_table_move: 2,
      pgtable_alloc: 0,
      pgtable_free: 0,
    });
  });

  test('the plain mremap {to} of the same 4 MiB keeps its model: 1024 PTEs moved, one full flush, then free_pgtables() of the 2 old tables', () => {
    expect(run('4MiB', [{ op: 'mremap', pid: 'p', region: 'a', to: 'b', phase: 'x' }])).toEqual({
      nr_tlb_local_flush_all: 1,
      nr_tlb_local_flush_one: 2,
      nr_tlb_remote_flush: 2,
      mremap_pte_move: 1024,
      mremap_table_move: 0,
      pgtable_alloc: 2,
      pgtable_free: 2,
    });
  });

  test('16 pages: one move_ptes() extent, one flush of 16 pages (INVLPG each); the munmap of the old range frees its table (one more flush)', () => {
    expect(run('64KiB', [{ op: 'mremap', pid: 'p', region: 'a', ...fixed }])).toEqual({
      nr_tlb_local_flush_all: 0,
      nr_tlb_local_flush_one: 17,
      nr_tlb_remote_flush: 2,
      mremap_pte_move: 16,
      mremap_table_move: 0,
      pgtable_alloc: 1,
      pgtable_free: 1,
    });
  });
});
