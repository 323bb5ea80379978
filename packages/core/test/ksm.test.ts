/**
 * KSM (kernel/ksm.ts, ksm-unmerge.ts): ksmd's scan merges identical anonymous pages of
 * VM_MERGEABLE VMAs into write-protected KSM pages; a write copies; what holds extra
 * references does not merge; the counters are /sys/kernel/mm/ksm's.
 */
import { describe, expect, it } from 'vitest';
import { ctr, mem, run, runError, runSys } from './helpers.js';

const KSM = ['ksm_pages_shared', 'ksm_pages_sharing', 'ksm_pages_unshared', 'ksm_pages_volatile'];

/** p and q each map 3 pages: 7, 7, 9 (4 pages of 7 and 2 of 9 in all), mergeable */
const twoProcs = (extra: unknown[] = []) => [
  { op: 'spawn', pid: 'p' },
  { op: 'spawn', pid: 'q', cpu: 1 },
  { op: 'mmap', pid: 'p', name: 'a', size: '12KiB' },
  { op: 'mmap', pid: 'q', name: 'b', size: '12KiB' },
  { op: 'touch', pid: 'p', region: 'a', size: '8KiB', access: 'write', value: 7 },
  { op: 'touch', pid: 'p', region: 'a', offset: '8KiB', access: 'write', value: 9 },
  { op: 'touch', pid: 'q', region: 'b', size: '8KiB', access: 'write', value: 7 },
  { op: 'touch', pid: 'q', region: 'b', offset: '8KiB', access: 'write', value: 9 },
  { op: 'madvise', pid: 'p', region: 'a', advice: 'mergeable' },
  { op: 'madvise', pid: 'q', region: 'b', advice: 'mergeable' },
  { op: 'ksm', run: 1 },
  ...extra,
];

describe('ksm', () => {
  it('4 pages of 7 and 2 of 9 in two processes: the first full scan only records checksums, the second merges (pages_shared 2, pages_sharing 4)', () => {
    const r = run({
      name: 't',
      steps: twoProcs([
        { op: 'ksmd', fullScans: 1, phase: 'scan1' },
        {
          op: 'ksm',
          expect: { full_scans: 1, pages_shared: 0, pages_sharing: 0, pages_unshared: 0, pages_volatile: 6 },
        },
        { op: 'ksmd', fullScans: 1, phase: 'scan2' },
        {
          op: 'ksm',
          expect: { full_scans: 2, pages_shared: 2, pages_sharing: 4, pages_unshared: 0, pages_volatile: 0 },
        },
        { op: 'pagemap', pid: 'p', region: 'a', expect: [{ pfn: 'S' }, { pfn: 'S' }, { pfn: 'N' }] },
        { op: 'pagemap', pid: 'q', region: 'b', expect: [{ pfn: 'S' }, { pfn: 'S' }, { pfn: 'N' }] },
        {
          op: 'ksmStat',
          pid: 'p',
          expect: { ksm_rmap_items: 3, ksm_merging_pages: 3, ksm_process_profit: 3 * 4096 - 3 * 64 },
        },
        { op: 'access', pid: 'q', region: 'b', offset: '4KiB', access: 'read', expect: 7 },
      ]),
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(10 + 6 + 3 + 1);
    expect(ctr(r, 'scan1', 'ksm_full_scans')).toBe(1);
    expect(ctr(r, 'scan1', 'ksm_pages_volatile')).toBe(6);
    expect(ctr(r, 'scan2', 'pgfree')).toBe(4); // 6 pages became 2 KSM pages
    expect(ctr(r, 'total', 'ksm_pages_shared')).toBe(2);
    expect(ctr(r, 'total', 'ksm_pages_sharing')).toBe(4);
    expect(ctr(r, 'total', 'ksm_general_profit')).toBe(4 * 4096 - 6 * 64);
    expect(mem(r, 'scan2').processes.p!.ksm_stat).toEqual({
      ksm_rmap_items: 3,
      ksm_zero_pages: 0,
      ksm_merging_pages: 3,
      ksm_process_profit: 3 * 4096 - 3 * 64,
    });
  });
});
