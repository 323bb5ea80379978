/**
 * mlock beyond mlock2-tests.c (kernel/mlock.ts): reclaim culls mlocked folios to the unevictable
 * list and never evicts them (two-list and multi-gen LRU), MADV_DONTNEED(_LOCKED), MCL_FUTURE,
 * fork, CoW in a locked VMA, the mlock_count of a folio locked by two VMAs.
 */
import { describe, expect, it } from 'vitest';
import { ctr, mem, run, runError } from './helpers.js';

const PAGE = 4096;

/** 4 MiB of RAM (1024 pages), swap: p locks 1 MiB, then touches 3 MiB more. */
const pressure = (lruGen: boolean) =>
  run(
    {
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'l', size: '1MiB' },
        { op: 'mlock', pid: 'p', region: 'l', phase: 'lock' },
        { op: 'mmap', pid: 'p', name: 'b', size: '3MiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'pressure' },
        { op: 'pagemap', pid: 'p', region: 'l', expect: { present: true, mlocked: true, unevictable: true } },
        { op: 'access', pid: 'p', region: 'l', offset: '512KiB', access: 'read', expect: 0 },
      ],
    },
    { config: { memoryPages: 1024, swap: { slots: 4096 }, vm: { lruGen, minFreeKbytes: 512 } } },
  );

describe('mlock under memory pressure', () => {
  for (const lruGen of [false, true]) {
    it(`${lruGen ? 'multi-gen LRU' : 'two-list LRU'}: the locked pages stay; the rest is swapped`, () => {
      const r = pressure(lruGen);
      expect(r.checks.failures).toEqual([]);
      expect(r.checks.passed).toBe(256 + 1);
      expect(ctr(r, 'pressure', 'pswpout')).toBeGreaterThan(0);
      // nothing locked was scanned off the unevictable list or evicted
      expect(mem(r, 'pressure').Mlocked).toBe(1024);
      expect(mem(r, 'pressure').Unevictable).toBe(1024);
      expect(ctr(r, 'total', 'unevictable_pgs_culled')).toBe(256);
    });
  }
});

describe('MADV_DONTNEED and VM_LOCKED', () => {
  it('dontneed is EINVAL on a locked mapping; dontneed_locked zaps it (munlocked, freed)', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
        { op: 'mlock', pid: 'p', region: 'a' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'dontneed', expectError: 'EINVAL' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', expectError: 'EINVAL' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'cold', expectError: 'EINVAL' },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { present: true, mlocked: true } },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'dontneed_locked', phase: 'zap' },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { present: false } },
        // still VM_LOCKED: the next fault locks its new page again
        { op: 'access', pid: 'p', region: 'a', access: 'write', value: 1, phase: 'refault' },
        { op: 'drain' },
        { op: 'pagemap', pid: 'p', region: 'a', size: '4KiB', expect: { present: true, unevictable: true } },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'zap', 'unevictable_pgs_munlocked')).toBe(4);
    expect(ctr(r, 'zap', 'pgfree')).toBe(4);
    expect(mem(r, 'zap').Mlocked).toBe(0);
    expect(mem(r, 'zap').processes.p!.VmLck).toBe(16);
    expect(ctr(r, 'refault', 'unevictable_pgs_mlocked')).toBe(1);
  });
});

describe('mlockall(MCL_FUTURE), fork and CoW', () => {
  it('a mapping after MCL_FUTURE is locked and populated; the fork child is not locked', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mlockall', pid: 'p', future: true },
        { op: 'mmap', pid: 'p', name: 'a', size: '16KiB', phase: 'mmap' },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { present: true, mlocked: true, unevictable: true } },
        { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
        // the child writes: its copies are not locked; the parent's pages stay locked
        { op: 'touch', pid: 'c', region: 'a', access: 'write', phase: 'cow' },
        { op: 'drain' },
        { op: 'pagemap', pid: 'c', region: 'a', expect: { present: true, mlocked: false, unevictable: false } },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { present: true, mlocked: true, unevictable: true } },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'mmap', 'pgfault')).toBe(4);
    expect(mem(r, 'fork').processes.p!.VmLck).toBe(16);
    expect(mem(r, 'fork').processes.c!.VmLck).toBe(0);
    expect(mem(r, 'cow').Mlocked).toBe(16);
  });

  it('the locked parent writes after fork: the old page is munlocked and rescued, the copy locked', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '4KiB' },
        { op: 'mlock', pid: 'p', region: 'a' },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'access', pid: 'p', region: 'a', access: 'write', value: 7, phase: 'cow' },
        { op: 'drain' },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { present: true, mlocked: true, unevictable: true, pfn: 'N' } },
        { op: 'pagemap', pid: 'c', region: 'a', expect: { present: true, mlocked: false, unevictable: false } },
        { op: 'access', pid: 'c', region: 'a', access: 'read', expect: 0 },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect({
      munlocked: ctr(r, 'cow', 'unevictable_pgs_munlocked'),
      rescued: ctr(r, 'cow', 'unevictable_pgs_rescued'),
      mlocked: ctr(r, 'cow', 'unevictable_pgs_mlocked'),
    }).toEqual({ munlocked: 1, rescued: 1, mlocked: 1 });
    expect(mem(r, 'cow').Mlocked).toBe(4);
  });
});

describe('errors', () => {
  it('mlock of a range with a hole is ENOMEM; mlockall without CURRENT or FUTURE is EINVAL', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '12KiB' },
        { op: 'munmap', pid: 'p', region: 'a', offset: PAGE, size: PAGE },
        { op: 'mlock', pid: 'p', region: 'a', expectError: 'ENOMEM', phase: 'hole' },
        { op: 'mlockall', pid: 'p', onfault: true, expectError: 'EINVAL' },
        { op: 'pagemap', pid: 'p', region: 'a', size: '4KiB', expect: { present: false } },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    // apply_vma_lock_flags() locked the VMA before the hole, then failed: no populate
    expect(mem(r, 'hole').processes.p!.VmLck).toBe(4);
  });

  it('an unexpected mlock error ends the run naming the step', () => {
    const e = runError({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mlockall', pid: 'p' },
      ],
    });
    expect(e.message).toMatch(/steps\[1\]/);
  });
});
