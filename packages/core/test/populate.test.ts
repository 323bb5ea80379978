/**
 * MAP_POPULATE (__mm_populate()) and what MADV_POPULATE_* does beyond madv_populate.c
 * (kernel/populate.ts): FOLL_TOUCH's folio_mark_accessed(), the final lru_add_drain(), EFAULT.
 */
import { describe, expect, it } from 'vitest';
import { ctr, mem, run, runError } from './helpers.js';

describe('MAP_POPULATE', () => {
  it('a private writable mapping is write-faulted: private pages, no fault at the first writes', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '64KiB', populate: true, phase: 'mmap' },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { present: true, exclusive: true } },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 'touch' },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'mmap', 'pgfault')).toBe(16);
    expect(ctr(r, 'touch', 'pgfault')).toBe(0);
    // populate_vma_page_range() ends with lru_add_drain() (v5.18+): the folios are on the list
    expect(mem(r, 'mmap').AnonPages).toBe(64);
    expect(mem(r, 'mmap').Inactive_anon).toBe(64);
  });

  it('before v5.18 (populateLruDrain off) the folios stay in the lru_add batch', () => {
    const r = run(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '64KiB', populate: true, phase: 'mmap' },
        ],
      },
      { config: { features: { populateLruDrain: false } } },
    );
    expect(mem(r, 'mmap').AnonPages).toBe(64);
    expect(mem(r, 'mmap').Inactive_anon).toBe(0);
    expect(ctr(r, 'mmap', 'lru_batch_drain')).toBe(0);
  });

  it('read-only: the zero page; PROT_WRITE alone: write faults (FOLL_FORCE); PROT_NONE: skipped', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'r', size: '16KiB', prot: 'r', populate: true, phase: 'r' },
        { op: 'pagemap', pid: 'p', region: 'r', expect: { present: true, pfn: 'Z' } },
        { op: 'mmap', pid: 'p', name: 'w', size: '16KiB', prot: 'w', populate: true, phase: 'w' },
        { op: 'pagemap', pid: 'p', region: 'w', expect: { present: true, exclusive: true } },
        { op: 'mmap', pid: 'p', name: 'n', size: '16KiB', prot: 'none', populate: true, phase: 'n' },
        { op: 'pagemap', pid: 'p', region: 'n', expect: { present: false } },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'r', 'pgfault')).toBe(4);
    expect(ctr(r, 'w', 'pgfault')).toBe(4);
    expect(mem(r, 'w').AnonPages).toBe(16);
    expect(ctr(r, 'n', 'pgfault')).toBe(0);
  });

  it('a shared file mapping is read-faulted (no dirtying), a private one write-faulted (private copies)', () => {
    const r = run({
      name: 't',
      files: { f: { size: '16KiB', seed: 7 } },
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 's', size: '16KiB', file: 'f', shared: true, populate: true, phase: 's' },
        { op: 'pagemap', pid: 'p', region: 's', expect: { present: true, file: true } },
        { op: 'mmap', pid: 'p', name: 'q', size: '16KiB', file: 'f', populate: true, phase: 'q' },
        { op: 'pagemap', pid: 'p', region: 'q', expect: { present: true, file: false, exclusive: true } },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 's', 'pgmajfault')).toBe(4);
    expect(mem(r, 's').Dirty).toBe(0);
    // do_cow_fault(): a new anonymous page per page, the page cache untouched
    expect(ctr(r, 'q', 'pgfault')).toBe(4);
    expect(mem(r, 'q').AnonPages).toBe(16);
    expect(mem(r, 'q').Dirty).toBe(0);
  });
});

describe('MADV_POPULATE_READ / _WRITE', () => {
  it('FOLL_TOUCH: populating present pages marks them accessed; the second time activates them', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'populate_read', phase: 'first' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'populate_read', phase: 'second' },
      ],
    });
    expect(ctr(r, 'first', 'pgfault')).toBe(0);
    expect(mem(r, 'first').Inactive_anon).toBe(16);
    expect(ctr(r, 'second', 'pgactivate')).toBe(4);
    expect(mem(r, 'second').Active_anon).toBe(16);
  });

  it('POPULATE_WRITE breaks CoW after fork; the parent keeps its data', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 5 },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'madvise', pid: 'c', region: 'a', advice: 'populate_write', phase: 'populate' },
        { op: 'pagemap', pid: 'c', region: 'a', expect: { present: true, exclusive: true } },
        { op: 'access', pid: 'c', region: 'a', access: 'read', expect: 5 },
        { op: 'access', pid: 'p', region: 'a', access: 'read', expect: 5 },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'populate', 'pgfault')).toBe(4);
    expect(ctr(r, 'populate', 'cow_copy')).toBe(4);
  });

  it('PROT_NONE is EINVAL for both; a range without any mapping is ENOMEM', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '16KiB', prot: 'none' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'populate_read', expectError: 'EINVAL' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'populate_write', expectError: 'EINVAL' },
        { op: 'munmap', pid: 'p', region: 'a' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'populate_read', expectError: 'ENOMEM' },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(3);
  });

  it('a file mapping past the end of its file: the SIGBUS fault is EFAULT', () => {
    const r = run({
      name: 't',
      files: { f: { size: '8KiB', seed: 3 } },
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '16KiB', file: 'f', shared: true },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'populate_read', expectError: 'EFAULT', phase: 'p' },
        { op: 'pagemap', pid: 'p', region: 'a', size: '8KiB', expect: { present: true } },
      ],
    });
    expect(r.checks.failures).toEqual([]);
  });

  it('an unexpected populate error ends the run naming the step', () => {
    const e = runError({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '16KiB', prot: 'r' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'populate_write' },
      ],
    });
    expect(e.message).toMatch(/steps\[2\]/);
    expect(e.message).toMatch(/not writable/);
  });
});
