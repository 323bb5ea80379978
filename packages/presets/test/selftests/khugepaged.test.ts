/**
 * tools/testing/selftests/mm/khugepaged.c, the anonymous-memory cases, in both of its collapse
 * contexts: `khugepaged` (MADV_HUGEPAGE, then the khugepaged thread's scans until full_scans has
 * advanced by 2, then MADV_NOHUGEPAGE: wait_for_scan()) and `madvise` (MADV_COLLAPSE).
 * check_huge_anon() is a pagemap step (PMD-mapped or not) at the start of each 2 MiB;
 * validate_memory() reads pages back. Settings are the test's default_settings: THP `madvise`,
 * max_ptes_none 511, max_ptes_swap 64, max_ptes_shared 256, pages_to_scan 4096; linux-6.18.
 */
import { describe, expect, it } from 'vitest';
import {
  createSystem,
  FlatHardware,
  KHUGEPAGED_DEFAULTS,
  runScenario,
  ScenarioSchema,
  type KhugepagedKnobs,
  type RunResult,
} from '@mmsim/core';
import { resolvePreset } from '../../src/index.js';

type Ctx = 'khugepaged' | 'madvise';
const CONTEXTS: Ctx[] = ['khugepaged', 'madvise'];
const HPAGE = 2 * 1024 * 1024;
const PAGE = 4096;

function run(
  steps: unknown[],
  knobs: Partial<KhugepagedKnobs> = {},
  thp: Record<string, string> = { top: 'madvise' },
): RunResult {
  const { config, plugins } = resolvePreset('linux-6.18');
  const sys = createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: plugins,
    config: { ...config, thp, khugepaged: { ...KHUGEPAGED_DEFAULTS, ...knobs } } as never,
  });
  return runScenario(sys, ScenarioSchema.parse({ name: 'khugepaged.c', steps }), { file: 'khugepaged.c' });
}

/** alloc_mapping(): nr PMD-aligned 2 MiB, read-write private anonymous */
const setupArea = (nr: number, pid = 'p') => [
  { op: 'spawn', pid },
  { op: 'mmap', pid, name: 'a', size: nr * HPAGE, align: '2MiB' },
];
/** fill_memory() over [start, end) */
const fault = (start: number, end: number, pid = 'p', value = 7) => [
  { op: 'touch', pid, region: 'a', offset: start, size: end - start, access: 'write', value },
];
/** check_huge_anon(p, expect ? nr : 0, ...): every 2 MiB PMD-mapped, or none */
const checkHuge = (nr: number, huge: boolean, pid = 'p', phase?: string) =>
  Array.from({ length: nr }, (_, i) => ({
    op: 'pagemap',
    pid,
    region: 'a',
    offset: i * HPAGE,
    size: PAGE,
    expect: { pmdMapped: huge },
    ...(phase ? { phase } : {}),
  }));
/** validate_memory() of [start, end): its first and last page */
const validate = (start: number, end: number, pid = 'p', value = 7) => [
  { op: 'access', pid, region: 'a', offset: start, access: 'read', expect: value },
  { op: 'access', pid, region: 'a', offset: end - PAGE, access: 'read', expect: value },
];

/** c->collapse(msg, p, nr, ops, expect) */
function collapse(c: Ctx, nr: number, expectCollapse: boolean, pid = 'p', errno = 'EINVAL') {
  const all = { pid, region: 'a', size: nr * HPAGE };
  if (c === 'madvise')
    return [
      { op: 'madvise', ...all, advice: 'hugepage' },
      {
        op: 'madvise',
        ...all,
        advice: 'collapse',
        phase: 'collapse',
        ...(expectCollapse ? {} : { expectError: errno }),
      },
      ...checkHuge(nr, expectCollapse, pid),
    ];
  return [
    { op: 'madvise', ...all, advice: 'hugepage' },
    { op: 'khugepaged', fullScans: 2, phase: 'collapse' },
    { op: 'madvise', ...all, advice: 'nohugepage' },
    ...checkHuge(nr, expectCollapse, pid),
  ];
}

/** alloc_hpage(): one 2 MiB faulted in and collapsed by MADV_COLLAPSE, then VM_HUGEPAGE */
const allocHpage = (pid = 'p') => [
  ...setupArea(1, pid),
  ...fault(0, HPAGE, pid),
  { op: 'madvise', pid, region: 'a', advice: 'collapse' },
  ...checkHuge(1, true, pid),
  { op: 'madvise', pid, region: 'a', advice: 'hugepage' },
];

function ok(r: RunResult) {
  expect(r.checks.failures).toEqual([]);
  expect(r.checks.failed).toBe(0);
}
const counter = (r: RunResult, name: string) => r.phases.collapse?.counters[name] ?? 0;

describe('khugepaged.c', () => {
  it('alloc_at_fault: THP `always` maps a write fault with a PMD; MADV_DONTNEED of one page splits it', () => {
    const r = run(
      [
        ...setupArea(1),
        { op: 'access', pid: 'p', region: 'a', access: 'write', value: 1 },
        ...checkHuge(1, true),
        { op: 'madvise', pid: 'p', region: 'a', size: PAGE, advice: 'dontneed' },
        ...checkHuge(1, false),
      ],
      {},
      { top: 'always' },
    );
    ok(r);
  });

  for (const c of CONTEXTS) {
    it(`collapse_full [${c}]: four fully populated PTE tables become four THPs`, () => {
      const r = run([...setupArea(4), ...fault(0, 4 * HPAGE), ...collapse(c, 4, true), ...validate(0, 4 * HPAGE)]);
      ok(r);
      expect(counter(r, 'thp_collapse_alloc')).toBe(4);
      if (c === 'khugepaged') expect(counter(r, 'khugepaged_pages_collapsed')).toBe(4);
    });

    it(`collapse_empty [${c}]: an empty PTE table is not collapsed`, () => {
      const r = run([...setupArea(1), ...collapse(c, 1, false)]);
      ok(r);
      expect(counter(r, 'thp_collapse_alloc')).toBe(0);
    });

    it(`collapse_single_pte_entry [${c}]: one present PTE is enough (max_ptes_none 511)`, () => {
      const r = run([...setupArea(1), ...fault(0, PAGE), ...collapse(c, 1, true), ...validate(0, PAGE)]);
      ok(r);
    });

    it(`collapse_max_ptes_none [${c}]: max_ptes_none 256 with 257 none PTEs stops khugepaged only; 256 collapse`, () => {
      const maxPtesNone = 256;
      const steps = [
        ...setupArea(1),
        ...fault(0, (512 - maxPtesNone - 1) * PAGE),
        ...collapse(c, 1, c === 'madvise'),
        ...validate(0, (512 - maxPtesNone - 1) * PAGE),
      ];
      if (c === 'khugepaged')
        steps.push(
          ...fault(0, (512 - maxPtesNone) * PAGE),
          ...collapse(c, 1, true),
          ...validate(0, (512 - maxPtesNone) * PAGE),
        );
      const r = run(steps, { maxPtesNone });
      ok(r);
      if (c === 'khugepaged') expect(r.total.counters.thp_scan_exceed_none_pte).toBeGreaterThan(0);
    });

    it(`collapse_swapin_single_pte [${c}]: one swapped-out page is swapped in and the table collapses`, () => {
      const r = run([
        ...setupArea(1),
        ...fault(0, HPAGE),
        { op: 'madvise', pid: 'p', region: 'a', size: PAGE, advice: 'pageout' },
        { op: 'pagemap', pid: 'p', region: 'a', size: PAGE, expect: { swapped: true } },
        ...collapse(c, 1, true),
        ...validate(0, HPAGE),
      ]);
      ok(r);
      expect(counter(r, 'pswpin')).toBe(1);
    });

    it(`collapse_max_ptes_swap [${c}]: 65 swapped-out PTEs stop khugepaged (max_ptes_swap 64), not MADV_COLLAPSE; 64 collapse`, () => {
      const steps: unknown[] = [
        ...setupArea(1),
        ...fault(0, HPAGE),
        { op: 'madvise', pid: 'p', region: 'a', size: 65 * PAGE, advice: 'pageout' },
        { op: 'pagemap', pid: 'p', region: 'a', size: 65 * PAGE, expect: { swapped: true } },
        ...collapse(c, 1, c === 'madvise'),
        ...validate(0, HPAGE),
      ];
      if (c === 'khugepaged')
        steps.push(
          ...fault(0, HPAGE),
          { op: 'madvise', pid: 'p', region: 'a', size: 64 * PAGE, advice: 'pageout' },
          { op: 'pagemap', pid: 'p', region: 'a', size: 64 * PAGE, expect: { swapped: true } },
          ...collapse(c, 1, true),
          ...validate(0, HPAGE),
        );
      const r = run(steps);
      ok(r);
      if (c === 'khugepaged') expect(r.total.counters.thp_scan_exceed_swap_pte).toBeGreaterThan(0);
    });

    it(`collapse_single_pte_entry_compound [${c}]: a PTE table mapping one page of a THP collapses`, () => {
      const r = run([
        ...allocHpage(),
        { op: 'madvise', pid: 'p', region: 'a', advice: 'nohugepage' },
        { op: 'madvise', pid: 'p', region: 'a', offset: PAGE, size: HPAGE - PAGE, advice: 'dontneed' },
        ...checkHuge(1, false),
        ...collapse(c, 1, true),
        ...validate(0, PAGE),
      ]);
      ok(r);
    });

    it(`collapse_full_of_compound [${c}]: a PTE table full of one THP's pages collapses`, () => {
      const r = run([
        ...allocHpage(),
        // the VMA split by MADV_NOHUGEPAGE of one page splits the PMD; the second merges it back
        { op: 'madvise', pid: 'p', region: 'a', size: PAGE, advice: 'nohugepage' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'nohugepage' },
        ...checkHuge(1, false),
        ...collapse(c, 1, true),
        ...validate(0, HPAGE),
      ]);
      ok(r);
    });

    it(`collapse_fork [${c}]: the child collapses a table whose one other page it shares with the parent; the parent keeps small pages`, () => {
      const r = run([
        ...setupArea(1),
        ...fault(0, PAGE),
        ...checkHuge(1, false),
        { op: 'fork', pid: 'p', child: 'c' },
        ...checkHuge(1, false, 'c'),
        ...fault(PAGE, 2 * PAGE, 'c'),
        ...collapse(c, 1, true, 'c'),
        ...validate(0, PAGE, 'c'),
        { op: 'exit', pid: 'c' },
        ...checkHuge(1, false, 'p'),
        ...validate(0, PAGE, 'p'),
      ]);
      ok(r);
    });

    it(`collapse_fork_compound [${c}]: the child collapses its PTE-mapped copy of a shared THP (max_ptes_shared 511); the parent keeps its THP`, () => {
      const r = run(
        [
          ...allocHpage(),
          { op: 'fork', pid: 'p', child: 'c' },
          ...checkHuge(1, true, 'c'),
          { op: 'madvise', pid: 'c', region: 'a', size: PAGE, advice: 'nohugepage' },
          { op: 'madvise', pid: 'c', region: 'a', advice: 'nohugepage' },
          ...checkHuge(1, false, 'c'),
          ...fault(0, PAGE, 'c'),
          ...collapse(c, 1, true, 'c'),
          ...validate(0, HPAGE, 'c'),
          { op: 'exit', pid: 'c' },
          ...checkHuge(1, true, 'p'),
          ...validate(0, HPAGE, 'p'),
        ],
        { maxPtesShared: 511 },
      );
      ok(r);
    });

    it(`collapse_max_ptes_shared [${c}]: 257 PTEs shared with the parent stop khugepaged (max_ptes_shared 256), not MADV_COLLAPSE; 256 collapse`, () => {
      const maxPtesShared = 256;
      const steps: unknown[] = [
        ...allocHpage(),
        { op: 'fork', pid: 'p', child: 'c' },
        ...checkHuge(1, true, 'c'),
        // CoW of pages [0, 255): the child's PMD is split, 257 PTEs stay shared
        ...fault(0, (512 - maxPtesShared - 1) * PAGE, 'c'),
        ...checkHuge(1, false, 'c'),
        ...collapse(c, 1, c === 'madvise', 'c'),
      ];
      if (c === 'khugepaged')
        steps.push(
          ...fault(0, (512 - maxPtesShared) * PAGE, 'c'),
          ...checkHuge(1, false, 'c'),
          ...collapse(c, 1, true, 'c'),
        );
      steps.push(
        ...validate(0, HPAGE, 'c'),
        { op: 'exit', pid: 'c' },
        ...checkHuge(1, true, 'p'),
        ...validate(0, HPAGE, 'p'),
      );
      const r = run(steps, { maxPtesShared });
      ok(r);
      if (c === 'khugepaged') expect(r.total.counters.thp_scan_exceed_share_pte).toBeGreaterThan(0);
    });
  }

  it('madvise_collapse_existing_thps [madvise]: a PMD-mapped THP is collapsed again (SCAN_PMD_MAPPED counts as done)', () => {
    const r = run([
      ...setupArea(1),
      ...fault(0, HPAGE),
      ...collapse('madvise', 1, true),
      ...validate(0, HPAGE),
      { op: 'madvise', pid: 'p', region: 'a', advice: 'collapse', phase: 'again' },
      ...checkHuge(1, true),
      ...validate(0, HPAGE),
    ]);
    ok(r);
    expect(r.phases.again?.counters.thp_collapse_alloc ?? 0).toBe(0);
  });
});

describe('khugepaged (mechanism)', () => {
  it('full_scans advances once per pass through the mm list; pages_to_scan bounds a pass', () => {
    // 8 MiB = 4 PMD ranges of 512 PTEs; pages_to_scan 1024
    const r = run(
      [
        ...setupArea(4),
        ...fault(0, 4 * HPAGE),
        { op: 'madvise', pid: 'p', region: 'a', advice: 'hugepage' },
        { op: 'khugepaged', passes: 1, phase: 'one' },
        { op: 'khugepaged', fullScans: 1, phase: 'rest' },
      ],
      { pagesToScan: 1024 },
    );
    ok(r);
    // khugepaged_scan_mm_slot() returns after each collapse (mmap_lock dropped) with progress
    // 1 + 512; khugepaged_do_scan() calls it again until 1024: two collapses per pass
    expect(r.phases.one?.counters.khugepaged_pages_collapsed).toBe(2);
    expect(r.phases.one?.counters.khugepaged_full_scans ?? 0).toBe(0);
    // the second pass collapses the other two; the third finds no VMA left: full_scans 1
    expect(r.phases.rest?.counters.khugepaged_pages_collapsed).toBe(2);
    expect(r.phases.rest?.counters.khugepaged_full_scans).toBe(1);
  });

  it('an mm is registered by MADV_HUGEPAGE under `madvise`; without it khugepaged has no work', () => {
    const r = run([
      ...setupArea(1),
      ...fault(0, HPAGE),
      { op: 'khugepaged', fullScans: 2, phase: 'collapse' },
      ...checkHuge(1, false),
    ]);
    ok(r);
    expect(counter(r, 'khugepaged_full_scans')).toBe(0);
  });

  it('khugepaged wants a referenced page (SCAN_LACK_REFERENCED_PAGE); MADV_COLLAPSE does not', () => {
    // clear_refs 1 clears the accessed bits of every PTE and PG_referenced
    const steps = (c: Ctx) => [
      ...setupArea(1),
      ...fault(0, HPAGE),
      { op: 'clearRefs', pid: 'p', value: 1 },
      ...collapse(c, 1, c === 'madvise'),
    ];
    ok(run(steps('khugepaged')));
    ok(run(steps('madvise')));
  });

  it('linux-6.8: MADV_COLLAPSE of write-protected PTEs fails with EINVAL (SCAN_PAGE_RO); linux-6.18 collapses them', () => {
    const steps = (err: boolean) => [
      ...setupArea(1),
      ...fault(0, HPAGE),
      // fork write-protects the parent's PTEs; the child exits, they stay read-only
      { op: 'fork', pid: 'p', child: 'c' },
      { op: 'exit', pid: 'c' },
      { op: 'madvise', pid: 'p', region: 'a', advice: 'collapse', ...(err ? { expectError: 'EINVAL' } : {}) },
      ...checkHuge(1, !err),
    ];
    const { config, plugins } = resolvePreset('linux-6.8');
    const sys = createSystem({
      hardware: new FlatHardware(2),
      presetPlugins: plugins,
      config: { ...config, thp: { top: 'madvise' } } as never,
    });
    ok(runScenario(sys, ScenarioSchema.parse({ name: 't', steps: steps(true) })));
    ok(run(steps(false)));
  });
});
