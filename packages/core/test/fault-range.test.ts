import { describe, expect, it } from 'vitest';
import {
  AccessResult,
  accessRange,
  accessRangePages,
  accessRangeProgress,
  createSystem,
  FlatHardware,
  madvise,
  mmapAnon,
  OpExecutor,
  uffdRegister,
  userAccess,
  type Kernel,
  type MmSystem,
  type Step,
  type Thread,
} from '../src/index.js';

/**
 * accessRange() (kernel/fault-range.ts) against one userAccess() per page on a bare system
 * (the bench's use): same return, same blocked thread, same counters, cycles and page contents.
 * The scenario-level comparison on every example and random scenarios, on x86 and arm64 too,
 * is packages/cli/test/range-equivalence-*.test.ts.
 */

interface Setup {
  sys: MmSystem;
  k: Kernel;
  t: Thread;
  start: number;
}

type Prepare = (s: Setup) => void;

const PAGES = 1500;

function setup(prepare: Prepare, cpus = 2): Setup {
  const sys = createSystem({ hardware: new FlatHardware(cpus), config: { lruBatchSize: 7 } });
  const k = sys.kernel;
  const p = k.spawn('p', 0);
  const vma = mmapAnon(k, p.mm, PAGES, 'buf');
  const s = { sys, k, t: p.main, start: vma.start };
  prepare(s);
  return s;
}

/** what a range of accesses leaves behind */
function outcome(s: Setup, r: number) {
  const { k, sys, start } = s;
  const data: number[] = [];
  for (let v = start; v < start + PAGES; v++) {
    const pfn = k.translate(s.t.proc.mm, v, false);
    data.push(pfn < 0 ? -1 : k.f.data[pfn]!);
  }
  return {
    r,
    pending: s.t.pending,
    counters: Array.from(sys.stats.snapshot()),
    cycles: Array.from(sys.clock.byCpu),
    lastValue: k.lastValue,
    batches: k.cpus.map((c) => [...c.lru.add]),
    data,
  };
}

function both(prepare: Prepare, from: number, n: number, write: boolean, value: number, inc: number) {
  const a = setup(prepare);
  const pages0 = accessRangePages();
  const ra = accessRange(a.k, a.t, a.start + from, n, write, value, inc);
  const ranged = accessRangePages() - pages0;
  const b = setup(prepare);
  b.k.rangeFaults = false;
  let rb = n;
  for (let i = 0; i < n; i++) {
    if (userAccess(b.k, b.t, b.start + from + i, write, (value + i * inc) >>> 0) === AccessResult.BLOCKED) {
      rb = i;
      break;
    }
  }
  return { range: outcome(a, ra), perPage: outcome(b, rb), ranged };
}

const none: Prepare = () => {};

describe('accessRange = userAccess page by page', () => {
  it('first writes of a fresh region, across PTE tables', () => {
    const { range, perPage, ranged } = both(none, 0, PAGES, true, 0xfffffff0, 1);
    expect(range).toEqual(perPage);
    expect(range.r).toBe(PAGES);
    expect(ranged).toBeGreaterThan(PAGES - 10);
  });

  it('reads (the zero page), then writes over them (present PTEs fall back)', () => {
    const readFirst: Prepare = (s) => {
      accessRange(s.k, s.t, s.start + 100, 700, false, 0, 0);
    };
    const { range, perPage } = both(readFirst, 0, PAGES, true, 5, 0);
    expect(range).toEqual(perPage);
  });

  it('a region with holes: dontneed in the middle, a partly touched table', () => {
    const holes: Prepare = (s) => {
      for (let v = s.start; v < s.start + PAGES; v += 3) userAccess(s.k, s.t, v, true, v);
      madvise(s.k, s.t.proc.mm, s.start + 200, s.start + 900, 'dontneed');
    };
    const { range, perPage } = both(holes, 7, PAGES - 7, true, 1, 1);
    expect(range).toEqual(perPage);
  });

  it('blocks where the per-page path blocks (userfaultfd missing)', () => {
    const uffd: Prepare = (s) => {
      uffdRegister(s.k, s.t.proc.mm, s.start + 600, s.start + 700, 'missing');
    };
    const { range, perPage } = both(uffd, 0, PAGES, true, 1, 1);
    expect(range.r).toBe(600);
    expect(range).toEqual(perPage);
  });

  it('an access that throws (SIGSEGV past the VMA) leaves the same state and tells where it was', () => {
    const a = setup(none);
    expect(() => accessRange(a.k, a.t, a.start + 1000, 600, true, 1, 1)).toThrow(/segmentation fault/);
    expect(accessRangeProgress()).toBe(501);
    const b = setup(none);
    b.k.rangeFaults = false;
    expect(() => {
      for (let i = 0; i < 600; i++) userAccess(b.k, b.t, b.start + 1000 + i, true, 1 + i);
    }).toThrow(/segmentation fault/);
    expect(outcome(a, 0)).toEqual(outcome(b, 0));
  });
});

describe('the touch op with the range path = the touch op page by page', () => {
  /** steps through an OpExecutor whose observer ends a blocked touch quietly and counts progress */
  function exec(range: boolean, steps: Step[]) {
    const sys = createSystem({ hardware: new FlatHardware(2), config: { lruBatchSize: 5 } });
    sys.kernel.rangeFaults = range;
    const progress: number[] = [];
    const blocked: number[] = [];
    const x = new OpExecutor(sys.kernel, {
      observer: {
        onPages: (n) => progress.push(n),
        onTouchBlocked: (_s, _w, vpn) => blocked.push(vpn) > 0,
      },
    });
    x.runSteps(steps, 'steps');
    const k = sys.kernel;
    const data: number[] = [];
    for (const vma of k.proc('p').mm.vmas)
      for (let v = vma.start; v < vma.end; v++) {
        const pfn = k.translate(k.proc('p').mm, v, false);
        data.push(pfn < 0 ? -1 : k.f.data[pfn]!);
      }
    return {
      writeSeq: x.writeSeq,
      progress,
      blocked,
      data,
      counters: Array.from(sys.stats.snapshot()),
      cycles: Array.from(sys.clock.byCpu),
    };
  }

  it('progress every 4096 pages, the write sequence across a blocked touch and long touches', () => {
    const steps: Step[] = [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'a', size: 9000 * 4096 },
      { op: 'mmap', pid: 'p', name: 'b', size: 3000 * 4096 },
      { op: 'uffdRegister', pid: 'p', region: 'b', offset: 1000 * 4096, size: 10 * 4096, mode: 'missing' },
      { op: 'touch', pid: 'p', region: 'a', offset: 5 * 4096 + 12, access: 'write' },
      { op: 'touch', pid: 'p', region: 'b', access: 'write' },
      { op: 'uffdCopy', pid: 'p', region: 'b', offset: 1000 * 4096, size: 10 * 4096 },
      { op: 'touch', pid: 'p', region: 'a', size: 4097 * 4096, access: 'read' },
      { op: 'touch', pid: 'p', region: 'b', offset: 1010 * 4096, access: 'write' },
      { op: 'touch', pid: 'p', region: 'a', offset: 8190 * 4096, access: 'write' },
    ];
    const on = exec(true, steps);
    const off = exec(false, steps);
    expect(on).toEqual(off);
    expect(on.blocked).toHaveLength(1);
    expect(on.progress.length).toBeGreaterThan(4);
  });
});
