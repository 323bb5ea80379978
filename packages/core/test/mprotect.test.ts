import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../src/index.js';
import { ctrs, run, runError } from './helpers.js';

const base = (spin: boolean) => [
  { op: 'spawn', pid: 'p', cpu: 0 },
  ...(spin ? [{ op: 'thread', pid: 'p', cpu: 1, spin: true }] : []),
  { op: 'mmap', pid: 'p', name: 'b', size: '16KiB' },
  { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 4 },
  { op: 'drain' },
];

describe('mprotect (change_protection)', () => {
  it("a write to an 'r' region is a segfault naming the step; reads still work", () => {
    const err = runError({
      name: 'ro',
      steps: [
        ...base(false),
        { op: 'mprotect', pid: 'p', region: 'b', prot: 'r' },
        { op: 'access', pid: 'p', region: 'b', access: 'read', expect: 4 },
        { op: 'access', pid: 'p', region: 'b', offset: '8KiB', access: 'write' },
      ],
    });
    expect(err).toBeInstanceOf(ScenarioError);
    const se = err as ScenarioError;
    expect(se.where).toBe('steps[6]');
    expect(se.field).toBe('region');
    expect(se.file).toBe('test.json');
    expect(se.message).toMatch(/segmentation fault: write/);
  });

  it("'none' makes reads fault too", () => {
    const err = runError({
      name: 'none',
      steps: [
        ...base(false),
        { op: 'mprotect', pid: 'p', region: 'b', prot: 'none' },
        { op: 'access', pid: 'p', region: 'b', access: 'read' },
      ],
    });
    expect((err as ScenarioError).where).toBe('steps[5]');
    expect(err.message).toMatch(/segmentation fault: read/);
  });

  it('r then rw: the flush is counted once, the next writes fault and reuse (exclusive, refcount 1)', () => {
    const r = run({
      name: 'r-rw',
      steps: [
        ...base(true),
        { op: 'mprotect', pid: 'p', region: 'b', prot: 'r', phase: 'r' },
        { op: 'mprotect', pid: 'p', region: 'b', prot: 'rw', phase: 'rw' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 5, phase: 'write' },
        { op: 'access', pid: 'p', region: 'b', offset: '12KiB', access: 'read', expect: 5 },
      ],
    });
    const F = ['mprotect_pte', 'nr_tlb_remote_flush', 'nr_tlb_local_flush_one'];
    // flush_tlb_range over the 4 changed PTEs (<= 33 pages: per-page local flushes)
    expect(ctrs(r, 'r', F)).toEqual({ mprotect_pte: 4, nr_tlb_remote_flush: 1, nr_tlb_local_flush_one: 4 });
    // rw without MM_CP_TRY_CHANGE_WRITABLE changes no PTE: no flush
    expect(ctrs(r, 'rw', F)).toEqual({ mprotect_pte: 0, nr_tlb_remote_flush: 0, nr_tlb_local_flush_one: 0 });
    expect(ctrs(r, 'write', ['pgfault', 'pgreuse', 'cow_copy'])).toEqual({ pgfault: 4, pgreuse: 4, cow_copy: 0 });
    expect(r.checks.failed).toBe(0);
  });

  it('features.tryChangeWritable maps exclusive pages writable at mprotect(rw): no fault on the next write', () => {
    const steps = [
      ...base(true),
      { op: 'mprotect', pid: 'p', region: 'b', prot: 'r', phase: 'r' },
      { op: 'mprotect', pid: 'p', region: 'b', prot: 'rw', phase: 'rw' },
      { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 5, phase: 'write' },
    ];
    const on = run({ name: 'tcw', steps }, { config: { features: { tryChangeWritable: true } } });
    expect(ctrs(on, 'rw', ['mprotect_pte', 'nr_tlb_remote_flush'])).toEqual({
      mprotect_pte: 4,
      nr_tlb_remote_flush: 1,
    });
    expect(ctrs(on, 'write', ['pgfault', 'pgreuse', 'cow_copy'])).toEqual({ pgfault: 0, pgreuse: 0, cow_copy: 0 });
    const off = run({ name: 'no-tcw', steps }, { config: { features: { tryChangeWritable: false } } });
    expect(ctrs(off, 'write', ['pgfault', 'pgreuse', 'cow_copy'])).toEqual({ pgfault: 4, pgreuse: 4, cow_copy: 0 });
  });

  it('tryChangeWritable leaves shared (non-exclusive) pages read-only: they still copy on write', () => {
    const r = run(
      {
        name: 'tcw-shared',
        steps: [
          ...base(false),
          { op: 'fork', pid: 'p', child: 'c' },
          { op: 'mprotect', pid: 'p', region: 'b', prot: 'r' },
          { op: 'mprotect', pid: 'p', region: 'b', prot: 'rw', phase: 'rw' },
          { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'write' },
        ],
      },
      { config: { features: { tryChangeWritable: true } } },
    );
    expect(ctrs(r, 'rw', ['mprotect_pte'])).toEqual({ mprotect_pte: 0 });
    expect(ctrs(r, 'write', ['pgfault', 'pgreuse', 'cow_copy'])).toEqual({ pgfault: 4, pgreuse: 0, cow_copy: 4 });
  });
});
