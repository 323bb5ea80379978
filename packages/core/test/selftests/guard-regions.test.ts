/**
 * tools/testing/selftests/mm/guard-regions.c, the anonymous variant (FIXTURE_VARIANT anon) of
 * its TEST_F(guard_regions, ...) cases as scenarios. try_read_write_buf() is a read and a write
 * access: a guarded page fails both with SIGSEGV (`expectError`), an unguarded page gives its
 * value and takes the write ('x'). MAP_FIXED mmap is not modelled: where a case maps over a
 * range, a fresh one-page region is moved there with mremap(MREMAP_MAYMOVE | MREMAP_FIXED).
 */
import { describe, expect, it } from 'vitest';
import { ctr, run } from '../helpers.js';

const PG = 4096;
const X = 120; // 'x'
const Y = 121; // 'y'

/** try_read_write_buf() of page i of region `r` fails: SIGSEGV on the read and on the write. */
function guarded(r: string, i: number, pid = 'p', readOnly = false) {
  const s: unknown[] = [{ op: 'access', pid, region: r, offset: i * PG, access: 'read', expectError: 'SIGSEGV' }];
  if (!readOnly)
    s.push({ op: 'access', pid, region: r, offset: i * PG, access: 'write', value: X, expectError: 'SIGSEGV' });
  return s;
}
/** try_read_write_buf() succeeds: the read gives `value` (when given), then the write of 'x' (unless readOnly). */
function usable(r: string, i: number, value?: number, pid = 'p', readOnly = false) {
  const s: unknown[] = [
    { op: 'access', pid, region: r, offset: i * PG, access: 'read', ...(value !== undefined ? { expect: value } : {}) },
  ];
  if (!readOnly) s.push({ op: 'access', pid, region: r, offset: i * PG, access: 'write', value: X });
  return s;
}
const pages = (n: number) => `${n * 4}KiB`;
const madv = (r: string, first: number, n: number, advice: string, pid = 'p') => ({
  op: 'madvise',
  pid,
  region: r,
  offset: first * PG,
  size: n * PG,
  advice,
});
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const head = (n: number, prot?: string) => [
  { op: 'spawn', pid: 'p' },
  { op: 'mmap', pid: 'p', name: 'a', size: pages(n), ...(prot ? { prot } : {}) },
];
/** mmap a fresh page and move it onto page i of `r` (what the test's MAP_FIXED mmap does). */
const mapOver = (r: string, i: number, name: string) => [
  { op: 'mmap', pid: 'p', name: `${name}-src`, size: '4KiB' },
  { op: 'mremap', pid: 'p', region: `${name}-src`, mayMove: true, fixed: { region: r, offset: i * PG }, to: name },
];

function ok(r: ReturnType<typeof run>, checks: number) {
  expect(r.checks).toEqual({ passed: checks, failed: 0, failures: [] });
}

describe('guard-regions.c', () => {
  it('basic: a guard page SIGSEGVs, the rest is usable, removal restores it; a range over backed pages; removing everything keeps the data', () => {
    const r = run({
      name: 'basic',
      steps: [
        ...head(10),
        ...usable('a', 0),
        madv('a', 0, 1, 'guard_install'),
        ...guarded('a', 0),
        ...range(1, 10).flatMap((i) => usable('a', i)),
        madv('a', 9, 1, 'guard_install'),
        ...guarded('a', 0),
        ...guarded('a', 9),
        madv('a', 0, 1, 'guard_remove'),
        ...usable('a', 0, 0),
        madv('a', 9, 1, 'guard_remove'),
        ...usable('a', 9, 0),
        // the first of these is faulted in: guard install zaps it
        madv('a', 0, 3, 'guard_install'),
        ...range(0, 3).flatMap((i) => guarded('a', i)),
        ...range(3, 10).flatMap((i) => usable('a', i, X)),
        madv('a', 0, 10, 'guard_remove'),
        ...range(0, 10).flatMap((i) => usable('a', i)),
        madv('a', 0, 10, 'guard_remove'),
        ...range(0, 10).map((i) => ({
          op: 'access',
          pid: 'p',
          region: 'a',
          offset: i * PG,
          access: 'read',
          expect: X,
        })),
      ],
    });
    // checks: every expected SIGSEGV and every read with an expected value
    ok(r, 2 + 4 + 1 + 1 + 6 + 7 + 10);
  });

  it('munmap: unmapping guarded pages drops the markers: a page mapped over them (mremap MREMAP_FIXED, no MAP_FIXED mmap) is not guarded', () => {
    const r = run({
      name: 'munmap',
      steps: [
        ...head(10),
        madv('a', 0, 1, 'guard_install'),
        madv('a', 9, 1, 'guard_install'),
        ...guarded('a', 0),
        ...guarded('a', 9),
        { op: 'munmap', pid: 'p', region: 'a', size: '4KiB' },
        { op: 'munmap', pid: 'p', region: 'a', offset: 9 * PG, size: '4KiB' },
        ...mapOver('a', 0, 'new1'),
        ...mapOver('a', 9, 'new2'),
        ...usable('new1', 0, 0),
        ...usable('new2', 0, 0),
      ],
    });
    ok(r, 4 + 2);
  });

  it('mprotect: making guarded pages read-only keeps them guarded; guarding again works; removal makes all readable', () => {
    const r = run({
      name: 'mprotect',
      steps: [
        ...head(10),
        madv('a', 5, 2, 'guard_install'),
        ...guarded('a', 5),
        ...guarded('a', 6),
        { op: 'mprotect', pid: 'p', region: 'a', offset: 5 * PG, size: 2 * PG, prot: 'r' },
        ...guarded('a', 5, 'p', true),
        ...guarded('a', 6, 'p', true),
        madv('a', 5, 2, 'guard_install'),
        ...guarded('a', 5, 'p', true),
        ...guarded('a', 6, 'p', true),
        madv('a', 0, 10, 'guard_remove'),
        ...range(0, 10).flatMap((i) => usable('a', i, 0, 'p', true)),
      ],
    });
    ok(r, 4 + 2 + 2 + 10);
  });

  it('split_merge: guards survive VMA splits (munmap, mprotect) and merges; holes mapped over (mremap MREMAP_FIXED) are not guarded; VMA counts checked', () => {
    const all = (f: (i: number) => unknown[]) => range(0, 10).flatMap(f);
    const r = run({
      name: 'split-merge',
      steps: [
        ...head(10),
        madv('a', 0, 10, 'guard_install'),
        ...all((i) => guarded('a', i)),
        { op: 'munmap', pid: 'p', region: 'a', offset: 2 * PG, size: '4KiB' },
        { op: 'munmap', pid: 'p', region: 'a', offset: 5 * PG, size: '4KiB' },
        { op: 'munmap', pid: 'p', region: 'a', offset: 8 * PG, size: '4KiB' },
        { op: 'maps', pid: 'p', region: 'a', expect: { count: 4 } },
        ...[0, 1, 3, 4, 6, 7, 9].flatMap((i) => guarded('a', i)),
        ...mapOver('a', 2, 'n2'),
        ...mapOver('a', 5, 'n5'),
        ...mapOver('a', 8, 'n8'),
        // the new pages merge with their neighbours again (never-faulted anon VMAs take the new pgoff)
        { op: 'maps', pid: 'p', region: 'a', expect: { count: 1 } },
        ...all((i) => (i === 2 || i === 5 || i === 8 ? usable('a', i, 0) : guarded('a', i))),
        madv('a', 0, 10, 'guard_install'),
        ...all((i) => guarded('a', i)),
        { op: 'mprotect', pid: 'p', region: 'a', size: 3 * PG, prot: 'r' },
        { op: 'mprotect', pid: 'p', region: 'a', offset: 7 * PG, size: 3 * PG, prot: 'r' },
        { op: 'maps', pid: 'p', region: 'a', expect: { count: 3 } },
        ...all((i) => guarded('a', i, 'p', true)),
        { op: 'mprotect', pid: 'p', region: 'a', size: 3 * PG, prot: 'rw' },
        { op: 'mprotect', pid: 'p', region: 'a', offset: 7 * PG, size: 3 * PG, prot: 'rw' },
        { op: 'maps', pid: 'p', region: 'a', expect: { count: 1 } },
        ...all((i) => guarded('a', i)),
        { op: 'mprotect', pid: 'p', region: 'a', size: 3 * PG, prot: 'r' },
        { op: 'mprotect', pid: 'p', region: 'a', offset: 7 * PG, size: 3 * PG, prot: 'r' },
        madv('a', 0, 10, 'guard_remove'),
        ...all((i) => usable('a', i, 0, 'p', true)),
        { op: 'mprotect', pid: 'p', region: 'a', size: 3 * PG, prot: 'rw' },
        { op: 'mprotect', pid: 'p', region: 'a', offset: 7 * PG, size: 3 * PG, prot: 'rw' },
        {
          op: 'maps',
          pid: 'p',
          region: 'a',
          expect: { count: 1, vmas: [{ region: 'a', size: pages(10), perms: 'rw-p' }] },
        },
        ...all((i) => usable('a', i, 0)),
      ],
    });
    ok(r, 20 + 1 + 14 + 1 + (3 + 14) + 20 + 1 + 10 + 1 + 20 + 10 + 2 + 10);
  });

  it('dontneed: MADV_DONTNEED keeps the markers; the other pages read the zero page', () => {
    const r = run({
      name: 'dontneed',
      steps: [
        ...head(10),
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: Y },
        ...[0, 2, 4, 6, 8].map((i) => madv('a', i, 1, 'guard_install')),
        madv('a', 0, 10, 'dontneed'),
        ...range(0, 10).flatMap((i) => (i % 2 === 0 ? guarded('a', i) : usable('a', i, 0))),
      ],
    });
    ok(r, 10 + 5);
  });

  it('mremap_move: MREMAP_FIXED onto a PROT_NONE reservation moves the markers with the range', () => {
    const r = run({
      name: 'mremap-move',
      steps: [
        ...head(5),
        madv('a', 0, 1, 'guard_install'),
        madv('a', 4, 1, 'guard_install'),
        ...guarded('a', 0),
        ...guarded('a', 4),
        { op: 'mmap', pid: 'p', name: 'new', size: pages(5), prot: 'none' },
        { op: 'mremap', pid: 'p', region: 'a', mayMove: true, fixed: { region: 'new' }, to: 'moved', phase: 'move' },
        ...guarded('moved', 0),
        ...guarded('moved', 4),
        ...usable('moved', 2, 0),
      ],
    });
    ok(r, 8 + 1);
    expect(ctr(r, 'move', 'mremap_pte_move')).toBe(2);
  });

  it('mremap_expand: growing in place and then moving and growing (MREMAP_FIXED) keep the markers in their positions', () => {
    const r = run({
      name: 'mremap-expand',
      steps: [
        ...head(10),
        { op: 'munmap', pid: 'p', region: 'a', offset: 5 * PG, size: 5 * PG },
        madv('a', 0, 1, 'guard_install'),
        madv('a', 4, 1, 'guard_install'),
        ...guarded('a', 0),
        ...guarded('a', 4),
        { op: 'mremap', pid: 'p', region: 'a', size: pages(5), newSize: pages(10) },
        ...guarded('a', 0),
        ...guarded('a', 4),
        { op: 'mmap', pid: 'p', name: 'new', size: pages(20), prot: 'none' },
        {
          op: 'mremap',
          pid: 'p',
          region: 'a',
          newSize: pages(20),
          mayMove: true,
          fixed: { region: 'new' },
          to: 'moved',
        },
        ...guarded('moved', 0),
        ...guarded('moved', 4),
        ...usable('moved', 19, 0),
        { op: 'maps', pid: 'p', region: 'moved', expect: { count: 1, vmas: [{ region: 'moved', size: pages(20) }] } },
      ],
    });
    ok(r, 12 + 1 + 2);
  });

  it('mremap_shrink: shrinking drops the marker shrunk over; growing back in place does not bring it back', () => {
    const r = run({
      name: 'mremap-shrink',
      steps: [
        ...head(5),
        madv('a', 0, 1, 'guard_install'),
        madv('a', 4, 1, 'guard_install'),
        ...guarded('a', 0),
        ...guarded('a', 4),
        { op: 'mremap', pid: 'p', region: 'a', newSize: pages(3), mayMove: true, to: 'b' },
        ...guarded('b', 0),
        ...usable('b', 1, 0),
        ...usable('b', 2, 0),
        { op: 'mremap', pid: 'p', region: 'b', size: pages(3), newSize: pages(5) },
        ...guarded('a', 0),
        ...range(1, 5).flatMap((i) => usable('a', i)),
      ],
    });
    ok(r, 4 + 2 + 2 + 2);
  });

  it('fork: the child inherits the markers; its MADV_GUARD_REMOVE leaves the parent guarded', () => {
    const r = run({
      name: 'fork',
      steps: [
        ...head(10),
        madv('a', 0, 5, 'guard_install'),
        { op: 'fork', pid: 'p', child: 'c' },
        ...range(0, 10).flatMap((i) => (i >= 5 ? usable('a', i, 0, 'c') : guarded('a', i, 'c'))),
        madv('a', 0, 10, 'guard_remove', 'c'),
        { op: 'exit', pid: 'c' },
        ...range(0, 10).flatMap((i) => (i >= 5 ? usable('a', i, 0) : guarded('a', i))),
      ],
    });
    ok(r, 15 + 15);
  });

  it('fork_cow: guard install + remove in the child zaps its CoW copies (zero page after); the parent keeps its data', () => {
    const r = run({
      name: 'fork-cow',
      steps: [
        ...head(10),
        // the pattern: page i holds i + 1
        { op: 'touch', pid: 'p', region: 'a', access: 'write' },
        { op: 'fork', pid: 'p', child: 'c' },
        ...range(0, 10).map((i) => ({
          op: 'access',
          pid: 'c',
          region: 'a',
          offset: i * PG,
          access: 'read',
          expect: i + 1,
        })),
        madv('a', 0, 10, 'guard_install', 'c'),
        madv('a', 0, 10, 'guard_remove', 'c'),
        ...range(0, 10).map((i) => ({
          op: 'access',
          pid: 'c',
          region: 'a',
          offset: i * PG,
          access: 'read',
          expect: 0,
        })),
        { op: 'exit', pid: 'c' },
        ...range(0, 10).map((i) => ({
          op: 'access',
          pid: 'p',
          region: 'a',
          offset: i * PG,
          access: 'read',
          expect: i + 1,
        })),
      ],
    });
    ok(r, 30);
  });

  it('fork_wipeonfork: a VM_WIPEONFORK child has no markers; the parent keeps them', () => {
    const r = run({
      name: 'fork-wipeonfork',
      steps: [
        ...head(10),
        madv('a', 0, 10, 'wipeonfork'),
        madv('a', 0, 5, 'guard_install'),
        { op: 'fork', pid: 'p', child: 'c' },
        ...range(0, 10).flatMap((i) => usable('a', i, 0, 'c')),
        { op: 'exit', pid: 'c' },
        ...range(0, 10).flatMap((i) => (i >= 5 ? usable('a', i, 0) : guarded('a', i))),
      ],
    });
    ok(r, 10 + 15);
  });

  it('cold_pageout: MADV_COLD and MADV_PAGEOUT leave the markers in place', () => {
    const r = run({
      name: 'cold-pageout',
      steps: [
        ...head(10),
        madv('a', 0, 10, 'guard_install'),
        ...range(0, 10).flatMap((i) => guarded('a', i)),
        madv('a', 0, 10, 'cold'),
        ...range(0, 10).flatMap((i) => guarded('a', i)),
        madv('a', 0, 10, 'pageout'),
        ...range(0, 10).flatMap((i) => guarded('a', i)),
      ],
    });
    ok(r, 60);
  });

  it('uffd: guarding a range registered for missing faults: the accesses SIGSEGV, no userfault is raised', () => {
    const r = run({
      name: 'uffd',
      steps: [
        ...head(10),
        { op: 'uffdRegister', pid: 'p', region: 'a', mode: 'missing' },
        { ...madv('a', 0, 10, 'guard_install'), phase: 'guard' },
        ...range(0, 10).flatMap((i) => guarded('a', i)),
      ],
    });
    ok(r, 20);
    expect(ctr(r, 'guard', 'uffd_fault')).toBe(0);
  });

  it('anon_zeropage: guards in a read-only anonymous mapping; after removal every page reads the zero page', () => {
    const r = run({
      name: 'anon-zeropage',
      steps: [
        ...head(10, 'r'),
        ...[0, 2, 4, 6, 8].map((i) => madv('a', i, 1, 'guard_install')),
        ...range(0, 10).flatMap((i) => (i % 2 === 0 ? guarded('a', i, 'p', true) : usable('a', i, 0, 'p', true))),
        madv('a', 0, 10, 'guard_remove'),
        ...range(0, 10).flatMap((i) => usable('a', i, 0, 'p', true)),
        { op: 'pagemap', pid: 'p', region: 'a', expect: { present: true, pfn: 'Z', guard: false } },
      ],
    });
    ok(r, 10 + 10 + 10);
  });

  it('pagemap: PM_GUARD_REGION on the guarded pages only (and no present page there)', () => {
    const r = run({
      name: 'pagemap',
      steps: [
        ...head(10),
        { op: 'pagemap', pid: 'p', region: 'a', expect: { guard: false } },
        ...[0, 2, 4, 6, 8].map((i) => madv('a', i, 1, 'guard_install')),
        {
          op: 'pagemap',
          pid: 'p',
          region: 'a',
          expect: range(0, 10).map((i) => (i % 2 === 0 ? { guard: true, present: false } : { guard: false })),
        },
      ],
    });
    ok(r, 20);
  });

  it('mlock: MADV_GUARD_INSTALL on a locked range is EINVAL; after munlock half is guarded; MADV_GUARD_REMOVE works on a locked range', () => {
    const r = run({
      name: 'mlock',
      steps: [
        ...head(10),
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: Y },
        { op: 'mlock', pid: 'p', region: 'a' },
        { ...madv('a', 0, 10, 'guard_install'), expectError: 'EINVAL' },
        { op: 'munlock', pid: 'p', region: 'a' },
        madv('a', 0, 5, 'guard_install'),
        ...range(0, 10).flatMap((i) => (i < 5 ? guarded('a', i) : usable('a', i, Y))),
        ...range(5, 10).map((i) => ({
          op: 'access',
          pid: 'p',
          region: 'a',
          offset: i * PG,
          access: 'read',
          expect: X,
        })),
        { op: 'mlock', pid: 'p', region: 'a', offset: 5 * PG, size: 5 * PG },
        madv('a', 0, 10, 'guard_remove'),
        ...range(0, 10).flatMap((i) => usable('a', i)),
      ],
    });
    // 1 EINVAL, 10 SIGSEGV, 5 reads of 'y', 5 of 'x'
    ok(r, 21);
  });

  it('lazyfree: MADV_FREE over a guarded range leaves the markers', () => {
    const r = run({
      name: 'lazyfree',
      steps: [
        ...head(10),
        madv('a', 0, 10, 'guard_install'),
        ...range(0, 10).flatMap((i) => guarded('a', i)),
        madv('a', 0, 10, 'free'),
        ...range(0, 10).flatMap((i) => guarded('a', i)),
      ],
    });
    ok(r, 40);
  });

  it('populate: MADV_POPULATE_READ and MADV_POPULATE_WRITE over guard markers are EFAULT', () => {
    const r = run({
      name: 'populate',
      steps: [
        ...head(10),
        madv('a', 0, 10, 'guard_install'),
        { ...madv('a', 0, 10, 'populate_read'), expectError: 'EFAULT' },
        { ...madv('a', 0, 10, 'populate_write'), expectError: 'EFAULT' },
      ],
    });
    ok(r, 2);
  });
});
