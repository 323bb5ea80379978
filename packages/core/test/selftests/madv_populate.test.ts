/**
 * tools/testing/selftests/mm/madv_populate.c: MADV_POPULATE_READ / MADV_POPULATE_WRITE on 2 MiB
 * of private anonymous memory (kernel/populate.ts). Each upstream ksft_test_result() is a check
 * here (an `expectError` or a pagemap expectation), plus the fault counts the kernel makes.
 */
import { describe, expect, it } from 'vitest';
import { ctr, run } from '../helpers.js';

const SIZE = '2MiB';
const PAGES = 512;
const mmap = (prot?: 'r' | 'w') => ({
  op: 'mmap',
  pid: 'p',
  name: 'a',
  size: SIZE,
  ...(prot ? { prot } : {}),
});
const madv = (advice: string, extra: Record<string, unknown> = {}) => ({
  op: 'madvise',
  pid: 'p',
  region: 'a',
  advice,
  ...extra,
});
const pm = (expect: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  op: 'pagemap',
  pid: 'p',
  region: 'a',
  expect,
  ...extra,
});

describe('madv_populate.c', () => {
  it('test_prot_read: POPULATE_READ works on PROT_READ, POPULATE_WRITE is EINVAL', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        mmap('r'),
        madv('populate_read', { phase: 'read' }),
        madv('populate_write', { expectError: 'EINVAL', phase: 'write' }),
        // the zero page is mapped everywhere, the same frame
        pm({ present: true, pfn: 'Z' }, { phase: 'end' }),
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(1 + PAGES);
    // one read fault per page (handle_mm_fault() from GUP counts pgfault), the zero page each time
    expect(ctr(r, 'read', 'pgfault')).toBe(PAGES);
    expect(ctr(r, 'write', 'pgfault')).toBe(0);
    expect(r.phases.end!.meminfo.AnonPages).toBe(0);
  });

  it('test_prot_write: POPULATE_READ is EINVAL on PROT_WRITE, POPULATE_WRITE works', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        mmap('w'),
        madv('populate_read', { expectError: 'EINVAL', phase: 'read' }),
        pm({ present: false }),
        madv('populate_write', { phase: 'write' }),
        pm({ present: true, exclusive: true, order: 0 }),
        // x86 / arm64 cannot map write-only: the user's read works (access_error() allows it)
        { op: 'access', pid: 'p', region: 'a', access: 'read', expect: 0 },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(1 + 2 * PAGES + 1);
    expect(ctr(r, 'read', 'pgfault')).toBe(0);
    expect(ctr(r, 'write', 'pgfault')).toBe(PAGES);
    expect(r.phases.write!.meminfo.AnonPages).toBe(PAGES * 4);
  });

  it('test_holes: a hole in the middle, at the end and at the beginning is ENOMEM for both', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        mmap(),
        { op: 'munmap', pid: 'p', region: 'a', offset: '4KiB', size: '4KiB' },
        // hole in the middle
        madv('populate_read', { expectError: 'ENOMEM', phase: 'middle' }),
        madv('populate_write', { expectError: 'ENOMEM' }),
        // hole at the end
        madv('populate_read', { size: '8KiB', expectError: 'ENOMEM' }),
        madv('populate_write', { size: '8KiB', expectError: 'ENOMEM' }),
        // hole at the beginning
        madv('populate_read', { offset: '4KiB', size: '4KiB', expectError: 'ENOMEM' }),
        madv('populate_write', { offset: '4KiB', size: '4KiB', expectError: 'ENOMEM' }),
        // beyond upstream: the page before the hole was populated, the pages after it not
        // (__get_user_pages() stops at the first address without a VMA)
        pm({ present: true, exclusive: true }, { size: '4KiB' }),
        pm({ present: false }, { offset: '8KiB', size: '2040KiB' }),
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(6 + 1 + (PAGES - 2));
    // the first page: a zero-page read fault, then a write fault copying the zero page
    expect(ctr(r, 'middle', 'pgfault')).toBe(2);
  });

  it('test_populate_read: the range is not populated, then populated', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        mmap(),
        pm({ present: false }),
        madv('populate_read', { phase: 'populate' }),
        pm({ present: true }),
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(2 * PAGES);
    expect(ctr(r, 'populate', 'pgfault')).toBe(PAGES);
    // read faults map the shared zero page: no anonymous memory
    expect(r.phases.populate!.meminfo.AnonPages).toBe(0);
  });

  it('test_populate_write: the range is not populated, then populated with private pages', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        mmap(),
        pm({ present: false }),
        madv('populate_write', { phase: 'populate' }),
        pm({ present: true, exclusive: true, order: 0 }),
        // populated again: everything present and writable, no fault
        madv('populate_write', { phase: 'again' }),
        { op: 'access', pid: 'p', region: 'a', offset: '8KiB', access: 'read', expect: 0 },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(2 * PAGES + 1);
    expect(ctr(r, 'populate', 'pgfault')).toBe(PAGES);
    expect(ctr(r, 'again', 'pgfault')).toBe(0);
    expect(r.phases.populate!.meminfo.AnonPages).toBe(PAGES * 4);
  });

  it('test_softdirty: after clear_refs, POPULATE_READ leaves the range clean and POPULATE_WRITE dirties it', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        mmap(),
        { op: 'clearRefs', pid: 'p', value: 4 },
        pm({ softDirty: false }),
        madv('populate_read'),
        pm({ softDirty: false }),
        madv('populate_write', { phase: 'write' }),
        pm({ softDirty: true }),
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(3 * PAGES);
    // each write fault replaces a zero-page PTE (do_wp_page() → wp_page_copy())
    expect(ctr(r, 'write', 'pgfault')).toBe(PAGES);
  });
});
