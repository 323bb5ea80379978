import { describe, expect, it } from 'vitest';
import { ctr, ctrs, mem, run, runError, runSys } from './helpers.js';

describe('munmap and exit (zap_pte_range, free_pgtables, exit_mmap)', () => {
  it('munmap frees the page tables of the range and the pages (PageTables back to the previous value)', () => {
    const r = run({
      name: 'munmap',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'a', size: '4KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 'a' },
        { op: 'mmap', pid: 'p', name: 'b', size: '4MiB', phase: 'b' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write' },
        { op: 'munmap', pid: 'p', region: 'b', phase: 'unmap' },
      ],
    });
    expect(mem(r, 'a')).toMatchObject({ PageTables: 12, AnonPages: 4 });
    // b: 1024 pages, PMD-aligned → 2 more PTE tables under the same PMD table
    expect(ctr(r, 'b', 'pgtable_alloc')).toBe(2);
    expect(mem(r, 'b')).toMatchObject({ PageTables: 20, AnonPages: 4100 });
    expect(ctrs(r, 'unmap', ['pgtable_free', 'pgfree'])).toEqual({ pgtable_free: 2, pgfree: 1024 });
    // the mmu_gather's free_pages_and_swap_cache() drains this CPU's LRU batch: nothing lingers
    expect(mem(r, 'unmap')).toMatchObject({ PageTables: 12, AnonPages: 4, MemUsed: 4 });
    expect(mem(r, 'unmap').processes.p).toMatchObject({ VmPTE: 12, RssAnon: 4 });
  });

  it('partial munmap splits the VMA; both sides keep their contents, the hole faults', () => {
    const { r, sys } = runSys({
      name: 'partial',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '64KiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 6 },
        { op: 'munmap', pid: 'p', region: 'b', offset: '16KiB', size: '16KiB', phase: 'unmap' },
        { op: 'access', pid: 'p', region: 'b', offset: '12KiB', access: 'read', expect: 6 },
        { op: 'access', pid: 'p', region: 'b', offset: '32KiB', access: 'read', expect: 6 },
        { op: 'access', pid: 'p', region: 'b', offset: '60KiB', access: 'read', expect: 6 },
      ],
    });
    const mm = sys.kernel.procs.get('p')!.mm;
    // [0, 16KiB) and [32KiB, 64KiB) remain
    expect(mm.vmas.map((v) => v.end - v.start)).toEqual([4, 8]);
    expect(mm.vmas[0]!.end + 4).toBe(mm.vmas[1]!.start);
    // the PTE table still serves both halves
    expect(ctrs(r, 'unmap', ['pgfree', 'pgtable_free'])).toEqual({ pgfree: 4, pgtable_free: 0 });
    expect(mem(r, 'unmap')).toMatchObject({ AnonPages: 48, MemUsed: 48, PageTables: 12 });
    expect(r.checks).toEqual({ passed: 3, failed: 0, failures: [] });
    const err = runError({
      name: 'hole',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '64KiB' },
        { op: 'munmap', pid: 'p', region: 'b', offset: '16KiB', size: '16KiB' },
        { op: 'access', pid: 'p', region: 'b', offset: '20KiB', access: 'read' },
      ],
    });
    expect(err.message).toMatch(/steps\[3\]/);
    expect(err.message).toMatch(/segmentation fault: read/);
  });

  it('exit frees every table of the process', () => {
    const r = run({
      name: 'exit',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'spawn', pid: 'q', cpu: 1 },
        { op: 'mmap', pid: 'p', name: 'b', size: '4MiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write' },
        { op: 'mmap', pid: 'q', name: 'b', size: '8KiB' },
        { op: 'touch', pid: 'q', region: 'b', access: 'write', phase: 'both' },
        { op: 'exit', pid: 'p', phase: 'exit' },
      ],
    });
    expect(mem(r, 'both')).toMatchObject({ PageTables: 16 + 12, AnonPages: 4096 + 8 });
    expect(ctr(r, 'exit', 'pgtable_free')).toBe(4);
    expect(mem(r, 'exit')).toMatchObject({ PageTables: 12, AnonPages: 8, MemUsed: 8 });
    expect(Object.keys(mem(r, 'exit').processes)).toEqual(['q']);
  });

  it('no frame or swap slot leaks once every process exited (sync and async swap, fork, pins)', () => {
    for (const synchronousIo of [true, false]) {
      const r = run(
        {
          name: 'no-leak',
          steps: [
            { op: 'spawn', pid: 'p', cpu: 0 },
            { op: 'thread', pid: 'p', cpu: 1 },
            { op: 'mmap', pid: 'p', name: 'b', size: '256KiB' },
            { op: 'mmap', pid: 'p', name: 'z', size: '64KiB' },
            { op: 'touch', pid: 'p', region: 'b', access: 'write' },
            { op: 'touch', pid: 'p', region: 'z', access: 'read' },
            { op: 'touch', pid: 'p', region: 'b', offset: '128KiB', size: '32KiB', access: 'write', cpu: 1 },
            { op: 'madvise', pid: 'p', region: 'b', offset: 0, size: '64KiB', advice: 'pageout' },
            { op: 'fork', pid: 'p', child: 'c' },
            // both read part of the swapped range: swap-ins, swap-cache hits
            { op: 'touch', pid: 'c', region: 'b', offset: 0, size: '32KiB', access: 'read' },
            { op: 'touch', pid: 'p', region: 'b', offset: '16KiB', size: '32KiB', access: 'read' },
            { op: 'touch', pid: 'c', region: 'b', offset: '64KiB', size: '64KiB', access: 'write' },
            { op: 'pin', pid: 'p', region: 'b', offset: '192KiB', size: '16KiB', write: false, id: 'r' },
            { op: 'pin', pid: 'c', region: 'b', offset: '208KiB', size: '16KiB', write: true, id: 'w' },
            { op: 'madvise', pid: 'p', region: 'b', offset: '128KiB', size: '128KiB', advice: 'pageout' },
            { op: 'munmap', pid: 'c', region: 'b', offset: '128KiB', size: '64KiB' },
            { op: 'madvise', pid: 'p', region: 'b', offset: '224KiB', size: '32KiB', advice: 'dontneed' },
            { op: 'unpin', id: 'r' },
            { op: 'exit', pid: 'c' },
            { op: 'unpin', id: 'w' },
            { op: 'exit', pid: 'p', phase: 'exited' },
            { op: 'drain', phase: 'drained' },
          ],
        },
        { config: { swap: { synchronousIo } } },
      );
      expect(ctr(r, 'total', 'pswpout')).toBeGreaterThan(0);
      const m = mem(r, 'drained');
      expect(m).toMatchObject({
        MemUsed: 0,
        AnonPages: 0,
        PageTables: 0,
        SwapCached: 0,
        Inactive_anon: 0,
        Active_anon: 0,
      });
      expect(m.SwapFree).toBe(m.SwapTotal);
      expect(m.processes).toEqual({});
    }
  });

  it('an unmapped folio that sits in the swap cache is freed at zap (free_swap_cache)', () => {
    // async device: the folio stays in the swap cache after pageout; the read maps it again
    const r = run(
      {
        name: 'swapcache-zap',
        steps: [
          { op: 'spawn', pid: 'p', cpu: 0 },
          { op: 'mmap', pid: 'p', name: 'b', size: '16KiB' },
          { op: 'touch', pid: 'p', region: 'b', access: 'write' },
          { op: 'madvise', pid: 'p', region: 'b', advice: 'pageout' },
          { op: 'touch', pid: 'p', region: 'b', access: 'read', phase: 'read' },
          { op: 'munmap', pid: 'p', region: 'b', phase: 'unmap' },
        ],
      },
      { config: { swap: { synchronousIo: false } } },
    );
    expect(mem(r, 'read')).toMatchObject({ SwapCached: 16, AnonPages: 16, MemUsed: 16 });
    expect(ctrs(r, 'unmap', ['swap_cache_del', 'pgfree'])).toEqual({ swap_cache_del: 4, pgfree: 4 });
    const m = mem(r, 'unmap');
    expect(m).toMatchObject({ SwapCached: 0, MemUsed: 0 });
    expect(m.SwapFree).toBe(m.SwapTotal);
  });
});
