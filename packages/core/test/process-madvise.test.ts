/** process_madvise() (kernel/process-madvise.ts): remote advices, the vector, per-era self advice. */
import { describe, expect, it } from 'vitest';
import { ctr, run } from './helpers.js';

const setup = [
  { op: 'spawn', pid: 'p' },
  { op: 'spawn', pid: 'm', cpu: 1 },
  { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
  { op: 'mmap', pid: 'p', name: 'b', size: '16KiB' },
  { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 3 },
  { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 4 },
];

describe('process_madvise', () => {
  it("a monitor pages out two ranges of another process's memory", () => {
    const r = run(
      {
        name: 't',
        steps: [
          ...setup,
          // p's new folios still sit in cpu 0's lru_add batch; madvise_pageout() drains only the
          // caller's CPU (cpu 1): nothing is on an LRU list to isolate, nothing is paged out
          {
            op: 'processMadvise',
            pid: 'm',
            target: 'p',
            ranges: [{ region: 'a' }, { region: 'b', offset: '8KiB' }],
            advice: 'pageout',
            phase: 'batched',
          },
          { op: 'drain' },
          {
            op: 'processMadvise',
            pid: 'm',
            target: 'p',
            ranges: [{ region: 'a' }, { region: 'b', offset: '8KiB' }],
            advice: 'pageout',
            phase: 'pm',
          },
          { op: 'pagemap', pid: 'p', region: 'a', expect: { swapped: true } },
          { op: 'pagemap', pid: 'p', region: 'b', size: '8KiB', expect: { present: true } },
          { op: 'pagemap', pid: 'p', region: 'b', offset: '8KiB', expect: { swapped: true } },
          { op: 'access', pid: 'p', region: 'b', offset: '12KiB', access: 'read', expect: 4 },
        ],
      },
      { cpus: 2 },
    );
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'batched', 'pswpout')).toBe(0);
    expect(ctr(r, 'pm', 'pswpout')).toBe(6);
  });

  it('other advices are EINVAL on another process; on itself (v6.13+) every madvise advice', () => {
    const r = run(
      {
        name: 't',
        steps: [
          ...setup,
          {
            op: 'processMadvise',
            pid: 'm',
            target: 'p',
            ranges: [{ region: 'a' }],
            advice: 'dontneed',
            expectError: 'EINVAL',
          },
          { op: 'pagemap', pid: 'p', region: 'a', expect: { present: true } },
          { op: 'processMadvise', pid: 'p', target: 'p', ranges: [{ region: 'a' }], advice: 'dontneed' },
          { op: 'pagemap', pid: 'p', region: 'a', expect: { present: false } },
        ],
      },
      { cpus: 2 },
    );
    expect(r.checks.failures).toEqual([]);
    const old = run(
      {
        name: 't',
        steps: [
          ...setup,
          {
            op: 'processMadvise',
            pid: 'p',
            target: 'p',
            ranges: [{ region: 'a' }],
            advice: 'dontneed',
            expectError: 'EINVAL',
          },
        ],
      },
      { cpus: 2, config: { features: { processMadviseSelf: false } } },
    );
    expect(old.checks.failures).toEqual([]);
  });

  it('an error after the first range ends the vector without an error (the bytes done are returned)', () => {
    const r = run(
      {
        name: 't',
        steps: [
          ...setup,
          { op: 'munmap', pid: 'p', region: 'b' },
          {
            op: 'processMadvise',
            pid: 'm',
            target: 'p',
            ranges: [{ region: 'a', size: '4KiB' }, { region: 'b' }, { region: 'a', offset: '4KiB' }],
            advice: 'cold',
            phase: 'cold',
          },
          // the first range failing is the call's errno
          {
            op: 'processMadvise',
            pid: 'm',
            target: 'p',
            ranges: [{ region: 'b' }],
            advice: 'cold',
            expectError: 'EINVAL',
          },
        ],
      },
      { cpus: 2 },
    );
    expect(r.checks.failures).toEqual([]);
  });
});
