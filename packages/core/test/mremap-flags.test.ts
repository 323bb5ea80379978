/** do_mremap() beyond the plain move: resize, MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP, errnos. */
import { describe, expect, it } from 'vitest';
import { definePlugin } from '../src/index.js';
import { ctr, ctrs, run, runError } from './helpers.js';

/** order 9 on every fault (like `2048K: always`) */
const thp = definePlugin({
  name: 'thp-test',
  api: '^1.0.0',
  apply: (sys) => {
    sys.hooks.fault.anonOrders.tap('thp-test', (o) => o | (1 << 9));
  },
});

const head = [
  { op: 'spawn', pid: 'p' },
  { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
  // page i holds i + 1
  { op: 'touch', pid: 'p', region: 'a', access: 'write' },
];
const read = (region: string, page: number, expect: number) => ({
  op: 'access',
  pid: 'p',
  region,
  offset: page * 4096,
  access: 'read',
  expect,
});

describe('mremap: resize and flags (do_mremap)', () => {
  it('grow in place is ENOMEM when a VMA follows (vma_expandable); with MREMAP_MAYMOVE it moves, the new tail is empty', () => {
    const r = run({
      name: 'grow',
      steps: [
        ...head,
        { op: 'mmap', pid: 'p', name: 'blocker-src', size: '4KiB' },
        // a new address may lie outside every region: here just after a's end
        {
          op: 'mremap',
          pid: 'p',
          region: 'blocker-src',
          mayMove: true,
          fixed: { region: 'a', offset: '16KiB' },
          to: 'blocker',
        },
        { op: 'mremap', pid: 'p', region: 'a', newSize: '32KiB', expectError: 'ENOMEM' },
        read('a', 3, 4),
        { op: 'mremap', pid: 'p', region: 'a', newSize: '32KiB', mayMove: true, to: 'big', phase: 'move' },
        read('big', 0, 1),
        read('big', 3, 4),
        read('big', 7, 0),
        { op: 'access', pid: 'p', region: 'a', access: 'read', expectError: 'SIGSEGV' },
        { op: 'maps', pid: 'p', region: 'big', expect: { count: 1, vmas: [{ region: 'big', size: '32KiB' }] } },
      ],
    });
    expect(r.checks).toEqual({ passed: 8, failed: 0, failures: [] });
    // move_ptes() of the 4 pages; the faults: the zero-page read of page 7 and the SIGSEGV
    expect(ctrs(r, 'move', ['mremap_pte_move', 'pgfault'])).toEqual({ mremap_pte_move: 4, pgfault: 2 });
  });

  it('grow in place into free room: the same VMA, the data stays, the region grows', () => {
    const r = run({
      name: 'grow-in-place',
      steps: [
        ...head,
        { op: 'mremap', pid: 'p', region: 'a', newSize: '64KiB', phase: 'grow' },
        read('a', 3, 4),
        read('a', 15, 0),
        { op: 'maps', pid: 'p', expect: { count: 1, vmas: [{ region: 'a', size: '64KiB', rss: '16KiB' }] } },
      ],
    });
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
    expect(ctr(r, 'grow', 'mremap_pte_move')).toBe(0);
  });

  it('shrink: the tail is unmapped (SIGSEGV), the head keeps its data; MREMAP_MAYMOVE does not move a shrink', () => {
    const r = run({
      name: 'shrink',
      steps: [
        ...head,
        { op: 'mremap', pid: 'p', region: 'a', newSize: '8KiB', mayMove: true, to: 'b', phase: 'shrink' },
        read('b', 1, 2),
        { op: 'access', pid: 'p', region: 'a', offset: '8KiB', access: 'read', expectError: 'SIGSEGV' },
        { op: 'maps', pid: 'p', expect: { count: 1, vmas: [{ region: 'a', size: '8KiB', rss: '8KiB' }] } },
      ],
    });
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
    expect(ctrs(r, 'shrink', ['mremap_pte_move', 'pgfree'])).toEqual({ mremap_pte_move: 0, pgfree: 2 });
  });

  it('MREMAP_DONTUNMAP: the pages move, the old range stays mapped and empty (reads zero)', () => {
    const r = run({
      name: 'dontunmap',
      steps: [
        ...head,
        { op: 'mremap', pid: 'p', region: 'a', mayMove: true, dontUnmap: true, to: 'b', phase: 'move' },
        read('b', 0, 1),
        read('b', 3, 4),
        read('a', 0, 0),
        { op: 'maps', pid: 'p', expect: { count: 2 } },
      ],
    });
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
    expect(ctr(r, 'move', 'mremap_pte_move')).toBe(4);
  });

  it('MREMAP_DONTUNMAP of a shared mapping: EINVAL before v5.13 (mremapDontunmapAny off), moves after', () => {
    const steps = [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'a', size: '8KiB', shared: true },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 5 },
      { op: 'mremap', pid: 'p', region: 'a', mayMove: true, dontUnmap: true, to: 'b', expectError: 'EINVAL' },
    ];
    expect(run({ name: 'old', steps }, { config: { features: { mremapDontunmapAny: false } } }).checks.passed).toBe(1);
    const r = run({ name: 'new', steps });
    expect(r.checks.failures).toEqual([{ step: 'steps[3]', message: 'succeeded, expected EINVAL' }]);
  });

  it('the errnos: EINVAL (flags, new_len 0), EFAULT (no VMA at old_address, a range over two VMAs); nothing changes', () => {
    const r = run({
      name: 'errnos',
      steps: [
        ...head,
        { op: 'mmap', pid: 'p', name: 'b', size: '8KiB' },
        // MREMAP_FIXED without MREMAP_MAYMOVE
        { op: 'mremap', pid: 'p', region: 'a', fixed: { region: 'b' }, to: 'c', expectError: 'EINVAL' },
        // MREMAP_DONTUNMAP with old_len != new_len
        {
          op: 'mremap',
          pid: 'p',
          region: 'a',
          newSize: '32KiB',
          mayMove: true,
          dontUnmap: true,
          to: 'c',
          expectError: 'EINVAL',
        },
        { op: 'mremap', pid: 'p', region: 'a', newSize: 0, expectError: 'EINVAL' },
        { op: 'mprotect', pid: 'p', region: 'a', offset: '8KiB', size: '8KiB', prot: 'r' },
        // old_len > vma->vm_end - addr: the range covers two VMAs
        { op: 'mremap', pid: 'p', region: 'a', newSize: '32KiB', mayMove: true, to: 'c', expectError: 'EFAULT' },
        { op: 'munmap', pid: 'p', region: 'b' },
        { op: 'mremap', pid: 'p', region: 'b', newSize: '16KiB', mayMove: true, to: 'c', expectError: 'EFAULT' },
        read('a', 0, 1),
        read('a', 3, 4),
        { op: 'maps', pid: 'p', expect: { count: 2 } },
      ],
    });
    expect(r.checks).toEqual({ passed: 8, failed: 0, failures: [] });
  });

  it('a move needs "to"; a fixed.offset must be a page multiple (bad input, exit 2)', () => {
    expect(
      runError({
        name: 'x',
        steps: [...head, { op: 'mremap', pid: 'p', region: 'a', newSize: '32KiB', mayMove: true }],
      }).message,
    ).toMatch(/steps\[3\] field "to": an mremap that may move needs "to"/);
  });

  it('move_soft_dirty_pte(): after clear_refs 4, the moved PTEs are soft-dirty at the new place', () => {
    const r = run({
      name: 'soft-dirty',
      steps: [
        ...head,
        { op: 'clearRefs', pid: 'p', value: 4 },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { softDirty: false, present: true } },
        { op: 'mmap', pid: 'p', name: 'dst', size: '16KiB' },
        { op: 'clearRefs', pid: 'p', value: 4 },
        { op: 'mremap', pid: 'p', region: 'a', mayMove: true, fixed: { region: 'dst' }, to: 'b' },
        { op: 'pagemap', pid: 'p', region: 'b', expect: { softDirty: true, present: true } },
      ],
    });
    expect(r.checks).toEqual({ passed: 8, failed: 0, failures: [] });
  });
});

describe('maps: /proc/PID/smaps fields', () => {
  it('Rss, Anonymous, Private_Dirty, Swap after MADV_PAGEOUT; Shared_Dirty after fork; VmFlags', () => {
    const r = run({
      name: 'smaps',
      steps: [
        ...head,
        { op: 'madvise', pid: 'p', region: 'a', size: '4KiB', advice: 'pageout' },
        {
          op: 'maps',
          pid: 'p',
          expect: {
            count: 1,
            vmas: [
              {
                region: 'a',
                size: '16KiB',
                perms: 'rw-p',
                rss: '12KiB',
                anonymous: '12KiB',
                privateDirty: '12KiB',
                sharedDirty: 0,
                swap: '4KiB',
                locked: 0,
                lazyFree: 0,
                thpEligible: false,
                vmFlags: 'rd wr mr mw me ac sd',
              },
            ],
          },
        },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'wipeonfork', size: '4KiB' },
        { op: 'fork', pid: 'p', child: 'c' },
        {
          op: 'maps',
          pid: 'c',
          expect: {
            count: 2,
            vmas: [
              { region: 'a', size: '4KiB', rss: 0, swap: 0, vmFlags: 'rd wr mr mw me ac wf sd' },
              { region: 'a', offset: '4KiB', rss: '12KiB', sharedDirty: '12KiB', privateDirty: 0 },
            ],
          },
        },
        { op: 'mprotect', pid: 'p', region: 'a', prot: 'r' },
        { op: 'maps', pid: 'p', expect: { vmas: [{ perms: 'r--p' }, { perms: 'r--p' }] } },
      ],
    });
    expect(r.checks).toEqual({ passed: 7, failed: 0, failures: [] });
  });

  it('AnonHugePages and THPeligible with the PMD order allowed; a failed expectation names the VMA and the field', () => {
    const r = run(
      {
        name: 'thp',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '4MiB' },
          { op: 'touch', pid: 'p', region: 'a', size: '2MiB', access: 'write' },
          {
            op: 'maps',
            pid: 'p',
            expect: { vmas: [{ rss: '2MiB', anonHugePages: '2MiB', thpEligible: true, swap: '4KiB' }] },
          },
        ],
      },
      { policies: [thp] },
    );
    expect(r.checks).toEqual({
      passed: 0,
      failed: 1,
      failures: [{ step: 'steps[3] vma 0', message: 'swap 0, expected 4096' }],
    });
  });
});

describe('mremap: a move of several VMAs (v6.17, remap_move())', () => {
  const setup = [
    { op: 'spawn', pid: 'p' },
    { op: 'mmap', pid: 'p', name: 'a', size: '40KiB' },
    { op: 'touch', pid: 'p', region: 'a', access: 'write' },
    // VMAs [0, 3), [4, 6), [7, 10) with gaps at pages 3 and 6
    { op: 'munmap', pid: 'p', region: 'a', offset: '12KiB', size: '4KiB' },
    { op: 'munmap', pid: 'p', region: 'a', offset: '24KiB', size: '4KiB' },
    { op: 'mmap', pid: 'p', name: 'dst', size: '40KiB' },
  ];
  const move = { op: 'mremap', pid: 'p', region: 'a', mayMove: true, fixed: { region: 'dst' }, to: 'b' };

  it('MREMAP_FIXED with old_len = new_len over three VMAs and two gaps: each moves to its offset, the gaps stay gaps', () => {
    const r = run({
      name: 'multi',
      steps: [
        ...setup,
        { ...move, phase: 'move' },
        {
          op: 'maps',
          pid: 'p',
          region: 'b',
          expect: {
            count: 3,
            vmas: [
              { region: 'b', size: '12KiB', rss: '12KiB' },
              { region: 'b', offset: '16KiB', size: '8KiB' },
              { region: 'b', offset: '28KiB', size: '12KiB' },
            ],
          },
        },
        read('b', 0, 1),
        read('b', 5, 6),
        read('b', 9, 10),
        { op: 'access', pid: 'p', region: 'b', offset: '12KiB', access: 'read', expectError: 'SIGSEGV' },
        { op: 'maps', pid: 'p', region: 'a', expect: { count: 0 } },
      ],
    });
    expect(r.checks).toEqual({ passed: 9, failed: 0, failures: [] });
    expect(ctr(r, 'move', 'mremap_pte_move')).toBe(8);
  });

  it('before v6.17 (mremapMultiVma off) the same call is EFAULT and nothing moves', () => {
    const r = run(
      { name: 'multi-old', steps: [...setup, { ...move, expectError: 'EFAULT' }, read('a', 9, 10)] },
      { config: { features: { mremapMultiVma: false } } },
    );
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
  });

  it('a userfaultfd-registered VMA stops the move (EFAULT); the VMAs before it stay moved', () => {
    const r = run({
      name: 'multi-uffd',
      steps: [
        ...setup,
        { op: 'uffdRegister', pid: 'p', region: 'a', offset: '16KiB', size: '8KiB', mode: 'missing' },
        { ...move, expectError: 'EFAULT' },
        read('b', 2, 3),
        read('a', 4, 5),
        read('a', 9, 10),
        { op: 'maps', pid: 'p', region: 'b', expect: { count: 1 } },
      ],
    });
    expect(r.checks).toEqual({ passed: 5, failed: 0, failures: [] });
  });
});
