import { describe, expect, test } from 'vitest';
import { createSystem, definePlugin, runScenario, ScenarioSchema, type MmPlugin, type RunResult } from '@mmsim/core';
import { createHardware } from '../src/index.js';

/**
 * order 9 on every anonymous fault (like `2048K: always`); fork copies a maybe-pinned exclusive
 * page (page_needs_cow_for_dma, v5.19+); `zeroThp`: a huge-zero write fault allocates a THP
 * (do_huge_zero_wp_pmd) instead of splitting the PMD.
 */
const thp = (zeroThp: boolean): MmPlugin =>
  definePlugin({
    name: 'thp-test',
    api: '^1.0.0',
    apply: (sys) => {
      sys.hooks.fault.anonOrders.tap('thp-test', (o) => o | (1 << 9));
      sys.hooks.fork.page.tap('thp-test', (ctx) =>
        ctx.parent.hasPinned && ctx.folio.maybePinned && ctx.page.exclusive ? 'copy' : undefined,
      );
      if (zeroThp) sys.hooks.fault.cowOrder.tap('thp-test', (o, vmf) => (vmf.level === 'pmd' ? 9 : o));
    },
  });

const F = [
  'nr_tlb_local_flush_all',
  'nr_tlb_local_flush_one',
  'nr_tlb_remote_flush',
  'nr_tlb_remote_flush_received',
  'thp_split_pmd',
];

/** One 2 MiB THP of p (cpu 0), `spin`: a second thread of p spins on cpu 1 (in mm_cpumask, not lazy). */
function run(steps: unknown[], spin: boolean, zeroThp = false): Record<string, number> {
  const sc = ScenarioSchema.parse({
    name: 'pmd-flush',
    steps: [
      { op: 'spawn', pid: 'p', cpu: 0 },
      ...(spin ? [{ op: 'thread', pid: 'p', cpu: 1, spin: true }] : []),
      { op: 'mmap', pid: 'p', name: 'a', size: '2MiB', align: '2MiB' },
      ...steps,
    ],
  });
  const sys = createSystem({ hardware: createHardware({ cpus: 2 }), policies: [thp(zeroThp)] });
  const r: RunResult = runScenario(sys, sc, { file: 'pmd-flush.json' });
  expect(r.checks.failed).toBe(0);
  return Object.fromEntries(F.map((n) => [n, r.phases.x!.counters[n] ?? 0]));
}

const touch = { op: 'access', pid: 'p', region: 'a', access: 'write', value: 1 };
/** the flushes of a phase: `full` full flushes, `one` INVLPGs, each remote too when `spin` */
const flushes = (spin: boolean, full: number, one: number, remote: number, split: number) => ({
  nr_tlb_local_flush_all: full,
  nr_tlb_local_flush_one: one,
  nr_tlb_remote_flush: spin ? remote : 0,
  nr_tlb_remote_flush_received: spin ? remote : 0,
  thp_split_pmd: split,
});

/*
 * x86 has no __HAVE_ARCH_FLUSH_PMD_TLB_RANGE: flush_pmd_tlb_range() is flush_tlb_range(), i.e.
 * flush_tlb_mm_range(mm, addr, addr + 2 MiB, PAGE_SHIFT, true): 512 pages > the 33-page
 * ceiling, so every PMD invalidation (pmdp_invalidate in __split_huge_pmd_locked,
 * pmdp_huge_clear_flush) is one full flush, local and (mm live elsewhere) remote.
 */
describe.each([false, true])('flush_pmd_tlb_range() on x86 is a full flush (second thread spinning: %s)', (spin) => {
  test('mprotect of half a THP: the split (full) + change_protection of 256 pages (full)', () => {
    const steps = [touch, { op: 'mprotect', pid: 'p', region: 'a', size: '1MiB', prot: 'r', phase: 'x' }];
    expect(run(steps, spin)).toEqual(flushes(spin, 2, 0, 2, 1));
  });

  test('mremap of half a THP: the split (full) + move_ptes of 256 pages (full)', () => {
    const steps = [touch, { op: 'mremap', pid: 'p', region: 'a', size: '1MiB', to: 'b', phase: 'x' }];
    expect(run(steps, spin)).toEqual(flushes(spin, 2, 0, 2, 1));
  });

  test("fork of a pinned THP: copy_huge_pmd splits the parent's PMD (full) + dup_mmap's flush_tlb_mm (full)", () => {
    const steps = [
      touch,
      { op: 'pin', pid: 'p', region: 'a', size: '4KiB', write: true, longterm: true, id: 'k' },
      { op: 'fork', pid: 'p', child: 'c', phase: 'x' },
    ];
    expect(run(steps, spin)).toEqual(flushes(spin, 2, 0, 2, 1));
  });

  const zero = [
    { op: 'access', pid: 'p', region: 'a', access: 'read' },
    { ...touch, phase: 'x' },
  ];
  test('write to the huge zero page, split rule: the split (full) + wp_page_copy of the small zero page (1 page)', () => {
    expect(run(zero, spin)).toEqual(flushes(spin, 1, 1, 2, 1));
  });

  test('write to the huge zero page, THP rule (do_huge_zero_wp_pmd): pmdp_huge_clear_flush (full)', () => {
    expect(run(zero, spin, true)).toEqual(flushes(spin, 1, 0, 1, 0));
  });
});

test('flush_tlb_range() passes freed_tables: a lazy CPU of the mm gets the split IPI, not the PTE flush', () => {
  const sc = ScenarioSchema.parse({
    name: 'pmd-flush-lazy',
    steps: [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'thread', pid: 'p', cpu: 1 },
      { op: 'mmap', pid: 'p', name: 'a', size: '2MiB', align: '2MiB' },
      touch,
      // cpu 1 runs a thread of p once, then idles with p's mm loaded (lazy TLB)
      { op: 'access', pid: 'p', cpu: 1, region: 'a', access: 'read' },
      { op: 'mprotect', pid: 'p', region: 'a', size: '1MiB', prot: 'r', phase: 'x' },
    ],
  });
  const sys = createSystem({ hardware: createHardware({ cpus: 2 }), policies: [thp(false)] });
  const r = runScenario(sys, sc, { file: 'pmd-flush-lazy.json' });
  const names = [...F, 'ipi_sent', 'tlb_lazy_skip'];
  expect(Object.fromEntries(names.map((n) => [n, r.phases.x!.counters[n] ?? 0]))).toEqual({
    nr_tlb_local_flush_all: 2,
    nr_tlb_local_flush_one: 0,
    nr_tlb_remote_flush: 2, // cpu 1 is in mm_cpumask for both
    nr_tlb_remote_flush_received: 1, // the split's IPI; change_protection's skips the lazy CPU
    thp_split_pmd: 1,
    ipi_sent: 1,
    tlb_lazy_skip: 1,
  });
});

/*
 * A whole THP zapped through an mmu_gather: zap_huge_pmd() → tlb_remove_pmd_tlb_entry() sets
 * cleared_pmds only, so tlb_get_unmap_shift() is PMD_SHIFT and x86's tlb_flush() calls
 * flush_tlb_mm_range(mm, start, end, PMD_SHIFT, freed_tables): (2 MiB >> 21) = 1 <= 33, a ranged
 * flush of one INVLPG (flush_tlb_func: nr_invalidate = (end - start) >> stride_shift, 016c4d92cd16).
 */
describe.each([false, true])(
  'mmu_gather over a whole THP strides by PMD_SHIFT (second thread spinning: %s)',
  (spin) => {
    test('MADV_DONTNEED of the whole THP: one 2 MiB INVLPG, no split', () => {
      const steps = [touch, { op: 'madvise', pid: 'p', region: 'a', advice: 'dontneed', phase: 'x' }];
      expect(run(steps, spin)).toEqual(flushes(spin, 0, 1, 1, 0));
    });

    test('MADV_DONTNEED of the huge zero page: the same single INVLPG', () => {
      const steps = [
        { op: 'access', pid: 'p', region: 'a', access: 'read' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'dontneed', phase: 'x' },
      ];
      expect(run(steps, spin)).toEqual(flushes(spin, 0, 1, 1, 0));
    });

    test('MADV_COLD of a young THP: pmdp_invalidate() (flush_pmd_tlb_range: full) + the gather (one INVLPG)', () => {
      const steps = [touch, { op: 'madvise', pid: 'p', region: 'a', advice: 'cold', phase: 'x' }];
      expect(run(steps, spin)).toEqual(flushes(spin, 1, 1, 2, 0));
    });
  },
);
