import { describe, expect, test } from 'vitest';
import {
  mmapAnon,
  PTE,
  PTRS_PER_TABLE,
  ScenarioError,
  ScenarioSchema,
  runScenario,
  SimError,
  userAccess,
  type KernelPlugin,
  type MmStruct,
} from '@mmsim/core';
import { x86System } from './helpers.js';

describe('TLB coherence checking', () => {
  test("a PTE changed behind the TLB's back (no flush) is caught on the next hit", () => {
    const sys = x86System();
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 2, 'buf');
    userAccess(k, p.main, vma.start, true, 1);
    userAccess(k, p.main, vma.start + 1, true, 2);
    // plant a missing flush: repoint page 0 at page 1's frame
    const t = k.pteTable(p.mm, vma.start);
    const kk = t * PTRS_PER_TABLE + (vma.start & 511);
    k.pt.val[kk] = k.pt.val[kk + 1]!;
    expect(() => userAccess(k, p.main, vma.start, false, 0)).toThrow(SimError);
    expect(() => userAccess(k, p.main, vma.start, false, 0)).toThrow(/stale TLB entry/);
  });

  test('a write-protect without a flush is caught at the write', () => {
    const sys = x86System();
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 1, 'buf');
    userAccess(k, p.main, vma.start, true, 1);
    const t = k.pteTable(p.mm, vma.start);
    k.pt.fl[t * PTRS_PER_TABLE + (vma.start & 511)]! &= ~PTE.write;
    userAccess(k, p.main, vma.start, false, 0); // reads are still allowed
    expect(() => userAccess(k, p.main, vma.start, true, 2)).toThrow(/does not permit the write/);
  });

  test('coherenceCheck: false lets the stale entry through (what real hardware would do)', () => {
    const sys = x86System({ coherenceCheck: false });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 2, 'buf');
    userAccess(k, p.main, vma.start, true, 1);
    userAccess(k, p.main, vma.start + 1, true, 2);
    const t = k.pteTable(p.mm, vma.start);
    const kk = t * PTRS_PER_TABLE + (vma.start & 511);
    k.pt.val[kk] = k.pt.val[kk + 1]!;
    userAccess(k, p.main, vma.start, false, 0);
    expect(k.lastValue).toBe(1); // the stale frame
  });

  test('a buggy policy that remaps without flushing fails the scenario at its step', () => {
    const buggy: KernelPlugin = {
      name: 'buggy-remap',
      internal: true,
      apply(sys) {
        sys.hooks.madvise.for('nohugepage').tap('buggy-remap', (e) => {
          // "moves" the page to a fresh frame without a TLB flush
          const k = sys.kernel;
          const t = k.pteTable(e.mm as MmStruct, e.start);
          const kk = t * PTRS_PER_TABLE + (e.start & 511);
          const nh = k.allocFolio(0, false);
          k.f.data[nh] = k.f.data[k.pt.val[kk]!]!;
          k.pt.val[kk] = nh;
        });
      },
    };
    const sys = x86System({}, [buggy]);
    const sc = ScenarioSchema.parse({
      name: 'planted',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'buf', size: 4096 },
        { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 5 },
        { op: 'madvise', pid: 'p', region: 'buf', advice: 'nohugepage' },
        { op: 'access', pid: 'p', region: 'buf', access: 'read', expect: 5 },
      ],
    });
    let err: unknown;
    try {
      runScenario(sys, sc, { file: 'planted.json' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as ScenarioError).where).toBe('steps[4]');
    expect((err as Error).message).toMatch(/stale TLB entry/);
  });

  test("the kernel's own paths stay coherent (fork, COW, mprotect, munmap, pageout) on 2 CPUs", () => {
    const sys = x86System({}, []);
    const sc = ScenarioSchema.parse({
      name: 'mixed',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'thread', pid: 'p', cpu: 1, spin: true },
        { op: 'mmap', pid: 'p', name: 'buf', size: '256KiB' },
        { op: 'touch', pid: 'p', region: 'buf', access: 'write' },
        { op: 'touch', pid: 'p', region: 'buf', access: 'read', cpu: 1 },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'touch', pid: 'p', region: 'buf', access: 'write', value: 9 },
        { op: 'touch', pid: 'c', region: 'buf', access: 'read' },
        { op: 'touch', pid: 'p', region: 'buf', access: 'read', cpu: 1 },
        { op: 'mprotect', pid: 'p', region: 'buf', prot: 'r' },
        { op: 'touch', pid: 'p', region: 'buf', access: 'read', cpu: 1 },
        { op: 'mprotect', pid: 'p', region: 'buf', prot: 'rw' },
        { op: 'madvise', pid: 'p', region: 'buf', advice: 'pageout' },
        { op: 'access', pid: 'p', region: 'buf', access: 'read', expect: 9, cpu: 1 },
        { op: 'touch', pid: 'p', region: 'buf', access: 'write', value: 3, cpu: 1 },
        { op: 'munmap', pid: 'p', region: 'buf', size: '64KiB' },
        { op: 'exit', pid: 'c' },
        { op: 'exit', pid: 'p' },
      ],
    });
    const r = runScenario(sys, sc, { file: 'mixed.json' });
    expect(r.checks.failed).toBe(0);
    expect(r.total.counters.nr_tlb_remote_flush).toBeGreaterThan(0);
  });
});
