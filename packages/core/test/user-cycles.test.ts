import { describe, expect, it } from 'vitest';
import { ScenarioSchema } from '../src/index.js';
import { run } from './helpers.js';

// flat hardware, unit costs: every user access is one TLB fill (no TLB) = memAccess = 1 user cycle
const steps = [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'b', size: '64KiB' },
  { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'write' },
  { op: 'touch', pid: 'p', region: 'b', access: 'read', phase: 'read' },
  { op: 'compute', pid: 'p', cycles: 12345, phase: 'compute' },
];

describe('user and kernel cycles (flat hardware)', () => {
  const r = run({ name: 'user-cycles', steps });

  it('first touch: one user cycle per access, the faults are kernel cycles', () => {
    const w = r.phases.write!;
    expect(w.counters.pgfault).toBe(16);
    expect(w.userCycles).toBe(16);
    expect(w.kernelCycles).toBe(w.cycles - 16);
    expect(w.kernelCycles).toBeGreaterThan(16 * 4); // fault entry, alloc, zero, PTE per fault
  });

  it('re-read: 16 accesses, 16 user cycles and no kernel work', () => {
    expect(r.phases.read).toMatchObject({ cycles: 16, userCycles: 16, kernelCycles: 0 });
  });

  it('compute: exactly its cycles, all user, no counter', () => {
    expect(r.phases.compute).toMatchObject({ cycles: 12345, userCycles: 12345, kernelCycles: 0, counters: {} });
  });

  it('the total adds up', () => {
    expect(r.total.userCycles).toBe(16 + 16 + 12345);
    expect(r.total.userCycles + r.total.kernelCycles).toBe(r.total.cycles);
  });

  it('compute on another process pays its context switch as kernel cycles', () => {
    const r2 = run({
      name: 'compute-switch',
      steps: [
        { op: 'spawn', pid: 'a', cpu: 0 },
        { op: 'spawn', pid: 'b', cpu: 0 },
        { op: 'compute', pid: 'a', cycles: 10, phase: 'a' },
        { op: 'compute', pid: 'b', cycles: 10, phase: 'b' },
      ],
    });
    expect(r2.phases.b).toMatchObject({ cycles: 11, userCycles: 10, kernelCycles: 1 });
    expect(r2.phases.b!.counters.context_switch).toBe(1);
  });

  it('compute refuses bad cycles and unknown processes', () => {
    const bad = (cycles: unknown) =>
      ScenarioSchema.safeParse({ name: 'x', steps: [{ op: 'compute', pid: 'p', cycles }] }).success;
    expect(bad(100)).toBe(true);
    expect(bad(-1)).toBe(false);
    expect(bad(1.5)).toBe(false);
    expect(bad('1k')).toBe(false);
    expect(() => run({ name: 'x', steps: [{ op: 'compute', pid: 'nobody', cycles: 1 }] })).toThrow(/nobody/);
  });
});
