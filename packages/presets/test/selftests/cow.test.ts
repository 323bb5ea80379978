/**
 * tools/testing/selftests/mm/cow.c, the anonymous-memory cases (anon_test_cases[] in each of the
 * run_anon_test_case() setups, and anon_thp_test_cases[]), on linux-6.18 with its THP policy.
 *
 * - Page contents are one value per page: the setup writes 1 (memset(mem, 1, ...)), the
 *   modification writes 255 (memset(mem, 0xff, ...)); child_memcmp_fn() and the pin reads check
 *   the first, a middle and the last page of the range (`access ... expect`, `readPin` every page).
 * - The child's and the parent's sides run as the selftest orders them through its pipes.
 * - vmsplice() is a read-only GUP pin (`pin write: false`); the pipe's read is `readPin`.
 *   io_uring fixed buffers are a longterm write pin (FOLL_WRITE | FOLL_PIN | FOLL_LONGTERM).
 *   GUP-fast is not modelled apart from GUP: the *_fast_* cases take the same pin.
 * - THP sizes: 16 KiB, 64 KiB and 2 MiB (the selftest runs every size the machine offers);
 *   the hugetlb runs are out of scope (hugetlb is not modelled).
 * - non_anon_test_cases[]: the shared zero page, the huge zero page, a memfd (shmem) and a
 *   tmpfile (a regular file) in a private mapping, beside a read-only second mapping.
 */
import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema, type RunResult } from '@mmsim/core';
import { resolvePreset } from '../../src/index.js';

const PAGE = 4096;
const OLD = 1;
const NEW = 255;

function run(steps: unknown[], thp: Record<string, string>, preset = 'linux-6.18'): RunResult {
  const { config, plugins } = resolvePreset(preset);
  const sys = createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: plugins,
    config: { ...config, thp } as never,
  });
  return runScenario(sys, ScenarioSchema.parse({ name: 'cow.c', steps }), { file: 'cow.c' });
}

type Steps = unknown[];
const range = (size: number) => ({ region: 'a', offset: 0, size });
const write = (pid: string, size: number, value: number) => ({
  op: 'touch',
  pid,
  ...range(size),
  access: 'write',
  value,
});
/** memcmp() of the range against `value`: its first, middle and last page */
const reads = (pid: string, size: number, value: number): Steps =>
  [...new Set([0, Math.floor(size / PAGE / 2), size / PAGE - 1])].map((i) => ({
    op: 'access',
    pid,
    region: 'a',
    offset: i * PAGE,
    access: 'read',
    expect: value,
  }));
const mprotectRoRw = (pid: string, size: number, softDirty = false): Steps => [
  { op: 'mprotect', pid, ...range(size), prot: 'r' },
  ...(softDirty ? [{ op: 'clearRefs', pid, value: 4 }] : []),
  { op: 'mprotect', pid, ...range(size), prot: 'rw' },
];

/** A test_fn: the steps on `size` bytes at region `a` of process p, set up with OLD. */
type TestFn = (size: number) => Steps;

/** do_test_cow_in_parent(): the child keeps the old contents while the parent writes */
const cowInParent =
  (mprotect: boolean): TestFn =>
  (size) => [
    { op: 'fork', pid: 'p', child: 'c' },
    ...(mprotect ? mprotectRoRw('p', size) : []),
    write('p', size, NEW),
    ...reads('c', size, OLD),
    { op: 'exit', pid: 'c' },
  ];
/** child_vmsplice_memcmp_fn(): the child's R/O pin keeps the old contents after it unmaps */
const vmspliceInChild =
  (mprotect: boolean): TestFn =>
  (size) => [
    { op: 'fork', pid: 'p', child: 'c' },
    { op: 'pin', pid: 'c', ...range(size), write: false, id: 'splice' },
    { op: 'munmap', pid: 'c', ...range(size) },
    ...(mprotect ? mprotectRoRw('p', size) : []),
    write('p', size, NEW),
    { op: 'readPin', id: 'splice', expect: OLD },
    { op: 'exit', pid: 'c' },
  ];
/** do_test_vmsplice_in_parent(): the parent's R/O pin keeps the old contents while the child writes */
const vmspliceInParent =
  (beforeFork: boolean): TestFn =>
  (size) => [
    ...(beforeFork ? [{ op: 'pin', pid: 'p', ...range(size), write: false, id: 'splice' }] : []),
    { op: 'fork', pid: 'p', child: 'c' },
    ...(beforeFork ? [] : [{ op: 'pin', pid: 'p', ...range(size), write: false, id: 'splice' }]),
    { op: 'munmap', pid: 'p', ...range(size) },
    write('c', size, NEW),
    { op: 'exit', pid: 'c' },
    { op: 'readPin', id: 'splice', expect: OLD },
  ];
/** do_test_iouring(): a longterm R/W pin sees the parent's writes */
const iouring =
  (useFork: boolean): TestFn =>
  (size) => [
    { op: 'pin', pid: 'p', ...range(size), write: true, longterm: true, id: 'fixed' },
    ...(useFork ? [{ op: 'fork', pid: 'p', child: 'c' }] : mprotectRoRw('p', size, true)),
    write('p', size, NEW),
    { op: 'readPin', id: 'fixed', expect: NEW },
    ...(useFork ? [{ op: 'exit', pid: 'c' }] : []),
  ];
/** do_test_ro_pin(): a longterm R/O pin sees the parent's writes */
const roPin =
  (test: 'shared' | 'previously-shared' | 'ro-exclusive'): TestFn =>
  (size) => [
    ...(test === 'ro-exclusive' ? mprotectRoRw('p', size, true) : [{ op: 'fork', pid: 'p', child: 'c' }]),
    ...(test === 'previously-shared' ? [{ op: 'exit', pid: 'c' }] : []),
    { op: 'pin', pid: 'p', ...range(size), write: false, longterm: true, id: 'ro' },
    write('p', size, NEW),
    { op: 'readPin', id: 'ro', expect: NEW },
    ...(test === 'shared' ? [{ op: 'exit', pid: 'c' }] : []),
  ];

/** anon_test_cases[], by the selftest's function names */
const ANON_CASES: Array<[string, string, TestFn]> = [
  ['test_cow_in_parent', 'Basic COW after fork()', cowInParent(false)],
  ['test_cow_in_parent_mprotect', 'Basic COW after fork() with mprotect() optimization', cowInParent(true)],
  ['test_vmsplice_in_child', 'vmsplice() + unmap in child', vmspliceInChild(false)],
  [
    'test_vmsplice_in_child_mprotect',
    'vmsplice() + unmap in child with mprotect() optimization',
    vmspliceInChild(true),
  ],
  ['test_vmsplice_before_fork', 'vmsplice() before fork(), unmap in parent after fork()', vmspliceInParent(true)],
  ['test_vmsplice_after_fork', 'vmsplice() + unmap in parent after fork()', vmspliceInParent(false)],
  ['test_iouring_ro', 'R/O-mapping a page registered as iouring fixed buffer', iouring(false)],
  ['test_iouring_fork', 'fork() with an iouring fixed buffer', iouring(true)],
  ['test_ro_pin_on_shared', 'R/O GUP pin on R/O-mapped shared page', roPin('shared')],
  ['test_ro_fast_pin_on_shared', 'R/O GUP-fast pin on R/O-mapped shared page', roPin('shared')],
  [
    'test_ro_pin_on_ro_previously_shared',
    'R/O GUP pin on R/O-mapped previously-shared page',
    roPin('previously-shared'),
  ],
  [
    'test_ro_fast_pin_on_ro_previously_shared',
    'R/O GUP-fast pin on R/O-mapped previously-shared page',
    roPin('previously-shared'),
  ],
  ['test_ro_pin_on_ro_exclusive', 'R/O GUP pin on R/O-mapped exclusive page', roPin('ro-exclusive')],
  ['test_ro_fast_pin_on_ro_exclusive', 'R/O GUP-fast pin on R/O-mapped exclusive page', roPin('ro-exclusive')],
];

const MADVISE_THP = { top: 'madvise' };

/** do_run_with_base_page(): one page, MADV_NOHUGEPAGE, written; swapped out if asked */
function withBasePage(fn: TestFn, swapout: boolean, preset?: string): RunResult {
  return run(
    [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'a', size: PAGE },
      { op: 'madvise', pid: 'p', region: 'a', advice: 'nohugepage' },
      write('p', PAGE, OLD),
      ...(swapout
        ? [
            { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout' },
            { op: 'pagemap', pid: 'p', region: 'a', expect: { swapped: true } },
          ]
        : []),
      ...fn(PAGE),
    ],
    MADVISE_THP,
    preset,
  );
}

type ThpRun =
  | 'pmd'
  | 'pmd-swapout'
  | 'pte'
  | 'pte-swapout'
  | 'single-pte'
  | 'single-pte-swapout'
  | 'partial-mremap'
  | 'partial-shared';
const THP_RUNS: Array<[ThpRun, string]> = [
  ['pmd', 'THP'],
  ['pmd-swapout', 'swapped-out THP'],
  ['pte', 'PTE-mapped THP'],
  ['pte-swapout', 'swapped-out, PTE-mapped THP'],
  ['single-pte', 'single PTE of THP'],
  ['single-pte-swapout', 'single PTE of swapped-out THP'],
  ['partial-mremap', "partially mremap()'ed THP"],
  ['partial-shared', 'partially shared THP'],
];

/** The sysfs settings of run_anon_test_case() for one THP size: that size `always`, the PMD size `never`. */
const thpFor = (kb: number) =>
  kb === 2048 ? { top: 'madvise', '2048K': 'always' } : { top: 'madvise', '2048K': 'never', [`${kb}K`]: 'always' };

/** do_run_with_thp() */
function thpSetup(kind: ThpRun, thpsize: number): { steps: Steps; size: number } {
  const steps: Steps = [
    { op: 'spawn', pid: 'p' },
    { op: 'mmap', pid: 'p', name: 'a', size: thpsize, align: thpsize },
    { op: 'madvise', pid: 'p', region: 'a', advice: 'hugepage' },
    // mem[0] = 1, then the last sub-page must be populated: a THP of that size
    { op: 'access', pid: 'p', region: 'a', access: 'write', value: OLD },
    { op: 'pagemap', pid: 'p', region: 'a', offset: thpsize - PAGE, size: PAGE, expect: { present: true } },
    write('p', thpsize, OLD),
  ];
  let size = thpsize;
  if (kind === 'pmd' || kind === 'pmd-swapout')
    steps.push({ op: 'pagemap', pid: 'p', region: 'a', size: PAGE, expect: { pmdMapped: true } });
  if (kind === 'pte' || kind === 'pte-swapout')
    steps.push(
      { op: 'mprotect', pid: 'p', region: 'a', offset: PAGE, size: PAGE, prot: 'r' },
      { op: 'mprotect', pid: 'p', region: 'a', offset: PAGE, size: PAGE, prot: 'rw' },
      { op: 'pagemap', pid: 'p', region: 'a', size: PAGE, expect: { pmdMapped: false } },
    );
  if (kind === 'single-pte' || kind === 'single-pte-swapout') {
    steps.push({ op: 'madvise', pid: 'p', region: 'a', offset: PAGE, size: thpsize - PAGE, advice: 'dontneed' });
    size = PAGE;
  }
  if (kind === 'partial-mremap') {
    steps.push({ op: 'mremap', pid: 'p', region: 'a', offset: thpsize / 2, size: thpsize / 2, to: 'moved' });
    size = thpsize / 2;
  }
  if (kind === 'partial-shared')
    steps.push(
      { op: 'madvise', pid: 'p', region: 'a', offset: PAGE, size: thpsize - PAGE, advice: 'dontfork' },
      { op: 'fork', pid: 'p', child: 'once' },
      { op: 'exit', pid: 'once' },
      { op: 'madvise', pid: 'p', region: 'a', offset: PAGE, size: thpsize - PAGE, advice: 'dofork' },
    );
  if (kind.endsWith('-swapout'))
    steps.push(
      { op: 'madvise', pid: 'p', ...range(size), advice: 'pageout' },
      { op: 'pagemap', pid: 'p', ...range(size), expect: { swapped: true } },
    );
  return { steps, size };
}

function ok(r: RunResult) {
  expect(r.checks.failures).toEqual([]);
  expect(r.checks.failed).toBe(0);
  expect(r.checks.passed).toBeGreaterThan(0);
}

const THP_SIZES_KB = [16, 64, 2048];

describe('cow.c', () => {
  for (const [name, desc, fn] of ANON_CASES) {
    it(`${name} [base page]: ${desc}`, () => ok(withBasePage(fn, false)));
    it(`${name} [swapped-out base page]: ${desc}`, () => ok(withBasePage(fn, true)));
    for (const kb of THP_SIZES_KB)
      for (const [kind, what] of THP_RUNS) {
        // run_with_thp() and run_with_thp_swap() only for the PMD size
        if (kb !== 2048 && (kind === 'pmd' || kind === 'pmd-swapout')) continue;
        it(`${name} [${what} (${kb} kB)]: ${desc}`, () => {
          const { steps, size } = thpSetup(kind, kb * 1024);
          ok(run([...steps, ...fn(size)], thpFor(kb)));
        });
      }
  }

  /** do_test_anon_thp_collapse(): a PTE-mapped THP collapsed before or after fork() */
  const collapse = (test: 'unshared' | 'fully-shared' | 'lower-shared' | 'upper-shared'): Steps => {
    const size = 2048 * 1024;
    const half = size / 2;
    const { steps } = thpSetup('pmd', size);
    steps.push(
      { op: 'mprotect', pid: 'p', region: 'a', offset: PAGE, size: PAGE, prot: 'r' },
      { op: 'mprotect', pid: 'p', region: 'a', offset: PAGE, size: PAGE, prot: 'rw' },
    );
    if (test === 'unshared') steps.push({ op: 'madvise', pid: 'p', region: 'a', advice: 'collapse' });
    if (test === 'lower-shared')
      steps.push({ op: 'madvise', pid: 'p', region: 'a', offset: half, size: half, advice: 'dontfork' });
    if (test === 'upper-shared') steps.push({ op: 'madvise', pid: 'p', region: 'a', size: half, advice: 'dontfork' });
    steps.push({ op: 'fork', pid: 'p', child: 'c' });
    if (test === 'lower-shared' || test === 'upper-shared')
      steps.push({ op: 'madvise', pid: 'p', region: 'a', advice: 'dofork' });
    if (test !== 'unshared')
      steps.push(
        { op: 'madvise', pid: 'p', region: 'a', advice: 'collapse' },
        { op: 'pagemap', pid: 'p', region: 'a', size: PAGE, expect: { pmdMapped: true } },
      );
    steps.push(write('p', size, NEW));
    // the child compares what it shares: the whole THP, or its lower / upper half
    const off = test === 'upper-shared' ? half : 0;
    const len = test === 'lower-shared' || test === 'upper-shared' ? half : size;
    for (const i of [0, len / PAGE / 2, len / PAGE - 1])
      steps.push({ op: 'access', pid: 'c', region: 'a', offset: off + i * PAGE, access: 'read', expect: OLD });
    return steps;
  };
  it('test_anon_thp_collapse_unshared [THP (2048 kB)]: Basic COW after fork() when collapsing before fork()', () =>
    ok(run(collapse('unshared'), MADVISE_THP)));
  it('test_anon_thp_collapse_fully_shared [THP (2048 kB)]: Basic COW after fork() when collapsing after fork() (fully shared)', () =>
    ok(run(collapse('fully-shared'), MADVISE_THP)));
  it('test_anon_thp_collapse_lower_shared [THP (2048 kB)]: Basic COW after fork() when collapsing after fork() (lower shared)', () =>
    ok(run(collapse('lower-shared'), MADVISE_THP)));
  it('test_anon_thp_collapse_upper_shared [THP (2048 kB)]: Basic COW after fork() when collapsing after fork() (upper shared)', () =>
    ok(run(collapse('upper-shared'), MADVISE_THP)));
});

/**
 * The same base-page runs on the older presets fail where the kernel's history says they did:
 * the fork of a pinned page before v5.9 (70e806e4e645, early COW of pinned pages), R/O and R/W
 * longterm pins losing the page at a write fault before v5.19 (PageAnonExclusive and
 * FAULT_FLAG_UNSHARE), and v5.9's reuse_swap_page() (mapcount) for a swapped-in
 * vmsplice()d page, which v5.18 replaced (c145e0b47c77, "mm: streamline COW logic in
 * do_swap_page()").
 */
describe('cow.c across eras (base pages; history, not the port)', () => {
  const failing = (preset: string) => {
    const out: string[] = [];
    for (const [name, , fn] of ANON_CASES)
      for (const swapout of [false, true]) {
        const r = withBasePage(fn, swapout, preset);
        if (r.checks.failed > 0) out.push(`${name}${swapout ? ' (swapped out)' : ''}`);
      }
    return out;
  };
  const roPins = [
    'test_iouring_ro',
    'test_ro_pin_on_shared',
    'test_ro_fast_pin_on_shared',
    'test_ro_pin_on_ro_previously_shared',
    'test_ro_fast_pin_on_ro_previously_shared',
    'test_ro_pin_on_ro_exclusive',
    'test_ro_fast_pin_on_ro_exclusive',
  ].flatMap((n) => [n, `${n} (swapped out)`]);
  it('linux-5.8: the pin taken before fork() is shared with the child (vmsplice before fork, io_uring fork)', () => {
    expect(failing('linux-5.8')).toEqual([
      'test_vmsplice_before_fork',
      'test_vmsplice_before_fork (swapped out)',
      'test_iouring_fork',
      'test_iouring_fork (swapped out)',
    ]);
  });
  it('linux-5.9: longterm pins lose the page at a write fault; a swapped-in vmsplice()d page is reused', () => {
    expect(failing('linux-5.9')).toEqual([
      'test_vmsplice_in_child (swapped out)',
      'test_vmsplice_in_child_mprotect (swapped out)',
      'test_vmsplice_after_fork (swapped out)',
      ...roPins,
    ]);
  });
  it('linux-5.18: the longterm pins still lose the page', () => {
    expect(failing('linux-5.18')).toEqual(roPins);
  });
  it('linux-5.19 and later: every case passes', () => {
    expect(failing('linux-5.19')).toEqual([]);
    expect(failing('linux-6.8')).toEqual([]);
  });
});

/** non_anon_test_cases[]: a private mapping `a` and a read-only second mapping `s` of the same memory */
type NonAnonFn = (size: number) => Steps;
const NON_ANON_CASES: Array<[string, string, NonAnonFn]> = [
  [
    'test_cow',
    'Basic COW',
    (size) => [write('p', size, NEW), { op: 'access', pid: 'p', region: 's', access: 'read', expect: 0 }],
  ],
  [
    'test_ro_pin',
    'R/O longterm GUP pin',
    (size) => [
      { op: 'pin', pid: 'p', ...range(size), write: false, longterm: true, id: 'ro' },
      write('p', size, NEW),
      { op: 'readPin', id: 'ro', expect: NEW },
    ],
  ],
  [
    'test_ro_fast_pin',
    'R/O longterm GUP-fast pin',
    (size) => [
      { op: 'pin', pid: 'p', ...range(size), write: false, longterm: true, id: 'ro' },
      write('p', size, NEW),
      { op: 'readPin', id: 'ro', expect: NEW },
    ],
  ],
];
const readBoth = [
  { op: 'access', pid: 'p', region: 'a', access: 'read', expect: 0 },
  { op: 'access', pid: 'p', region: 's', access: 'read', expect: 0 },
];
const NON_ANON_RUNS: Array<[string, Record<string, unknown>, Steps, number]> = [
  [
    'shared zeropage',
    {},
    [
      { op: 'mmap', pid: 'p', name: 'a', size: PAGE },
      { op: 'mmap', pid: 'p', name: 's', size: PAGE, prot: 'r' },
      ...readBoth,
    ],
    PAGE,
  ],
  [
    'huge zeropage',
    {},
    [
      { op: 'mmap', pid: 'p', name: 'a', size: '2MiB', align: '2MiB' },
      { op: 'mmap', pid: 'p', name: 's', size: '2MiB', align: '2MiB', prot: 'r' },
      { op: 'madvise', pid: 'p', region: 'a', advice: 'hugepage' },
      { op: 'madvise', pid: 'p', region: 's', advice: 'hugepage' },
      ...readBoth,
      { op: 'pagemap', pid: 'p', region: 'a', offset: PAGE, size: PAGE, expect: { present: true } },
      { op: 'pagemap', pid: 'p', region: 's', offset: PAGE, size: PAGE, expect: { present: true } },
    ],
    2048 * 1024,
  ],
  [
    'memfd',
    { m: { size: '4KiB', shmem: true } },
    [
      { op: 'mmap', pid: 'p', name: 'a', size: PAGE, file: 'm' },
      { op: 'mmap', pid: 'p', name: 's', size: PAGE, file: 'm', shared: true, prot: 'r' },
      ...readBoth,
    ],
    PAGE,
  ],
  [
    'tmpfile',
    { t: { size: '4KiB' } },
    [
      // fallocate(): a page of zeroes
      { op: 'write', pid: 'p', file: 't', value: 0 },
      { op: 'mmap', pid: 'p', name: 'a', size: PAGE, file: 't' },
      { op: 'mmap', pid: 'p', name: 's', size: PAGE, file: 't', shared: true, prot: 'r' },
      ...readBoth,
    ],
    PAGE,
  ],
];

function runNonAnon(preset: string, files: Record<string, unknown>, steps: Steps): RunResult {
  const { config, plugins } = resolvePreset(preset);
  const sys = createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: plugins,
    config: { ...config, thp: MADVISE_THP } as never,
  });
  const sc = ScenarioSchema.parse({ name: 'cow.c', files, steps: [{ op: 'spawn', pid: 'p' }, ...steps] });
  return runScenario(sys, sc, { file: 'cow.c' });
}

describe('cow.c (non-anonymous pages in private mappings)', () => {
  for (const [name, desc, fn] of NON_ANON_CASES)
    for (const [what, files, setup, size] of NON_ANON_RUNS)
      it(`${name} [${what}]: ${desc}`, () => ok(runNonAnon('linux-6.18', files, [...setup, ...fn(size)])));

  it('history: before v6.2 a R/O longterm pin keeps the zero page or the page-cache page, and misses the write', () => {
    for (const [name, , fn] of NON_ANON_CASES.slice(1))
      for (const [what, files, setup, size] of NON_ANON_RUNS) {
        const r = runNonAnon('linux-5.19', files, [...setup, ...fn(size)]);
        expect(
          r.checks.failures.map((x) => x.message),
          `${name} [${what}]`,
        ).toContain(`read 0, expected ${NEW}`);
      }
  });
});
