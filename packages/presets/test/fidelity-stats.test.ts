import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, PG, runScenario, ScenarioSchema, type RunResult } from '@mmsim/core';
import { resolvePreset } from '../src/index.js';

// Counters of the deferred split queue, MADV_COLD and swap-out, per era (issue 13 items 1, 2, 6, 9).
function run(kernel: string, thp: Record<string, string>, steps: unknown[]): RunResult {
  const { config, plugins } = resolvePreset(kernel);
  const sys = createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: plugins,
    config: { ...config, thp } as never,
  });
  return runScenario(sys, ScenarioSchema.parse({ name: 't', steps }));
}
const c = (r: RunResult, ph: string, n: string): number => r.phases[ph]!.counters[n] ?? 0;
const cs = (r: RunResult, ph: string, ns: string[]) => Object.fromEntries(ns.map((n) => [n, c(r, ph, n)]));

const MTHP_64K = { top: 'never', '64K': 'always' };
const THP_2M = { top: 'always' };

/** One large folio of `size`, written whole, then one page of it zapped. */
const partialZap = (size: string) => [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'a', size },
  { op: 'touch', pid: 'p', region: 'a', access: 'write' },
  { op: 'madvise', pid: 'p', region: 'a', offset: '4KiB', size: '4KiB', advice: 'dontneed', phase: 'x' },
];

describe('deferred_split_folio(): thp_deferred_split_page only for PMD-sized folios (v6.10)', () => {
  const names = ['thp_deferred_split_page', 'mthp_64kB_split_deferred', 'mthp_2048kB_split_deferred'];
  it('linux-6.18: a 64 KiB folio counts in mthp_64kB_split_deferred only', () => {
    expect(cs(run('linux-6.18', MTHP_64K, partialZap('64KiB')), 'x', names)).toEqual({
      thp_deferred_split_page: 0,
      mthp_64kB_split_deferred: 1,
      mthp_2048kB_split_deferred: 0,
    });
  });
  it('linux-6.8: every queued large folio counts in thp_deferred_split_page; no per-size stat yet', () => {
    expect(cs(run('linux-6.8', MTHP_64K, partialZap('64KiB')), 'x', names)).toEqual({
      thp_deferred_split_page: 1,
      mthp_64kB_split_deferred: 0,
      mthp_2048kB_split_deferred: 0,
    });
  });
  it('a 2 MiB folio counts in thp_deferred_split_page in every era', () => {
    expect(cs(run('linux-6.18', THP_2M, partialZap('2MiB')), 'x', names)).toEqual({
      thp_deferred_split_page: 1,
      mthp_64kB_split_deferred: 0,
      mthp_2048kB_split_deferred: 1,
    });
    expect(cs(run('linux-5.8', THP_2M, partialZap('2MiB')), 'x', names)).toEqual({
      thp_deferred_split_page: 1,
      mthp_64kB_split_deferred: 0,
      mthp_2048kB_split_deferred: 0,
    });
  });
});

describe('reclaim of a whole large folio is not a deferred split (deferred_split_folio skips the swap cache)', () => {
  const pageout = (size: string) => [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'a', size },
    { op: 'touch', pid: 'p', region: 'a', access: 'write' },
    { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'x' },
  ];
  const names = [
    'pswpout',
    'pgsteal',
    'thp_deferred_split_page',
    'mthp_64kB_split_deferred',
    'mthp_2048kB_split_deferred',
  ];
  it('linux-6.18, 64 KiB folio: swapped out whole, no deferred split', () => {
    expect(cs(run('linux-6.18', MTHP_64K, pageout('64KiB')), 'x', names)).toEqual({
      pswpout: 16,
      pgsteal: 16,
      thp_deferred_split_page: 0,
      mthp_64kB_split_deferred: 0,
      mthp_2048kB_split_deferred: 0,
    });
  });
  it('2 MiB THP (PMD split by TTU_SPLIT_HUGE_PMD, then unmapped): no deferred split, linux-6.18 and linux-5.8', () => {
    for (const kernel of ['linux-6.18', 'linux-5.8']) {
      const r = run(kernel, THP_2M, pageout('2MiB'));
      expect(cs(r, 'x', [...names, 'thp_split_pmd', 'thp_swpout'])).toEqual({
        pswpout: 512,
        pgsteal: 512,
        thp_deferred_split_page: 0,
        mthp_64kB_split_deferred: 0,
        mthp_2048kB_split_deferred: 0,
        thp_split_pmd: 1,
        thp_swpout: 1,
      });
    }
  });
});

describe('MADV_COLD of an inactive folio is a no-op (folio_deactivate() moves active folios only)', () => {
  // fork then exit of the child: the page is no longer exclusive, so the write after MADV_COLD
  // takes do_wp_page(), which reuses it only when nothing else holds a reference
  const steps = (size: string) => [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'a', size },
    { op: 'touch', pid: 'p', region: 'a', access: 'write' },
    { op: 'fork', pid: 'p', child: 'c' },
    { op: 'exit', pid: 'c' },
    { op: 'madvise', pid: 'p', region: 'a', advice: 'cold', phase: 'cold' },
    { op: 'access', pid: 'p', region: 'a', access: 'write', value: 7, phase: 'w' },
    { op: 'access', pid: 'p', region: 'a', access: 'read', expect: 7 },
  ];
  for (const kernel of ['linux-6.18', 'linux-5.19']) {
    it(`${kernel}: no deactivation, no batch reference; the write reuses the page`, () => {
      const r = run(kernel, { top: 'never' }, steps('4KiB'));
      expect(cs(r, 'cold', ['pgdeactivate', 'lru_batch_drain'])).toEqual({ pgdeactivate: 0, lru_batch_drain: 0 });
      expect(cs(r, 'w', ['pgfault', 'pgreuse', 'cow_copy'])).toEqual({ pgfault: 1, pgreuse: 1, cow_copy: 0 });
      expect(r.checks.failed).toBe(0);
    });
  }
  it('linux-6.18, a 64 KiB folio: MADV_COLD keeps it whole and takes no reference; the write reuses it', () => {
    const r = run('linux-6.18', MTHP_64K, steps('64KiB'));
    expect(cs(r, 'cold', ['pgdeactivate', 'lru_batch_drain'])).toEqual({ pgdeactivate: 0, lru_batch_drain: 0 });
    expect(cs(r, 'w', ['pgfault', 'pgreuse', 'cow_copy'])).toEqual({ pgfault: 1, pgreuse: 1, cow_copy: 0 });
  });
});

describe('zero-filled pages at swap-out are not written (zeromap, v6.12)', () => {
  // two pages written with 0 (zero-filled) and one with 5; swapped out, then read back
  const steps = (size: string, value: number) => [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'a', size },
    { op: 'touch', pid: 'p', region: 'a', access: 'write', value },
    { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'out' },
    { op: 'touch', pid: 'p', region: 'a', access: 'read', phase: 'in' },
    { op: 'access', pid: 'p', region: 'a', access: 'read', expect: value },
  ];
  const out = ['pswpout', 'swpout_zero', 'pgsteal', 'thp_swpout'];
  const inn = ['pswpin', 'swpin_zero', 'pgmajfault'];
  it('linux-6.18: 3 zero-filled pages: swpout_zero 3, swpin_zero 3, no device I/O; major faults still', () => {
    const r = run('linux-6.18', { top: 'never' }, steps('12KiB', 0));
    expect(cs(r, 'out', out)).toEqual({ pswpout: 0, swpout_zero: 3, pgsteal: 3, thp_swpout: 0 });
    expect(cs(r, 'in', inn)).toEqual({ pswpin: 0, swpin_zero: 3, pgmajfault: 3 });
    expect(r.checks.failed).toBe(0);
  });
  it('linux-6.18: pages with data go to the device', () => {
    const r = run('linux-6.18', { top: 'never' }, steps('12KiB', 5));
    expect(cs(r, 'out', out)).toEqual({ pswpout: 3, swpout_zero: 0, pgsteal: 3, thp_swpout: 0 });
    expect(cs(r, 'in', inn)).toEqual({ pswpin: 3, swpin_zero: 0, pgmajfault: 3 });
  });
  it('linux-6.8: no zeromap, zero-filled pages are written and read like any other', () => {
    const r = run('linux-6.8', { top: 'never' }, steps('12KiB', 0));
    expect(cs(r, 'out', out)).toEqual({ pswpout: 3, swpout_zero: 0, pgsteal: 3, thp_swpout: 0 });
    expect(cs(r, 'in', inn)).toEqual({ pswpin: 3, swpin_zero: 0, pgmajfault: 3 });
    expect(r.checks.failed).toBe(0);
  });
  it('linux-6.18: a zero-filled 2 MiB THP: swpout_zero 512 and no thp_swpout (count_swpout_vm_event() is on the I/O path)', () => {
    const r = run('linux-6.18', THP_2M, steps('2MiB', 0));
    expect(cs(r, 'out', out)).toEqual({ pswpout: 0, swpout_zero: 512, pgsteal: 512, thp_swpout: 0 });
    const w = run('linux-6.18', THP_2M, steps('2MiB', 9));
    expect(cs(w, 'out', out)).toEqual({ pswpout: 512, swpout_zero: 0, pgsteal: 512, thp_swpout: 1 });
  });
  it('linux-6.18: a zero-filled 64 KiB folio comes back whole from the zeromap', () => {
    const r = run('linux-6.18', MTHP_64K, steps('64KiB', 0));
    expect(cs(r, 'out', out)).toEqual({ pswpout: 0, swpout_zero: 16, pgsteal: 16, thp_swpout: 0 });
    expect(cs(r, 'in', [...inn, 'mthp_64kB_anon_fault_alloc'])).toEqual({
      pswpin: 0,
      swpin_zero: 16,
      pgmajfault: 1,
      mthp_64kB_anon_fault_alloc: 0,
    });
  });
  it('linux-6.18: a 64 KiB folio with one non-zero page is written whole (is_folio_zero_filled() is per folio)', () => {
    const r = run('linux-6.18', MTHP_64K, [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'a', size: '64KiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 0 },
      { op: 'access', pid: 'p', region: 'a', offset: '20KiB', access: 'write', value: 3 },
      { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'out' },
      { op: 'access', pid: 'p', region: 'a', offset: '20KiB', access: 'read', expect: 3 },
    ]);
    expect(cs(r, 'out', out)).toEqual({ pswpout: 16, swpout_zero: 0, pgsteal: 16, thp_swpout: 0 });
    expect(r.checks.failed).toBe(0);
  });
});

describe('per-size mTHP swap stats (hugepages-<size>kB/stats/swpout, swpin)', () => {
  const steps = (size: string, value?: number) => [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'a', size },
    { op: 'touch', pid: 'p', region: 'a', access: 'write', ...(value === undefined ? {} : { value }) },
    { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'out' },
    { op: 'access', pid: 'p', region: 'a', access: 'read', phase: 'in' },
  ];
  const names = ['mthp_64kB_swpout', 'mthp_64kB_swpin', 'mthp_2048kB_swpout', 'pswpout', 'pswpin'];
  it('linux-6.18: a 64 KiB folio out and back in whole: one swpout, one swpin', () => {
    const r = run('linux-6.18', MTHP_64K, steps('64KiB'));
    expect({ ...cs(r, 'out', names.slice(0, 4)), ...cs(r, 'in', ['mthp_64kB_swpin', 'pswpin']) }).toEqual({
      mthp_64kB_swpout: 1,
      mthp_64kB_swpin: 1,
      mthp_2048kB_swpout: 0,
      pswpout: 16,
      pswpin: 16,
    });
  });
  it('linux-6.18: a 2 MiB THP counts in mthp_2048kB_swpout and thp_swpout', () => {
    const r = run('linux-6.18', THP_2M, steps('2MiB'));
    expect(cs(r, 'out', ['mthp_2048kB_swpout', 'thp_swpout', 'pswpout'])).toEqual({
      mthp_2048kB_swpout: 1,
      thp_swpout: 1,
      pswpout: 512,
    });
  });
  it('linux-6.18: a zero-filled folio does no I/O and counts in neither', () => {
    const r = run('linux-6.18', MTHP_64K, steps('64KiB', 0));
    expect({ ...cs(r, 'out', ['mthp_64kB_swpout']), ...cs(r, 'in', ['mthp_64kB_swpin']) }).toEqual({
      mthp_64kB_swpout: 0,
      mthp_64kB_swpin: 0,
    });
  });
  it('linux-6.8: no per-size swap stats yet', () => {
    const r = run('linux-6.8', MTHP_64K, steps('64KiB'));
    expect(cs(r, 'out', ['mthp_64kB_swpout', 'pswpout'])).toEqual({ mthp_64kB_swpout: 0, pswpout: 16 });
  });
});

describe('mthp_2048kB_anon_fault_fallback with thp_fault_fallback (memory too small for a THP)', () => {
  it('linux-6.18: the PMD fault falls back to a page', () => {
    const { config, plugins } = resolvePreset('linux-6.18');
    const sys = createSystem({
      hardware: new FlatHardware(2),
      presetPlugins: plugins,
      config: { ...config, thp: THP_2M, memoryPages: 256 } as never,
    });
    const r = runScenario(
      sys,
      ScenarioSchema.parse({
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p', cpu: 0 },
          { op: 'mmap', pid: 'p', name: 'a', size: '2MiB' },
          { op: 'access', pid: 'p', region: 'a', access: 'write', value: 1, phase: 'f' },
        ],
      }),
    );
    expect(cs(r, 'f', ['thp_fault_fallback', 'mthp_2048kB_anon_fault_fallback', 'thp_fault_alloc', 'pgfault'])).toEqual(
      {
        thp_fault_fallback: 1,
        mthp_2048kB_anon_fault_fallback: 1,
        thp_fault_alloc: 0,
        pgfault: 1,
      },
    );
  });
});

// MADV_PAGEOUT and the accessed bits (item 5's last full flush): since v6.9
// madvise_cold_or_pageout_pte_range() ages PTEs for MADV_COLD only (`!pageout && pte_young()`),
// so a pageout of young pages leaves no range for tlb_finish_mmu() to flush.
describe('MADV_PAGEOUT leaves the accessed bits alone from v6.9', () => {
  const steps = [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'a', size: '256KiB' },
    { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 7 },
    { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'out' },
  ];
  const names = ['nr_tlb_local_flush_one', 'nr_tlb_local_flush_all', 'pswpout'];
  it('linux-6.18, one CPU: one local single-page flush per page from try_to_unmap(), no gather flush', () => {
    expect(cs(run('linux-6.18', { top: 'never' }, steps), 'out', names)).toEqual({
      nr_tlb_local_flush_one: 64,
      nr_tlb_local_flush_all: 0,
      pswpout: 64,
    });
  });
  it('linux-6.8: the 64 young PTEs it clears are flushed at the end too (over the 33-page ceiling: full)', () => {
    expect(cs(run('linux-6.8', { top: 'never' }, steps), 'out', names)).toEqual({
      nr_tlb_local_flush_one: 64,
      nr_tlb_local_flush_all: 1,
      pswpout: 64,
    });
  });
});

// Per-size mTHP gauges (issue 13 item 8): hugepages-<size>kB/stats/nr_anon and
// nr_anon_partially_mapped (v6.12). A phase reports the gauge's change over the phase.
describe('mthp_<size>_nr_anon: +1 at folio_add_new_anon_rmap(), -1 when the folio is freed or split (v6.12)', () => {
  const roundTrip = (size: string) => [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'a', size },
    { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 3, phase: 'touch' },
    { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'out' },
    { op: 'touch', pid: 'p', region: 'a', access: 'read', phase: 'in' },
    { op: 'munmap', pid: 'p', region: 'a', phase: 'unmap' },
  ];
  const per = (r: RunResult, n: string) => ['touch', 'out', 'in', 'unmap'].map((ph) => c(r, ph, n));
  it('linux-6.18, 64 KiB folios: faulted, swapped out (freed), swapped in whole (a new anon folio), unmapped', () => {
    expect(per(run('linux-6.18', MTHP_64K, roundTrip('128KiB')), 'mthp_64kB_nr_anon')).toEqual([2, -2, 2, -2]);
  });
  it('linux-6.18, a 2 MiB THP: the swap-in is of small pages, not counted', () => {
    expect(per(run('linux-6.18', THP_2M, roundTrip('2MiB')), 'mthp_2048kB_nr_anon')).toEqual([1, -1, 0, 0]);
  });
  it('linux-6.8: no gauge yet', () => {
    expect(per(run('linux-6.8', MTHP_64K, roundTrip('128KiB')), 'mthp_64kB_nr_anon')).toEqual([0, 0, 0, 0]);
  });
});

describe('mthp_<size>_nr_anon_partially_mapped: set by deferred_split_folio(folio, true), cleared at free (v6.12)', () => {
  const steps = (kernel: string) =>
    run(kernel, MTHP_64K, [...partialZap('64KiB'), { op: 'munmap', pid: 'p', region: 'a', phase: 'y' }]);
  const names = ['mthp_64kB_nr_anon_partially_mapped', 'mthp_64kB_nr_anon', 'mthp_64kB_split_deferred'];
  it('linux-6.18: +1 at the partial zap, -1 with nr_anon when the rest is unmapped', () => {
    const r = steps('linux-6.18');
    expect([cs(r, 'x', names), cs(r, 'y', names)]).toEqual([
      { mthp_64kB_nr_anon_partially_mapped: 1, mthp_64kB_nr_anon: 0, mthp_64kB_split_deferred: 1 },
      { mthp_64kB_nr_anon_partially_mapped: -1, mthp_64kB_nr_anon: -1, mthp_64kB_split_deferred: 0 },
    ]);
  });
  it('linux-6.8: no gauge', () => {
    const r = steps('linux-6.8');
    expect([c(r, 'x', names[0]!), c(r, 'y', names[0]!)]).toEqual([0, 0]);
  });
});

// MADV_PAGEOUT / MADV_COLD over part of a large folio: madvise_cold_or_pageout_pte_range()
// splits it (split_folio(), counted in hugepages-<size>kB/stats/split for the folio's order).
describe('madvise_cold_or_pageout_pte_range(): split_folio() of a large folio the range does not cover', () => {
  const half = (size: string, advice: string, pre: unknown[] = []) => [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'a', size },
    { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 5 },
    ...pre,
    { op: 'madvise', pid: 'p', region: 'a', offset: '0KiB', size: '32KiB', advice, phase: 'x' },
  ];
  const names = [
    'mthp_64kB_split',
    'mthp_64kB_split_failed',
    'mthp_64kB_split_deferred',
    'mthp_64kB_nr_anon',
    'mthp_64kB_nr_anon_partially_mapped',
    'pswpout',
    'nr_tlb_local_flush_one',
  ];
  it('linux-6.18, MADV_PAGEOUT of half a 64 KiB folio: split (a flush per PTE unmapped for it), then 8 pages out', () => {
    const r = run('linux-6.18', MTHP_64K, half('64KiB', 'pageout'));
    expect(cs(r, 'x', names)).toEqual({
      mthp_64kB_split: 1,
      mthp_64kB_split_failed: 0,
      mthp_64kB_split_deferred: 1,
      mthp_64kB_nr_anon: -1,
      mthp_64kB_nr_anon_partially_mapped: 0,
      pswpout: 8,
      nr_tlb_local_flush_one: 24,
    });
    expect(r.phases.x!.meminfo.processes?.p?.RssAnon).toBe(32);
  });
  it('linux-6.18, MADV_COLD of half: split too, nothing written', () => {
    const r = run('linux-6.18', MTHP_64K, half('64KiB', 'cold'));
    expect(cs(r, 'x', ['mthp_64kB_split', 'pswpout'])).toEqual({ mthp_64kB_split: 1, pswpout: 0 });
  });
  it('linux-6.18: a folio also mapped by a child (folio_maybe_mapped_shared()) is left alone', () => {
    const r = run('linux-6.18', MTHP_64K, half('64KiB', 'pageout', [{ op: 'fork', pid: 'p', child: 'c' }]));
    expect(cs(r, 'x', ['mthp_64kB_split', 'mthp_64kB_split_failed', 'pswpout'])).toEqual({
      mthp_64kB_split: 0,
      mthp_64kB_split_failed: 0,
      pswpout: 0,
    });
  });
  it('linux-6.18: a pinned folio cannot be split (can_split_folio(): split_failed) and stays', () => {
    const pin = { op: 'pin', pid: 'p', region: 'a', offset: '48KiB', size: '4KiB', write: false, id: 'g' };
    const r = run('linux-6.18', MTHP_64K, half('64KiB', 'pageout', [pin]));
    expect(cs(r, 'x', ['mthp_64kB_split', 'mthp_64kB_split_failed', 'mthp_64kB_nr_anon', 'pswpout'])).toEqual({
      mthp_64kB_split: 0,
      mthp_64kB_split_failed: 1,
      mthp_64kB_nr_anon: 0,
      pswpout: 0,
    });
  });
  it('linux-6.18, half a 2 MiB THP: the PMD split, the folio split (thp_split_page), 256 pages out', () => {
    const steps = [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'a', size: '2MiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 5 },
      { op: 'madvise', pid: 'p', region: 'a', offset: '0KiB', size: '1MiB', advice: 'pageout', phase: 'x' },
    ];
    const r = run('linux-6.18', THP_2M, steps);
    expect(
      cs(r, 'x', ['thp_split_pmd', 'thp_split_page', 'mthp_2048kB_split', 'mthp_2048kB_nr_anon', 'pswpout']),
    ).toEqual({ thp_split_pmd: 1, thp_split_page: 1, mthp_2048kB_split: 1, mthp_2048kB_nr_anon: -1, pswpout: 256 });
  });
  it('linux-6.8: every exclusive large folio is split, covered or not (no mthp split stat yet)', () => {
    const steps = [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'a', size: '64KiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 5 },
      { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'x' },
    ];
    const names6 = ['thp_deferred_split_page', 'mthp_64kB_split', 'mthp_64kB_swpout', 'pswpout'];
    // 6.8's deferred_split_folio() counts every large folio it queues: the split's unmap queues it
    expect(cs(run('linux-6.8', MTHP_64K, steps), 'x', names6)).toEqual({
      thp_deferred_split_page: 1,
      mthp_64kB_split: 0,
      mthp_64kB_swpout: 0,
      pswpout: 16,
    });
    // linux-6.18 keeps the covered folio whole
    expect(cs(run('linux-6.18', MTHP_64K, steps), 'x', names6)).toEqual({
      thp_deferred_split_page: 0,
      mthp_64kB_split: 0,
      mthp_64kB_swpout: 1,
      pswpout: 16,
    });
  });
  it('linux-6.8 stops the walk at a folio another mm maps (break); linux-6.18 skips it and goes on', () => {
    const steps = [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'a', size: '128KiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 5 },
      { op: 'fork', pid: 'p', child: 'c' },
      // the child copies the second folio's pages: only the parent maps that folio again
      { op: 'touch', pid: 'c', region: 'a', offset: '64KiB', size: '64KiB', access: 'write', value: 6 },
      { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'x' },
    ];
    expect(c(run('linux-6.8', MTHP_64K, steps), 'x', 'pswpout')).toBe(0);
    expect(c(run('linux-6.18', MTHP_64K, steps), 'x', 'pswpout')).toBe(16);
  });
});

describe('mthp_<size>_swpout_fallback / swpin_fallback: no room for the large folio, small pages instead', () => {
  const sysWith = (kernel: string, extra: Record<string, unknown>) => {
    const { config, plugins } = resolvePreset(kernel);
    return createSystem({
      hardware: new FlatHardware(2),
      presetPlugins: plugins,
      config: { ...config, thp: MTHP_64K, ...extra } as never,
    });
  };
  it('linux-6.18: a 64 KiB folio with no free run of swap slots is split (split_folio_to_list) and its pages go out one by one', () => {
    const sys = sysWith('linux-6.18', { swap: { slots: 24, synchronousIo: true } });
    const r = runScenario(
      sys,
      ScenarioSchema.parse({
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p', cpu: 0 },
          { op: 'mmap', pid: 'p', name: 'a', size: '128KiB' },
          { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 9 },
          { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'x' },
        ],
      }),
    );
    // the first folio takes slots 0-15 whole; the second finds 8 slots: 8 of its pages go out
    expect(
      cs(r, 'x', ['mthp_64kB_swpout', 'mthp_64kB_swpout_fallback', 'mthp_64kB_split', 'mthp_64kB_nr_anon', 'pswpout']),
    ).toEqual({
      mthp_64kB_swpout: 1,
      mthp_64kB_swpout_fallback: 1,
      mthp_64kB_split: 1,
      mthp_64kB_nr_anon: -2,
      pswpout: 24,
    });
  });
  it('linux-6.18: a swap-in that cannot allocate the 64 KiB folio falls back to a page', () => {
    const sys = sysWith('linux-6.18', { memoryPages: 64 });
    const r = runScenario(
      sys,
      ScenarioSchema.parse({
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p', cpu: 0 },
          { op: 'mmap', pid: 'p', name: 'a', size: '64KiB' },
          { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 9 },
          { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout' },
          // a 64-page memory (min watermark 32 pages): reclaim swaps b out as it is touched and
          // leaves 39 pages free; a's 64 KiB swap-in folio (no reclaim) would leave 24
          { op: 'mmap', pid: 'p', name: 'b', size: '1984KiB' },
          { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 1 },
          { op: 'access', pid: 'p', region: 'a', access: 'read', phase: 'in' },
        ],
      }),
    );
    expect(cs(r, 'in', ['mthp_64kB_swpin', 'mthp_64kB_swpin_fallback', 'pswpin'])).toEqual({
      mthp_64kB_swpin: 0,
      mthp_64kB_swpin_fallback: 1,
      pswpin: 1,
    });
  });
  it('linux-6.18: an anonymous fault that cannot allocate the 64 KiB folio counts anon_fault_fallback and maps a page', () => {
    // 4 MiB, no swap: watermarks min 64 / low 80 pages. b leaves 75 pages free; the 64 KiB
    // folio (GFP_TRANSHUGE_LIGHT: no reclaim, the slow path's min mark) would leave 59
    const sys = sysWith('linux-6.18', { memoryPages: 1024, swap: { slots: 0, synchronousIo: true } });
    const r = runScenario(
      sys,
      ScenarioSchema.parse({
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p', cpu: 0 },
          { op: 'mmap', pid: 'p', name: 'b', size: '3776KiB' },
          { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 1 },
          { op: 'mmap', pid: 'p', name: 'c', size: '64KiB' },
          { op: 'access', pid: 'p', region: 'c', access: 'write', value: 2, phase: 'f' },
        ],
      }),
    );
    expect(
      cs(r, 'f', ['mthp_64kB_anon_fault_fallback', 'mthp_64kB_anon_fault_alloc', 'mthp_64kB_nr_anon', 'pgfault']),
    ).toEqual({
      mthp_64kB_anon_fault_fallback: 1,
      mthp_64kB_anon_fault_alloc: 0,
      mthp_64kB_nr_anon: 0,
      pgfault: 1,
    });
  });
});

describe('per-size mTHP fault stats (hugepages-<size>kB/stats/anon_fault_alloc) from v6.9', () => {
  const steps = [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'a', size: '128KiB' },
    { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1, phase: 't' },
  ];
  it('linux-6.18 counts the 64 KiB folios a fault allocates; linux-6.8 allocates them too but has no stats', () => {
    const names = ['mthp_64kB_anon_fault_alloc', 'pgfault'];
    expect(cs(run('linux-6.18', MTHP_64K, steps), 't', names)).toEqual({ mthp_64kB_anon_fault_alloc: 2, pgfault: 2 });
    expect(cs(run('linux-6.8', MTHP_64K, steps), 't', names)).toEqual({ mthp_64kB_anon_fault_alloc: 0, pgfault: 2 });
  });
});

// lru_add_split_folio(): a folio split while on an LRU list leaves its order-0 pages on that
// list, next to the head; the list's page count and links stay whole (the tails freed are on none)
describe('split_folio() of a folio on the LRU keeps the lists whole', () => {
  const lists = (steps: unknown[]) => {
    const { config, plugins } = resolvePreset('linux-6.18');
    const sys = createSystem({
      hardware: new FlatHardware(2),
      presetPlugins: plugins,
      config: { ...config, thp: MTHP_64K } as never,
    });
    runScenario(sys, ScenarioSchema.parse({ name: 't', steps }));
    const k = sys.kernel;
    const out: { folios: number; pages: number; linked: number; flagged: number }[] = [];
    for (let lru = 0; lru < 2; lru++) {
      const heads = k.lruvec.list(lru);
      let linkedPages = 0;
      for (const h of heads) linkedPages += 1 << k.f.order[h]!;
      out.push({ folios: heads.length, pages: k.lruvec.pages[lru]!, linked: linkedPages, flagged: 0 });
    }
    let flagged = 0;
    for (let pfn = 0; pfn < k.mem.pfnSpan; pfn++) if ((k.f.flags[pfn]! & PG.lru) !== 0) flagged++;
    out[0]!.flagged = flagged;
    return out;
  };
  it('MADV_COLD of half a 64 KiB folio on the inactive list: 16 one-page folios there, 16 pages', () => {
    const r = lists([
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'a', size: '64KiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 5 },
      { op: 'drain' },
      { op: 'madvise', pid: 'p', region: 'a', offset: '0KiB', size: '32KiB', advice: 'cold' },
      { op: 'drain' },
    ]);
    expect(r).toEqual([
      { folios: 16, pages: 16, linked: 16, flagged: 16 },
      { folios: 0, pages: 0, linked: 0, flagged: 0 },
    ]);
  });
});
