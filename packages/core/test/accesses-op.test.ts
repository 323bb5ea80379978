/** The accesses op (scenario/ops/accesses.ts): a batch of one-page accesses, as a replayed trace gives them. */
import { describe, expect, it } from 'vitest';
import { run, runError } from './helpers.js';

/** page `page` of the batch's region `ri`, a write when `w` is 1 */
const ref = (page: number, w: 0 | 1, ri = 0) => (page * 2 + w) * 256 + ri;

describe('accesses', () => {
  it('is the same as one-page touches in order: faults, zero page then CoW, written values', () => {
    const steps = (batch: boolean) => [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
      { op: 'mmap', pid: 'p', name: 'b', size: '8KiB' },
      ...(batch
        ? [
            {
              op: 'accesses',
              pid: 'p',
              regions: ['a', 'b'],
              refs: [ref(0, 1), ref(1, 0), ref(1, 0, 1), ref(1, 1), ref(0, 1), ref(3, 1)],
            },
          ]
        : [
            { op: 'touch', pid: 'p', region: 'a', offset: 0, size: 4096, access: 'write' },
            { op: 'touch', pid: 'p', region: 'a', offset: 4096, size: 4096, access: 'read' },
            { op: 'touch', pid: 'p', region: 'b', offset: 4096, size: 4096, access: 'read' },
            { op: 'touch', pid: 'p', region: 'a', offset: 4096, size: 4096, access: 'write' },
            { op: 'touch', pid: 'p', region: 'a', offset: 0, size: 4096, access: 'write' },
            { op: 'touch', pid: 'p', region: 'a', offset: 12288, size: 4096, access: 'write' },
          ]),
      // the values written: one fresh value per write, in order (1, 2, 3, 4)
      { op: 'access', pid: 'p', region: 'a', offset: 0, access: 'read', expect: 3 },
      { op: 'access', pid: 'p', region: 'a', offset: 4096, access: 'read', expect: 2 },
      { op: 'access', pid: 'p', region: 'a', offset: 12288, access: 'read', expect: 4 },
      { op: 'access', pid: 'p', region: 'b', offset: 4096, access: 'read', expect: 0 },
    ];
    const a = run({ name: 'batch', steps: steps(true) });
    const b = run({ name: 'touches', steps: steps(false) });
    expect(a.checks).toMatchObject({ passed: 4, failed: 0 });
    expect(b.checks).toMatchObject({ passed: 4, failed: 0 });
    const c = a.total.counters as Record<string, number>;
    // a0 write, a1 read (zero page), b1 read (zero page), a1 write (CoW of the zero page), a3 write
    expect(c.pgfault).toBe(5);
    expect(c.cow_zero).toBe(1);
    expect(a.total.counters).toEqual(b.total.counters);
    expect(a.total.cycles).toBe(b.total.cycles);
    expect(a.total.steps).toBe(b.total.steps - 5);
  });

  it('a page beyond its region or a region index not in the list is exit 2 naming refs[i]', () => {
    const base = [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
    ];
    const beyond = runError({
      name: 'x',
      steps: [...base, { op: 'accesses', pid: 'p', regions: ['a'], refs: [ref(1, 1), ref(2, 0)] }],
    });
    expect(beyond.message).toContain('steps[2]');
    expect(beyond.message).toContain('refs[1]');
    expect(beyond.message).toContain('page 2 is beyond the region "a" (2 pages)');
    const index = runError({
      name: 'x',
      steps: [...base, { op: 'accesses', pid: 'p', regions: ['a'], refs: [ref(0, 0, 3)] }],
    });
    expect(index.message).toContain('region index 3 is not in "regions" (1)');
    const unknown = runError({ name: 'x', steps: [...base, { op: 'accesses', pid: 'p', regions: ['zz'], refs: [] }] });
    expect(unknown.message).toContain('has no region "zz"');
  });
});
