/**
 * tools/testing/selftests/mm/ksm_functional_tests.c, the anonymous cases. Each case runs as
 * upstream: ksm_stop() (run = 2), mmap 2 MiB with MADV_NOHUGEPAGE, memset, mprotect,
 * MADV_MERGEABLE or PR_SET_MEMORY_MERGE, ksm_start() (run = 1, then two full scans), then the
 * case's own steps. range_maps_duplicates() is a pagemap step giving every present page its own
 * `pfn` label (a frame mapped twice fails it); ksm_get_self_merging_pages() and
 * ksm_get_self_zero_pages() read /proc/self/ksm_stat.
 */
import { describe, expect, it } from 'vitest';
import { ctr, run } from '../helpers.js';

const SIZE = 2 * 1024 * 1024;
const PAGES = SIZE / 4096;
type Mode = 'madvise' | 'prctl' | 'none';

/** __mmap_and_merge_range(val, size, prot, mode) for process `pid` (val: the byte memset; a page holds it 4 times) */
function mmapAndMergeRange(pid: string, val: number, prot: 'rw' | 'none', mode: Mode): unknown[] {
  const v = (val * 0x01010101) >>> 0;
  return [
    { op: 'ksm', run: 2 }, // ksm_stop(): unmerge everything
    { op: 'ksmStat', pid, expect: { ksm_merging_pages: 0 } },
    { op: 'mmap', pid, name: 'map', size: SIZE, advice: 'nohugepage' },
    { op: 'touch', pid, region: 'map', access: 'write', value: v },
    ...(prot === 'rw' ? [] : [{ op: 'mprotect', pid, region: 'map', prot }]),
    ...(mode === 'madvise' ? [{ op: 'madvise', pid, region: 'map', advice: 'mergeable' }] : []),
    ...(mode === 'prctl' ? [{ op: 'prctl', pid, option: 'memoryMerge', value: 1 }] : []),
    { op: 'ksm', run: 1 }, // ksm_start(): wait for two full scans
    { op: 'ksmd', fullScans: 2 },
    // "No pages got merged" unless something was: all 512 pages of one value are KSM-mapped
    ...(val !== 0 ? [{ op: 'ksmStat', pid, expect: { ksm_merging_pages: PAGES } }] : []),
  ];
}

/** !range_maps_duplicates(map + offset, size): each present page its own frame */
function noDuplicates(pid: string, tag: string, offset = 0, size = SIZE) {
  const n = size / 4096;
  return {
    op: 'pagemap',
    pid,
    region: 'map',
    offset,
    size,
    expect: Array.from({ length: n }, (_, i) => ({ pfn: `${tag}${i}` })),
  };
}

const spawn = [{ op: 'spawn', pid: 'self' }];

function runCase(steps: unknown[], config = {}) {
  const r = run({ name: 'ksm_functional_tests', steps: [...spawn, ...steps] }, { config });
  expect(r.checks.failures).toEqual([]);
  return r;
}

describe('ksm_functional_tests.c', () => {
  it('test_unmerge: MADV_UNMERGEABLE after merging leaves no page frame mapped twice', () => {
    const r = runCase([
      ...mmapAndMergeRange('self', 0xcf, 'rw', 'madvise'),
      // max_page_sharing 256: 512 identical pages need two KSM pages (a stable node chain of two dups)
      { op: 'ksm', expect: { pages_shared: 2, pages_sharing: PAGES - 2 } },
      { op: 'madvise', pid: 'self', region: 'map', advice: 'unmergeable', phase: 'unmerge' },
      noDuplicates('self', 'u'),
    ]);
    expect(r.checks.passed).toBe(1 + 1 + 2 + PAGES);
    // break_ksm(): one unshare fault and one copy per page
    expect(ctr(r, 'unmerge', 'cow_copy')).toBe(PAGES);
  });

  it('test_unmerge_zero_pages: ksm_zero_pages counts the zero pages placed, MADV_UNMERGEABLE and writes give them back', () => {
    runCase([
      { op: 'ksm', use_zero_pages: 1 },
      ...mmapAndMergeRange('self', 0x00, 'rw', 'madvise'),
      { op: 'ksmStat', pid: 'self', expect: { ksm_zero_pages: PAGES } },
      { op: 'madvise', pid: 'self', region: 'map', size: SIZE / 2, advice: 'unmergeable' },
      { op: 'ksmStat', pid: 'self', expect: { ksm_zero_pages: PAGES / 2 } },
      ...Array.from({ length: PAGES / 2 }, (_, i) => ({
        op: 'access',
        pid: 'self',
        region: 'map',
        offset: SIZE / 2 + i * 4096,
        access: 'write',
        value: SIZE / 2 + i * 4096,
      })),
      { op: 'ksmStat', pid: 'self', expect: { ksm_zero_pages: 0 } },
      noDuplicates('self', 'z'),
    ]);
  });

  it('test_unmerge_discarded: MADV_UNMERGEABLE over a range whose first half was MADV_DONTNEED-ed', () => {
    runCase([
      ...mmapAndMergeRange('self', 0xcf, 'rw', 'madvise'),
      { op: 'madvise', pid: 'self', region: 'map', size: SIZE / 2, advice: 'dontneed' },
      { op: 'madvise', pid: 'self', region: 'map', advice: 'unmergeable' },
      { op: 'pagemap', pid: 'self', region: 'map', size: SIZE / 2, expect: { present: false } },
      noDuplicates('self', 'd', SIZE / 2, SIZE / 2),
    ]);
  });

  it('test_unmerge_uffd_wp: MADV_UNMERGEABLE of a range write-protected with UFFDIO_WRITEPROTECT (the unshare fault is not handed to the monitor)', () => {
    const r = runCase([
      ...mmapAndMergeRange('self', 0xcf, 'rw', 'madvise'),
      { op: 'uffdRegister', pid: 'self', region: 'map', mode: 'wp' },
      { op: 'uffdWriteProtect', pid: 'self', region: 'map', enable: true },
      { op: 'madvise', pid: 'self', region: 'map', advice: 'unmergeable', phase: 'unmerge' },
      noDuplicates('self', 'w'),
    ]);
    expect(ctr(r, 'unmerge', 'uffd_fault')).toBe(0);
  });

  it('test_prctl: PR_SET_MEMORY_MERGE 1 and 0 are what PR_GET_MEMORY_MERGE returns', () => {
    runCase([
      { op: 'prctl', pid: 'self', option: 'memoryMerge', value: 1 },
      { op: 'prctl', pid: 'self', option: 'memoryMerge', expect: 1 },
      { op: 'prctl', pid: 'self', option: 'memoryMerge', value: 0 },
      { op: 'prctl', pid: 'self', option: 'memoryMerge', expect: 0 },
    ]);
  });

  it('test_prctl_fork: the child inherits PR_SET_MEMORY_MERGE and merges its own new mapping (test_child_ksm())', () => {
    runCase([
      { op: 'prctl', pid: 'self', option: 'memoryMerge', value: 1 },
      { op: 'fork', pid: 'self', child: 'child' },
      { op: 'prctl', pid: 'child', option: 'memoryMerge', expect: 1 },
      ...mmapAndMergeRange('child', 0xcf, 'rw', 'none'),
      { op: 'ksm', run: 2 },
      { op: 'exit', pid: 'child' },
      { op: 'prctl', pid: 'self', option: 'memoryMerge', value: 0 },
      { op: 'prctl', pid: 'self', option: 'memoryMerge', expect: 0 },
    ]);
  });

  it('test_prctl_unmerge: PR_SET_MEMORY_MERGE 0 unmerges what it merged', () => {
    runCase([
      ...mmapAndMergeRange('self', 0xcf, 'rw', 'prctl'),
      { op: 'prctl', pid: 'self', option: 'memoryMerge', value: 0 },
      noDuplicates('self', 'p'),
    ]);
  });

  it('test_prot_none: PROT_NONE pages merge and MADV_UNMERGEABLE unshares the second half (checks less than upstream: its /proc/self/mem writes to the first half are not modelled, so only the unmerged half is checked)', () => {
    const r = runCase([
      ...mmapAndMergeRange('self', 0x11, 'none', 'madvise'),
      { op: 'madvise', pid: 'self', region: 'map', offset: SIZE / 2, size: SIZE / 2, advice: 'unmergeable' },
      noDuplicates('self', 'n', SIZE / 2, SIZE / 2),
      // the copies stay PROT_NONE: an access still faults
      { op: 'access', pid: 'self', region: 'map', offset: SIZE / 2, access: 'read', expectError: 'SIGSEGV' },
    ]);
    expect(r.checks.passed).toBeGreaterThan(PAGES / 2);
  });

  it('test_fork_ksm_merging_page_count: ksm_merging_pages is not inherited by the child', () => {
    runCase([
      ...mmapAndMergeRange('self', 0xcf, 'rw', 'madvise'),
      { op: 'fork', pid: 'self', child: 'child' },
      { op: 'ksmStat', pid: 'child', expect: { ksm_merging_pages: 0 } },
      { op: 'exit', pid: 'child' },
    ]);
  });
});
