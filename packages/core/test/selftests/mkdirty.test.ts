/**
 * tools/testing/selftests/mm/mkdirty.c: code that may set a PTE/PMD dirty in a read-only VMA
 * must not make it writable. Each case ends in do_test_write_sigsegv(): a user write is
 * SIGSEGV and the page keeps its value.
 */
import { describe, expect, it } from 'vitest';
import { definePlugin } from '../../src/index.js';
import { ctr, ctrs, run } from '../helpers.js';

/** the presets' THP policy in one line: PMD-sized folios on the first touch */
const thp = definePlugin({
  name: 'thp',
  api: '^1.0.0',
  apply: ({ hooks }) => hooks.fault.anonOrders.tap('thp', (o) => o | (1 << 9)),
});

/** do_test_write_sigsegv(): the write is SIGSEGV, the page not modified */
const writeSigsegv = (value: number, offset = 0) => [
  {
    op: 'access',
    pid: 'p',
    region: 'mem',
    offset,
    access: 'write',
    value: value + 1,
    expectError: 'SIGSEGV',
    phase: 'sigsegv',
  },
  { op: 'access', pid: 'p', region: 'mem', offset, access: 'read', expect: value },
];
/** mmap_thp_range(): a PMD-aligned 2 MiB range with MADV_HUGEPAGE */
const thpRange = (prot: 'r' | 'rw') => ({
  op: 'mmap',
  pid: 'p',
  name: 'mem',
  size: '2MiB',
  align: '2MiB',
  prot,
  advice: 'hugepage',
});

describe('mkdirty.c', () => {
  const ptraceWrite = {
    name: 't',
    steps: [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'mem', size: '4KiB', prot: 'r' },
      // fault in the shared zeropage
      { op: 'access', pid: 'p', region: 'mem', access: 'read', expect: 0 },
      // unshare it through /proc/self/mem (FOLL_FORCE): a fresh anon page, maybe set dirty
      { op: 'pokeMem', pid: 'p', region: 'mem', value: 1, phase: 'poke' },
      { op: 'access', pid: 'p', region: 'mem', access: 'read', expect: 1 },
      { op: 'pagemap', pid: 'p', region: 'mem', expect: { present: true, exclusive: true } },
      ...writeSigsegv(1),
    ],
  };

  it('test_ptrace_write: a FOLL_FORCE write CoWs the zero page into a read-only anon page; a user write is still SIGSEGV', () => {
    const r = run(ptraceWrite);
    expect(r.checks).toEqual({ passed: 5, failed: 0, failures: [] });
    expect(ctrs(r, 'poke', ['pgfault', 'cow_zero', 'pgalloc'])).toEqual({ pgfault: 1, cow_zero: 1, pgalloc: 1 });
  });

  it('test_ptrace_write [before v6.2, FOLL_COW]: the same, through FOLL_COW and the dirty bit', () => {
    const r = run(ptraceWrite, { config: { features: { gupForceAnonExclusive: false } } });
    expect(r.checks).toEqual({ passed: 5, failed: 0, failures: [] });
    expect(ctrs(r, 'poke', ['pgfault', 'cow_zero'])).toEqual({ pgfault: 1, cow_zero: 1 });
  });

  it('test_ptrace_write_thp: a FOLL_FORCE write into a read-only MADV_HUGEPAGE range places a THP (read-only); a user write is SIGSEGV', () => {
    const r = run(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          thpRange('r'),
          { op: 'pokeMem', pid: 'p', region: 'mem', value: 1, phase: 'poke' },
          { op: 'access', pid: 'p', region: 'mem', access: 'read', expect: 1 },
          // MM populated a THP if the last subpage is populated as well
          {
            op: 'pagemap',
            pid: 'p',
            region: 'mem',
            offset: '2044KiB',
            expect: { present: true, pmdMapped: true, order: 9 },
          },
          ...writeSigsegv(1),
        ],
      },
      { policies: [thp] },
    );
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
    expect(ctrs(r, 'poke', ['pgfault', 'thp_fault_alloc'])).toEqual({ pgfault: 1, thp_fault_alloc: 1 });
  });

  it('test_page_migration: a dirty page made read-only and migrated (mbind MPOL_MF_MOVE) lands in a new frame and stays read-only', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'mem', size: '4KiB' },
        { op: 'access', pid: 'p', region: 'mem', access: 'write', value: 1 },
        { op: 'mprotect', pid: 'p', region: 'mem', prot: 'r' },
        { op: 'pagemap', pid: 'p', region: 'mem', expect: { present: true, pfn: 'before' } },
        { op: 'migrate', pid: 'p', region: 'mem', phase: 'migrate' },
        { op: 'pagemap', pid: 'p', region: 'mem', expect: { present: true, exclusive: true, pfn: 'after' } },
        ...writeSigsegv(1),
      ],
    });
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
    expect(ctrs(r, 'migrate', ['pgmigrate_success', 'pgmigrate_fail', 'pgalloc', 'pgfree'])).toEqual({
      pgmigrate_success: 1,
      pgmigrate_fail: 0,
      pgalloc: 1,
      pgfree: 1,
    });
  });

  it('test_page_migration_thp: a read-only THP migrates whole (thp_migration_success) into a new THP, PMD-mapped and read-only', () => {
    const r = run(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          thpRange('rw'),
          { op: 'access', pid: 'p', region: 'mem', access: 'write', value: 1 },
          { op: 'mprotect', pid: 'p', region: 'mem', prot: 'r' },
          {
            op: 'pagemap',
            pid: 'p',
            region: 'mem',
            offset: '2044KiB',
            expect: { present: true, pmdMapped: true, pfn: 'old' },
          },
          { op: 'migrate', pid: 'p', region: 'mem', phase: 'migrate' },
          {
            op: 'pagemap',
            pid: 'p',
            region: 'mem',
            offset: '2044KiB',
            expect: { present: true, pmdMapped: true, order: 9, pfn: 'new' },
          },
          ...writeSigsegv(1),
        ],
      },
      { policies: [thp] },
    );
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
    expect(ctrs(r, 'migrate', ['pgmigrate_success', 'thp_migration_success', 'pgalloc'])).toEqual({
      pgmigrate_success: 512,
      thp_migration_success: 1,
      pgalloc: 512,
    });
  });

  it('test_pte_mapped_thp: mprotect() of the last subpage back to rw PTE-maps the THP; the first subpage stays read-only', () => {
    const r = run(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          thpRange('rw'),
          { op: 'access', pid: 'p', region: 'mem', access: 'write', value: 1 },
          { op: 'mprotect', pid: 'p', region: 'mem', prot: 'r' },
          { op: 'pagemap', pid: 'p', region: 'mem', offset: '2044KiB', expect: { present: true, pmdMapped: true } },
          { op: 'mprotect', pid: 'p', region: 'mem', offset: '2044KiB', prot: 'rw', phase: 'split' },
          {
            op: 'pagemap',
            pid: 'p',
            region: 'mem',
            size: '4KiB',
            expect: { present: true, pmdMapped: false, order: 9 },
          },
          ...writeSigsegv(1),
        ],
      },
      { policies: [thp] },
    );
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
    expect(ctr(r, 'split', 'thp_split_pmd')).toBe(1);
  });

  it('test_uffdio_copy: UFFDIO_COPY into a read-only VMA maps the page read-only; a user write is SIGSEGV', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'mem', size: '4KiB', prot: 'r' },
        { op: 'uffdApi', pid: 'p', features: [] },
        { op: 'uffdRegister', pid: 'p', region: 'mem', mode: 'missing' },
        { op: 'uffdCopy', pid: 'p', region: 'mem', value: 1, phase: 'copy' },
        ...writeSigsegv(1),
      ],
    });
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
    expect(ctr(r, 'copy', 'uffd_copy')).toBe(1);
  });
});
