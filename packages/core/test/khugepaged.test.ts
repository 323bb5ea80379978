/**
 * MADV_COLLAPSE over swap PTEs (tools/testing/selftests/mm/khugepaged.c, the madvise context:
 * `enforce_pte_scan_limits` false): hpage_collapse_scan_pmd() counts swap PTEs and carries on,
 * collapse_huge_page() swaps them in (__collapse_huge_page_swapin()).
 */
import { describe, expect, it } from 'vitest';
import { ctr, ctrs, mem, runSys } from './helpers.js';

const area = (pagedOut: number, more: object[] = []) => ({
  name: 't',
  system: { swap: { synchronousIo: false } },
  steps: [
    { op: 'spawn', pid: 'p' },
    { op: 'mmap', pid: 'p', name: 'a', size: '2MiB', align: '2MiB' },
    { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 7 },
    { op: 'madvise', pid: 'p', region: 'a', size: pagedOut * 4096, advice: 'pageout', phase: 'out' },
    ...more,
    { op: 'madvise', pid: 'p', region: 'a', advice: 'collapse', phase: 'collapse' },
    // validate_memory()
    { op: 'access', pid: 'p', region: 'a', offset: 0, access: 'read', expect: 7, phase: 'after' },
    { op: 'access', pid: 'p', region: 'a', offset: (pagedOut - 1) * 4096, access: 'read', expect: 7, phase: 'after' },
    { op: 'access', pid: 'p', region: 'a', offset: '2044KiB', access: 'read', expect: 7, phase: 'after' },
  ],
});

describe('MADV_COLLAPSE with swapped-out PTEs (mechanism; the khugepaged.c port is packages/presets/test/selftests)', () => {
  it('one page swapped out is swapped in and the range collapses', () => {
    const { r } = runSys(area(1));
    expect(r.checks.failed).toBe(0);
    expect(ctr(r, 'out', 'pswpout')).toBe(1);
    expect(
      ctrs(r, 'collapse', ['thp_collapse_alloc', 'thp_collapse_failed', 'pswpin', 'pgmajfault', 'pgfault']),
    ).toEqual({ thp_collapse_alloc: 1, thp_collapse_failed: 0, pswpin: 1, pgmajfault: 1, pgfault: 0 });
    expect(mem(r, 'collapse')).toMatchObject({ AnonPages: 2048, AnonHugePages: 2048 });
    // the page table walks of validate_memory() find the PMD: no fault
    expect(ctr(r, 'after', 'pgfault')).toBe(0);
  });
  it('max_ptes_swap + 1 (65) pages swapped out still collapse (no limit for MADV_COLLAPSE)', () => {
    const { r } = runSys(area(65));
    expect(r.checks.failed).toBe(0);
    expect(ctrs(r, 'collapse', ['thp_collapse_alloc', 'pswpin'])).toEqual({ thp_collapse_alloc: 1, pswpin: 65 });
    expect(mem(r, 'collapse')).toMatchObject({ AnonHugePages: 2048, SwapCached: 0 });
  });
  it('a swap PTE with the uffd-wp bit stops the scan (SCAN_PTE_UFFD_WP): nothing swapped in', () => {
    const { r } = runSys(
      area(1, [
        { op: 'uffdRegister', pid: 'p', region: 'a', mode: 'wp' },
        { op: 'uffdWriteProtect', pid: 'p', region: 'a', size: 4096, enable: true },
      ]),
    );
    expect(ctrs(r, 'collapse', ['thp_collapse_alloc', 'thp_collapse_failed', 'pswpin'])).toEqual({
      thp_collapse_alloc: 0,
      thp_collapse_failed: 1,
      pswpin: 0,
    });
  });
});
