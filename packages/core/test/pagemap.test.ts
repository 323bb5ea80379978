/** The pagemap op: /proc/PID/pagemap per page (fs/proc/task_mmu.c pte_to_pagemap_entry()). */
import { describe, expect, it } from 'vitest';
import { definePlugin } from '../src/index.js';
import { run, runError } from './helpers.js';

describe('pagemap', () => {
  it('fork: both map the same frames, neither exclusively; the child write gives it its own exclusive copy', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1 },
        {
          op: 'pagemap',
          pid: 'p',
          region: 'a',
          expect: [{ present: true, exclusive: true, pfn: 'A0' }, { pfn: 'A1' }],
        },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'pagemap', pid: 'c', region: 'a', expect: [{ exclusive: false, pfn: 'A0' }, { pfn: 'A1' }] },
        { op: 'access', pid: 'c', region: 'a', access: 'write', value: 2 },
        { op: 'pagemap', pid: 'c', region: 'a', size: '4KiB', expect: { exclusive: true, pfn: 'C0', order: 0 } },
        { op: 'pagemap', pid: 'p', region: 'a', size: '4KiB', expect: { exclusive: true, pfn: 'A0' } },
      ],
    });
    expect(r.checks).toMatchObject({ passed: 6, failed: 0 });
  });
  it('the zero page: present, one frame for every page, no folio; a swapped page is not present', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'read' },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { present: true, exclusive: false, pfn: 'Z' } },
        { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
        { op: 'pagemap', pid: 'p', region: 'b', expect: { present: false, swapped: false } },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 3 },
        { op: 'madvise', pid: 'p', region: 'b', advice: 'pageout' },
        { op: 'pagemap', pid: 'p', region: 'b', expect: { present: false, swapped: true } },
      ],
    });
    expect(r.checks).toMatchObject({ passed: 4, failed: 0 });
  });
  it('uffd-wp: the bit on present and on swapped pages', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 3 },
        { op: 'uffdRegister', pid: 'p', region: 'a', mode: 'wp' },
        { op: 'uffdWriteProtect', pid: 'p', region: 'a', enable: true },
        { op: 'madvise', pid: 'p', region: 'a', size: '4KiB', advice: 'pageout' },
        {
          op: 'pagemap',
          pid: 'p',
          region: 'a',
          expect: [
            { swapped: true, uffdWp: true },
            { present: true, uffdWp: true },
          ],
        },
      ],
    });
    expect(r.checks).toMatchObject({ passed: 2, failed: 0 });
  });
  it('a PMD-mapped THP: pmdMapped, order 9, the frames of one folio', () => {
    const thp = definePlugin({
      name: 'thp-test',
      api: '^1.0.0',
      apply: (sys) => sys.hooks.fault.anonOrders.tap('thp-test', (o) => o | (1 << 9)),
    });
    const r = run(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '2MiB', align: '2MiB' },
          { op: 'access', pid: 'p', region: 'a', access: 'write', value: 1 },
          {
            op: 'pagemap',
            pid: 'p',
            region: 'a',
            size: '8KiB',
            expect: { pmdMapped: true, order: 9, exclusive: true },
          },
        ],
      },
      { policies: [thp] },
    );
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(2);
  });
  it('mismatches are failed checks naming the page and the field; a label is one frame', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1 },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { pfn: 'X', swapped: true } },
      ],
    });
    expect(r.checks.failures).toEqual([
      { step: 'steps[3] page 0', message: 'swapped is false, expected true' },
      { step: 'steps[3] page 1', message: 'swapped is false, expected true; a new page frame, expected pfn "X"' },
    ]);
  });
  it('an expect list of the wrong length is bad input', () => {
    const e = runError({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
        { op: 'pagemap', pid: 'p', region: 'a', expect: [{ present: false }] },
      ],
    });
    expect(e.message).toContain('the range has 2 pages, expect lists 1');
  });
});
