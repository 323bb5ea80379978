/**
 * MADV_FREE (kernel/lazyfree.ts): madvise_free_pte_range(), lru_lazyfree() onto the inactive file
 * list with PG_swapbacked cleared, and reclaim discarding clean lazyfree folios without swap
 * (pglazyfreed) while a redirtied one gets PG_swapbacked back and keeps its data.
 */
import { describe, expect, it } from 'vitest';
import { ctr, mem, run } from './helpers.js';

const spawn = { op: 'spawn', pid: 'p' };
const pm = (expect: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  op: 'pagemap',
  pid: 'p',
  region: 'a',
  expect,
  ...extra,
});

describe('MADV_FREE', () => {
  it('before reclaim the pages keep their data; they are lazyfree (no PG_swapbacked) on the file list', () => {
    const r = run(
      {
        name: 't',
        steps: [
          spawn,
          { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
          { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 5 },
          pm({ present: true, swapbacked: true }),
          { op: 'madvise', pid: 'p', region: 'a', advice: 'free', phase: 'free' },
          // folio_mark_lazyfree() queues them on this CPU's lru_lazyfree batch: not yet moved
          pm({ present: true, swapbacked: true }),
          { op: 'drain' },
          pm({ present: true, swapbacked: false }),
          { op: 'access', pid: 'p', region: 'a', offset: '8KiB', access: 'read', expect: 5 },
        ],
      },
      { config: { memoryPages: 4096 } },
    );
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'free', 'pglazyfree')).toBe(4);
    expect(mem(r, 'free')['Inactive(file)']).toBe(16);
    expect(mem(r, 'free')['Inactive(anon)']).toBe(0);
    // still mapped: AnonPages (NR_ANON_MAPPED) and RssAnon do not change
    expect(mem(r, 'free').AnonPages).toBe(16);
  });

  it('MADV_PAGEOUT after it discards the clean pages without swap; they read as zero', () => {
    const r = run({
      name: 't',
      steps: [
        spawn,
        { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 5 },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'free' },
        // a write after MADV_FREE redirties page 1: it keeps the new data
        { op: 'access', pid: 'p', region: 'a', offset: '4KiB', access: 'write', value: 9 },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'reclaim' },
        pm({ present: false }, { size: '4KiB' }),
        pm({ present: true, swapbacked: true }, { offset: '4KiB', size: '4KiB' }),
        { op: 'access', pid: 'p', region: 'a', access: 'read', expect: 0 },
        { op: 'access', pid: 'p', region: 'a', offset: '4KiB', access: 'read', expect: 9 },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'reclaim', 'pglazyfreed')).toBe(3);
    expect(ctr(r, 'reclaim', 'pswpout')).toBe(0);
    expect(mem(r, 'reclaim').AnonPages).toBe(4);
  });

  it('a swapped-out page in the range loses its swap entry: it reads as zero without a swap-in', () => {
    const r = run({
      name: 't',
      steps: [
        spawn,
        { op: 'mmap', pid: 'p', name: 'a', size: '4KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 5 },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout' },
        pm({ swapped: true }),
        { op: 'madvise', pid: 'p', region: 'a', advice: 'free', phase: 'free' },
        pm({ present: false, swapped: false }),
        { op: 'access', pid: 'p', region: 'a', access: 'read', expect: 0, phase: 'read' },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(mem(r, 'free').processes.p!.VmSwap).toBe(0);
    expect(ctr(r, 'read', 'pswpin')).toBe(0);
  });

  it('a file mapping and a locked one are EINVAL', () => {
    const r = run({
      name: 't',
      files: { f: { size: '4KiB' } },
      steps: [
        spawn,
        { op: 'mmap', pid: 'p', name: 'a', size: '4KiB', file: 'f' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'free', expectError: 'EINVAL' },
        { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
        { op: 'mlock', pid: 'p', region: 'b' },
        { op: 'madvise', pid: 'p', region: 'b', advice: 'free', expectError: 'EINVAL' },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(2);
  });
});

// 1024 pages of RAM hold a (512) and b (512) only once reclaim has freed enough for the
// watermarks (min 128 pages with min_free_kbytes 512): the two-list LRU frees 32-page
// batches (SWAP_CLUSTER_MAX) from the inactive file list, the multi-gen LRU 64-page ones
// (MIN_LRU_BATCH) from the oldest file generation, so they stop at different counts
const LAZYFREED_TWO_LIST = 196;
const LAZYFREED_MGLRU = 240;

describe('MADV_FREE under memory pressure, without swap', () => {
  for (const lruGen of [false, true]) {
    it(`${lruGen ? 'multi-gen LRU' : 'two-list LRU'}: reclaim frees the lazyfree pages; the redirtied ones stay`, () => {
      const r = run(
        {
          name: 't',
          steps: [
            spawn,
            { op: 'mmap', pid: 'p', name: 'a', size: '2MiB' },
            { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 5 },
            { op: 'madvise', pid: 'p', region: 'a', advice: 'free' },
            { op: 'touch', pid: 'p', region: 'a', size: '64KiB', access: 'write', value: 7 },
            { op: 'mmap', pid: 'p', name: 'b', size: '2MiB' },
            { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'pressure' },
            // redirtied and young again: folio_check_references() keeps them, still lazyfree
            pm({ present: true }, { size: '64KiB' }),
            { op: 'access', pid: 'p', region: 'a', offset: '60KiB', access: 'read', expect: 7 },
            // the oldest lazyfree page after the redirtied ones went first
            { op: 'access', pid: 'p', region: 'a', offset: '64KiB', access: 'read', expect: 0 },
          ],
        },
        { config: { memoryPages: 1024, swap: { slots: 0 }, vm: { lruGen, minFreeKbytes: 512 } } },
      );
      expect(r.checks.failures).toEqual([]);
      expect(ctr(r, 'pressure', 'pglazyfreed')).toBe(lruGen ? LAZYFREED_MGLRU : LAZYFREED_TWO_LIST);
      expect(ctr(r, 'total', 'pswpout')).toBe(0);
      expect(ctr(r, 'total', 'oom_kill')).toBe(0);
    });
  }
});
