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

  it('a write to a KSM page copies it (cow_copy); the next scan takes the stale rmap_item off the stable node', () => {
    const r = run({
      name: 't',
      steps: twoProcs([
        { op: 'ksmd', fullScans: 2 },
        { op: 'pagemap', pid: 'q', region: 'b', size: '4KiB', offset: '4KiB', expect: { pfn: 'S', exclusive: false } },
        { op: 'access', pid: 'q', region: 'b', offset: '4KiB', access: 'write', value: 8, phase: 'write' },
        { op: 'pagemap', pid: 'q', region: 'b', size: '4KiB', offset: '4KiB', expect: { pfn: 'C', exclusive: true } },
        { op: 'ksm', expect: { pages_shared: 2, pages_sharing: 4 } },
        { op: 'ksmd', fullScans: 1, phase: 'scan3' },
        { op: 'ksm', expect: { pages_shared: 2, pages_sharing: 3, pages_volatile: 1 } },
        { op: 'access', pid: 'p', region: 'a', offset: '4KiB', access: 'read', expect: 7 },
      ]),
    });
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'write', 'cow_copy')).toBe(1);
    expect(ctr(r, 'write', 'pgreuse')).toBe(0);
    expect(ctr(r, 'scan3', 'ksm_pages_sharing')).toBe(-1);
  });

  it('a GUP-pinned page does not merge (write_protect_page(): mapcount + swapcache != refcount); after unpin it does', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 7 },
        { op: 'pin', pid: 'p', region: 'a', offset: '4KiB', size: '4KiB', write: true, id: 'x' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'mergeable' },
        { op: 'ksm', run: 1 },
        { op: 'ksmd', fullScans: 3 },
        { op: 'ksm', expect: { pages_shared: 0, pages_sharing: 0, pages_unshared: 1, pages_volatile: 1 } },
        { op: 'unpin', id: 'x' },
        { op: 'ksmd', fullScans: 1 },
        { op: 'ksm', expect: { pages_shared: 1, pages_sharing: 1, pages_unshared: 0 } },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { pfn: 'K' } },
      ],
    });
    expect(r.checks.failures).toEqual([]);
  });

  it('a CoW copy still in the lru_add batch (one more reference) fails write_protect_page() until the next full scan drains it', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 7 },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'mergeable' },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'ksm', run: 1, pages_to_scan: 100 },
        { op: 'ksmd', fullScans: 1 },
        // scan 2 starts (lru_add_drain_all()) and puts p's first page in the unstable tree
        { op: 'ksmd', pages: 1 },
        // c's write of the same value: a new page, its reference parked in cpu 0's lru_add batch
        { op: 'access', pid: 'c', region: 'a', offset: '4KiB', access: 'write', value: 7 },
        { op: 'ksmd', pages: 100, phase: 'scan2' },
        { op: 'ksm', expect: { full_scans: 2, pages_shared: 1, pages_sharing: 2, pages_volatile: 1 } },
        { op: 'pagemap', pid: 'c', region: 'a', expect: [{ pfn: 'K' }, { pfn: 'Y', exclusive: true }] },
        { op: 'ksmd', fullScans: 1, phase: 'scan3' },
        { op: 'ksm', expect: { pages_shared: 1, pages_sharing: 3, pages_volatile: 0 } },
        { op: 'pagemap', pid: 'c', region: 'a', expect: { pfn: 'K' } },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { pfn: 'K' } },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'scan2', 'pgfree')).toBe(1); // the fork-shared second page became the KSM page; the first is freed
    expect(ctr(r, 'scan3', 'lru_batch_drain')).toBeGreaterThan(0);
    expect(ctr(r, 'scan3', 'pgfree')).toBe(1);
  });

  it('max_page_sharing 2: four pages of one value make two KSM pages (stable node dups)', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 7 },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'mergeable' },
        { op: 'ksm', run: 1, max_page_sharing: 2 },
        { op: 'ksmd', fullScans: 2 },
        { op: 'ksm', expect: { pages_shared: 2, pages_sharing: 2, pages_unshared: 0 } },
        { op: 'pagemap', pid: 'p', region: 'a', expect: [{ pfn: 'A' }, { pfn: 'A' }, { pfn: 'B' }, { pfn: 'B' }] },
      ],
    });
    expect(r.checks.failures).toEqual([]);
  });

  it('KSM pages are kept off reclaim (rmap_walk_ksm() not modelled): under pressure the others are swapped, they stay', () => {
    const r = run(
      {
        name: 't',
        steps: twoProcs([
          { op: 'ksmd', fullScans: 2 },
          { op: 'spawn', pid: 'r' },
          { op: 'mmap', pid: 'r', name: 'big', size: '6MiB' },
          { op: 'touch', pid: 'r', region: 'big', access: 'write', phase: 'pressure' },
          { op: 'touch', pid: 'r', region: 'big', access: 'write' },
          { op: 'pagemap', pid: 'p', region: 'a', expect: { present: true, swapped: false } },
          { op: 'ksm', expect: { pages_shared: 2, pages_sharing: 4 } },
        ]),
      },
      { config: { memoryPages: 1024 } },
    );
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'pressure', 'pswpout')).toBeGreaterThan(0);
  });

  it('use_zero_pages: zero-filled pages are mapped to the zero page (ksm_zero_pages); a write and MADV_UNMERGEABLE give them back', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 0 },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'mergeable' },
        { op: 'ksm', run: 1, use_zero_pages: true },
        { op: 'ksmd', fullScans: 2, phase: 'merge' },
        { op: 'ksm', expect: { ksm_zero_pages: 4, pages_shared: 0, pages_sharing: 0 } },
        { op: 'ksmStat', pid: 'p', expect: { ksm_zero_pages: 4, ksm_merging_pages: 0 } },
        { op: 'access', pid: 'p', region: 'a', access: 'write', value: 5, phase: 'write' },
        { op: 'madvise', pid: 'p', region: 'a', offset: '8KiB', advice: 'unmergeable', phase: 'unmerge' },
        { op: 'ksmStat', pid: 'p', expect: { ksm_zero_pages: 1 } },
        { op: 'munmap', pid: 'p', region: 'a', phase: 'unmap' },
        { op: 'ksm', expect: { ksm_zero_pages: 0 } },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'merge', 'pgfree')).toBe(4);
    expect(mem(r, 'merge').AnonPages).toBe(0);
    expect(ctr(r, 'write', 'cow_zero')).toBe(1);
    expect(ctr(r, 'unmerge', 'cow_zero')).toBe(2);
    expect(ctr(r, 'unmap', 'ksm_zero_pages')).toBe(-1);
  });

  it('before v6.6 (ksmZeroPages off) the zero page is placed untracked and MADV_UNMERGEABLE leaves it', () => {
    const r = run(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
          { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 0 },
          { op: 'madvise', pid: 'p', region: 'a', advice: 'mergeable' },
          { op: 'ksm', run: 1, use_zero_pages: true },
          { op: 'ksmd', fullScans: 2, phase: 'merge' },
          { op: 'madvise', pid: 'p', region: 'a', advice: 'unmergeable', phase: 'unmerge' },
        ],
      },
      { config: { features: { ksmZeroPages: false } } },
    );
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'merge', 'pgfree')).toBe(4);
    expect(ctr(r, 'unmerge', 'cow_zero')).toBe(0);
    expect(r.total.counters.ksm_zero_pages).toBeUndefined();
  });

  it('v5.8 reuse_ksm_page(): the last mapping of a KSM page is reused on write; v5.9 copies it', () => {
    const steps = [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 7 },
      { op: 'madvise', pid: 'p', region: 'a', advice: 'mergeable' },
      { op: 'ksm', run: 1 },
      { op: 'ksmd', fullScans: 2 },
      { op: 'pagemap', pid: 'p', region: 'a', expect: { pfn: 'K' } },
      { op: 'access', pid: 'p', region: 'a', offset: '4KiB', access: 'write', value: 8, phase: 'w1' },
      { op: 'access', pid: 'p', region: 'a', access: 'write', value: 9, phase: 'w2' },
      { op: 'access', pid: 'p', region: 'a', access: 'read', expect: 9 },
    ];
    const v58 = run({ name: 't', steps }, { config: { features: { ksmReuseKsmPage: true, ksmStat: false } } });
    expect(v58.checks.failures).toEqual([]);
    expect(ctr(v58, 'w1', 'cow_copy')).toBe(1); // two mappings: copy
    expect(ctr(v58, 'w2', 'cow_copy')).toBe(0);
    expect(ctr(v58, 'w2', 'pgreuse')).toBe(1);
    const v59 = run({ name: 't', steps }, { config: { features: { ksmReuseKsmPage: false } } });
    expect(v59.checks.failures).toEqual([]);
    expect(ctr(v59, 'w2', 'cow_copy')).toBe(1);
    expect(ctr(v59, 'w2', 'pgreuse')).toBe(0);
  });

  it('ksm_stat before v6.1 is bad input; ksmd waiting for full scans with run 0 is bad input', () => {
    const e = runError(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'ksmStat', pid: 'p', expect: { ksm_rmap_items: 0 } },
        ],
      },
      { config: { features: { ksmStat: false } } },
    );
    expect(e.message).toMatch(/steps\[1\].*ksm_stat does not exist before v6.1/);
    const e2 = runError({ name: 't', steps: [{ op: 'ksmd', fullScans: 1 }] });
    expect(e2.message).toMatch(/steps\[0\].*fullScans.*run = 0/);
  });

  it('runs without KSM: no ksm counters, no ksm_stat', () => {
    const { r, sys } = runSys({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 7 },
      ],
    });
    expect(sys.kernel.ksm).toBeNull();
    expect(sys.stats.counterNames().some((n) => n.startsWith('ksm_'))).toBe(false);
    expect(mem(r, 'total').processes.p!.ksm_stat).toBeUndefined();
  });

  it('mremap (move_vma()) breaks the KSM pages it moves and keeps VM_MERGEABLE: the next scans merge them again', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 7 },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'mergeable' },
        { op: 'ksm', run: 1 },
        { op: 'ksmd', fullScans: 2 },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { pfn: 'K' } },
        { op: 'mremap', pid: 'p', region: 'a', offset: 0, size: '8KiB', to: 'b', phase: 'move' },
        { op: 'pagemap', pid: 'p', region: 'b', expect: [{ pfn: 'X' }, { pfn: 'Y' }] },
        { op: 'ksmd', fullScans: 2 },
        // try_to_merge_two_pages() keeps the page being scanned (the second) and replaces the first
        { op: 'pagemap', pid: 'p', region: 'b', expect: [{ pfn: 'Y' }, { pfn: 'Y' }] },
        { op: 'ksm', expect: { pages_shared: 1, pages_sharing: 1 } },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'move', 'cow_copy')).toBe(2);
  });
});
