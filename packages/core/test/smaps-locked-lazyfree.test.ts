/** smaps' Locked (pss_locked of a VM_LOCKED VMA) and LazyFree (clean MADV_FREE pages), and VmFlags "lo". */
import { describe, expect, it } from 'vitest';
import { run } from './helpers.js';

describe('maps: Locked and LazyFree', () => {
  it('Locked is the Pss of a locked VMA: a page shared with a child counts half; VmFlags shows lo', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1 },
        { op: 'mlock', pid: 'p', region: 'a' },
        {
          op: 'maps',
          pid: 'p',
          region: 'a',
          expect: { count: 1, vmas: [{ locked: '16KiB', vmFlags: 'rd wr mr mw me lo ac sd' }] },
        },
        // fork does not inherit VM_LOCKED: the pages are shared, the parent's Pss halves
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'maps', pid: 'p', region: 'a', expect: { vmas: [{ locked: '8KiB' }] } },
        { op: 'maps', pid: 'c', region: 'a', expect: { vmas: [{ locked: 0 }] } },
        { op: 'munlock', pid: 'p', region: 'a' },
        { op: 'maps', pid: 'p', region: 'a', expect: { vmas: [{ locked: 0 }] } },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(5);
  });
  it('LazyFree counts the clean MADV_FREE pages; a rewritten page leaves it', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1 },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'free' },
        { op: 'drain' },
        { op: 'maps', pid: 'p', region: 'a', expect: { vmas: [{ lazyFree: '16KiB', rss: '16KiB' }] } },
        { op: 'access', pid: 'p', region: 'a', access: 'write', value: 2 },
        { op: 'maps', pid: 'p', region: 'a', expect: { vmas: [{ lazyFree: '12KiB' }] } },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(2);
  });
});
