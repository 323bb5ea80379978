/**
 * Differential tests of the TLB structures against the reference model (test/reference/, the
 * linear-scan implementation they replaced): the same random operations on both must give the
 * same results, the same entries in the same slots (so the same victims), and whole scenarios
 * the same counters, cycles and page contents.
 */
import { createSystem, runScenario, ScenarioSchema } from '@mmsim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHardware } from '../src/index.js';
import type { X86HardwareOptions } from '../src/options.js';
import { TlbArray, type TlbStore } from '../src/tlb-array.js';
import { AssocTlbArray } from '../src/tlb-assoc.js';
import { TlbHierarchy } from '../src/tlb-hierarchy.js';
import { RefTlbArray } from './reference/tlb-array.js';
import { RefTlbHierarchy } from './reference/tlb-hierarchy.js';
import { anonOrders, rawOps, workload } from './random-workload.js';

interface ArrayLike {
  readonly key: Float64Array;
  readonly span: Int8Array;
  readonly asid: Int8Array;
  readonly pfn: Float64Array;
  readonly flags: Uint8Array;
}

function arrayState(a: ArrayLike): unknown {
  return [Array.from(a.key), Array.from(a.span), Array.from(a.asid), Array.from(a.pfn), Array.from(a.flags)];
}

/** Keys that share sets and tags a lot (about 1.5 times the capacity), plus a few far above 2^32. */
const keyFor = (entries: number): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.nat(Math.max(4, Math.floor(entries * 1.5))) },
    { weight: 1, arbitrary: fc.nat(8).map((k) => 2 ** 35 + k * 16) },
  );
const span = fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(2, 9) });
const asidArb = fc.oneof({ weight: 4, arbitrary: fc.nat(1) }, { weight: 1, arbitrary: fc.nat(5) });

type ArrayOp =
  | { op: 'find' | 'invalidate'; cpu: number; asid: number; key: number; span: number }
  | { op: 'insert'; cpu: number; asid: number; key: number; span: number; pfn: number; flags: number }
  | { op: 'invalidateAsid'; cpu: number; asid: number }
  | { op: 'invalidateCpu'; cpu: number }
  | { op: 'invalidateIndex'; i: number };

const arrayOp = (ncpus: number, entries: number): fc.Arbitrary<ArrayOp> => {
  const n = ncpus * entries;
  const cpu = fc.nat(ncpus - 1);
  const asid = asidArb;
  const key = keyFor(entries);
  // whole-CPU and whole-ASID flushes rare enough that the arrays fill up and evict
  const w = Math.max(8, entries);
  return fc.oneof(
    { weight: w, arbitrary: fc.record({ op: fc.constant('find' as const), cpu, asid, key, span }) },
    {
      weight: w,
      arbitrary: fc.record({
        op: fc.constant('insert' as const),
        cpu,
        asid,
        key,
        span,
        pfn: fc.nat(1 << 20),
        flags: fc.nat(3),
      }),
    },
    {
      weight: Math.ceil(w / 3),
      arbitrary: fc.record({ op: fc.constant('invalidate' as const), cpu, asid, key, span }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidateAsid' as const), cpu, asid }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidateCpu' as const), cpu }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidateIndex' as const), i: fc.nat(n - 1) }) },
  );
};

function applyArray(a: RefTlbArray | TlbStore, o: ArrayOp): number | undefined {
  switch (o.op) {
    case 'find':
      return a.find(o.cpu, o.asid, o.key, o.span);
    case 'insert':
      a.insert(o.cpu, o.asid, o.key, o.span, o.pfn, o.flags);
      return undefined;
    case 'invalidate':
      return a.invalidate(o.cpu, o.asid, o.key, o.span);
    case 'invalidateAsid':
      a.invalidateAsid(o.cpu, o.asid);
      return undefined;
    case 'invalidateCpu':
      a.invalidateCpu(o.cpu);
      return undefined;
    case 'invalidateIndex':
      a.invalidateIndex(o.i);
      return undefined;
  }
}

describe('TlbArray matches the reference model', () => {
  // [entries, ways]: set-associative and fully associative, small enough to evict constantly
  const GEOMETRIES: Array<[number, number]> = [
    [2, 2],
    [4, 4],
    [8, 2],
    [16, 4],
    [32, 32],
    [24, 24],
    [64, 8],
    [96, 48],
    [40, 40],
  ];
  const IMPLS = [
    ['scanned', TlbArray],
    ['hashed', AssocTlbArray],
  ] as const;
  for (const [entries, ways] of GEOMETRIES) {
    for (const ncpus of [1, 3]) {
      for (const [impl, Impl] of IMPLS)
        it(`${impl}: ${entries} entries, ${ways} ways, ${ncpus} CPU(s)`, () => {
          fc.assert(
            fc.property(fc.array(arrayOp(ncpus, entries), { minLength: 20, maxLength: 400, size: 'max' }), (ops) => {
              const ref = new RefTlbArray('ref', ncpus, entries, ways);
              const a = new Impl('new', ncpus, entries, ways);
              for (const o of ops) {
                expect(applyArray(a, o)).toBe(applyArray(ref, o));
                for (let c = 0; c < ncpus; c++) expect(a.occupancy(c)).toBe(ref.occupancy(c));
              }
              expect(arrayState(a)).toEqual(arrayState(ref));
            }),
            { numRuns: 60 },
          );
        });
    }
  }
});

type HierOp =
  | { op: 'lookup'; cpu: number; asid: number; vpn: number }
  | { op: 'walk'; cpu: number; asid: number; vpn: number; huge: boolean }
  | { op: 'fill'; cpu: number; asid: number; vpn: number; pfn: number; flags: number; huge: boolean; group: number }
  | { op: 'invalidatePage' | 'invalidateTlbPage'; cpu: number; asid: number; vpn: number }
  | { op: 'invalidatePsc' | 'invalidateAsid'; cpu: number; asid: number };

/** Pages clustered so that PDE/PDPTE/PML4E keys and sets collide. */
const vpn = fc
  .tuple(fc.constantFrom(0, 1 << 18, 3 * 2 ** 27, 2 ** 35 - 4096), fc.nat(40), fc.nat(2))
  .map(([base, i, j]) => base + i * [1, 4, 512][j]! + (j === 2 ? i % 3 : 0));

const hierOp = (ncpus: number): fc.Arbitrary<HierOp> => {
  const cpu = fc.nat(ncpus - 1);
  const asid = fc.nat(5);
  return fc.oneof(
    { weight: 8, arbitrary: fc.record({ op: fc.constant('lookup' as const), cpu, asid, vpn }) },
    { weight: 6, arbitrary: fc.record({ op: fc.constant('walk' as const), cpu, asid, vpn, huge: fc.boolean() }) },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant('fill' as const),
        cpu,
        asid,
        vpn,
        pfn: fc.nat(1 << 20),
        flags: fc.nat(3),
        huge: fc.boolean(),
        group: fc.oneof(
          fc.constant(-1),
          fc.nat(1 << 18).map((g) => g * 4),
        ),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('invalidatePage', 'invalidateTlbPage'), cpu, asid, vpn }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('invalidatePsc', 'invalidateAsid'), cpu, asid }) },
  );
};

function applyHier(h: RefTlbHierarchy | TlbHierarchy, o: HierOp): unknown {
  switch (o.op) {
    case 'lookup':
      return [h.lookup(o.cpu, o.asid, o.vpn), h.pfn, h.flags, h.level];
    case 'walk':
      return h.walkLevels(o.cpu, o.asid, o.vpn, o.huge);
    case 'fill':
      h.fill(o.cpu, o.asid, o.vpn, o.pfn, o.flags, o.huge, o.huge ? -1 : o.group);
      return undefined;
    case 'invalidatePage':
      h.invalidatePage(o.cpu, o.asid, o.vpn);
      return undefined;
    case 'invalidateTlbPage':
      h.invalidateTlbPage(o.cpu, o.asid, o.vpn);
      return undefined;
    case 'invalidatePsc':
      h.invalidatePsc(o.cpu, o.asid);
      return undefined;
    case 'invalidateAsid':
      h.invalidateAsid(o.cpu, o.asid);
      return undefined;
  }
}

function hierState(h: RefTlbHierarchy | TlbHierarchy, ncpus: number): unknown {
  const arrays = [h.l1, h.l1h, h.stlb, h.stlbh, h.pml4e, h.pdpte, h.pde];
  const occ = Array.from({ length: ncpus }, (_, c) => h.occupancy(c));
  return [arrays.map((a) => (a ? arrayState(a) : null)), occ];
}

describe('TlbHierarchy matches the reference model', () => {
  const base = {
    cpus: 2,
    pcid: true,
    lazyTlbSkip: true,
    coherenceCheck: false,
    flushCeiling: 33,
  };
  const CONFIGS = [
    {
      l1Entries: 8,
      l1Ways: 2,
      l1Entries2M: 4,
      l1Ways2M: 4,
      stlbEntries: 32,
      stlbWays: 4,
      stlbEntries2M: 8,
      stlbWays2M: 8,
    },
    {
      l1Entries: 16,
      l1Ways: 16,
      l1Entries2M: 4,
      l1Ways2M: 2,
      stlbEntries: 64,
      stlbWays: 32,
      stlbEntries2M: 16,
      stlbWays2M: 4,
    },
    {
      l1Entries: 64,
      l1Ways: 4,
      l1Entries2M: 32,
      l1Ways2M: 4,
      stlbEntries: 1024,
      stlbWays: 8,
      stlbEntries2M: 1024,
      stlbWays2M: 8,
    },
  ];
  for (const geo of CONFIGS) {
    for (const coalescing of [false, true]) {
      for (const psc of [true, false]) {
        it(`${geo.l1Entries}/${geo.l1Ways} L1, ${geo.stlbEntries}/${geo.stlbWays} STLB, coalescing ${coalescing}, PSC ${psc}`, () => {
          const o = { ...base, ...geo, coalescing, pagingStructureCache: psc };
          fc.assert(
            fc.property(fc.array(hierOp(o.cpus), { minLength: 20, maxLength: 300, size: 'max' }), (ops) => {
              const ref = new RefTlbHierarchy(o.cpus, o, coalescing);
              const h = new TlbHierarchy(o.cpus, o, coalescing);
              for (const op of ops) expect(applyHier(h, op)).toEqual(applyHier(ref, op));
              expect(hierState(h, o.cpus)).toEqual(hierState(ref, o.cpus));
            }),
            { numRuns: 40 },
          );
        });
      }
    }
  }
});

/** Run a scenario with the hierarchy under test or the reference one; everything it reports. */
function runX86(opts: X86HardwareOptions, steps: unknown[], reference: boolean): unknown {
  const hw = createHardware({ coherenceCheck: true, ...opts });
  if (reference) (hw as unknown as { tlb: unknown }).tlb = new RefTlbHierarchy(hw.ncpus, hw.opts, hw.opts.coalescing);
  const sys = createSystem({ hardware: hw, config: { swap: { synchronousIo: true }, thp: { top: 'always' } } });
  sys.hooks.fault.anonOrders.tap('tlb-differential', (_orders, vmf) => anonOrders(vmf.vma.name));
  const sc = ScenarioSchema.parse({ name: 'tlb-differential', system: { swap: { synchronousIo: true } }, steps });
  const res = runScenario(sys, sc, { file: 'tlb-differential.json' });
  return { res, stats: Array.from(sys.stats.v), cycles: sys.clock.cycles, describe: hw.describe() };
}

describe('whole scenarios: the same counters and cycles as with the reference hierarchy', () => {
  const SMALL = {
    l1Entries: 8,
    l1Ways: 2,
    l1Entries2M: 4,
    l1Ways2M: 2,
    stlbEntries: 32,
    stlbWays: 4,
    stlbEntries2M: 8,
    stlbWays2M: 4,
  };
  const CONFIGS: Array<[string, X86HardwareOptions]> = [
    ['defaults, 4 CPUs', { cpus: 4 }],
    ['small TLBs, 2 CPUs', { cpus: 2, ...SMALL }],
    ['no PCID, coalescing, 3 CPUs', { cpus: 3, pcid: false, coalescing: true, ...SMALL }],
    [
      'fully associative L1, no PSC, kvm-guest',
      { cpus: 2, l1Entries: 16, l1Ways: 16, pagingStructureCache: false, profile: 'kvm-guest' },
    ],
    ['lazy-TLB skip off, ceiling 4', { cpus: 4, lazyTlbSkip: false, flushCeiling: 4, coalescing: true }],
  ];
  for (const [name, opts] of CONFIGS) {
    it(name, () => {
      fc.assert(
        fc.property(rawOps(60), (raw) => {
          const { steps } = workload(raw, opts.cpus ?? 2);
          expect(runX86(opts, steps, false)).toEqual(runX86(opts, steps, true));
        }),
        { numRuns: 25 },
      );
    });
  }
});
