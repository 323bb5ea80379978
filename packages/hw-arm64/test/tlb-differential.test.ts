/**
 * Differential tests of the constant-time TlbArray against the reference model
 * (test/reference/tlb.ts, the linear-scan array it replaced): the same random operations on
 * both give the same slots, translations and reach, and whole scenarios the same counters,
 * cycles and page contents.
 */
import { createSystem, runScenario, ScenarioSchema } from '@mmsim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Arm64HardwareOptions, createHardware } from '../src/index.js';
import { TlbArray } from '../src/tlb.js';
// the same random workloads as hw-x86's differential test (one copy)
import { anonOrders, rawOps, workload } from '../../hw-x86/test/random-workload.js';
import { RefTlbArray } from './reference/tlb.js';

type Op =
  | { op: 'lookup'; asid: number; vpn: number }
  | { op: 'insert'; asid: number; vpn: number; shift: number; pfn: number; w: boolean }
  | { op: 'invalidateVa'; asid: number; vpn: number }
  | { op: 'invalidateRange'; asid: number; vpn: number; pages: number }
  | { op: 'flushAsid'; asid: number }
  | { op: 'invalidateAll' };

const ASIDS = 4;

const opArb = (entries: number): fc.Arbitrary<Op> => {
  const asid = fc.nat(ASIDS - 1);
  // VPNs that share sets and tags a lot, plus a few far above 2^32
  const vpn = fc.oneof(
    { weight: 8, arbitrary: fc.nat(Math.max(32, entries * 3)) },
    { weight: 1, arbitrary: fc.nat(64).map((k) => 2 ** 35 + k) },
  );
  const shift = fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constantFrom(2, 4, 9) });
  const w = Math.max(8, entries);
  return fc.oneof(
    { weight: w, arbitrary: fc.record({ op: fc.constant('lookup' as const), asid, vpn }) },
    {
      weight: w,
      arbitrary: fc.record({
        op: fc.constant('insert' as const),
        asid,
        vpn,
        shift,
        pfn: fc.nat(1 << 20),
        w: fc.boolean(),
      }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('invalidateVa' as const), asid, vpn }) },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('invalidateRange' as const), asid, vpn, pages: fc.nat(64) }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('flushAsid' as const), asid }) },
    { weight: 1, arbitrary: fc.constant({ op: 'invalidateAll' as const }) },
  );
};

type Arr = TlbArray | RefTlbArray;

/** One op on an array; what it returns: the slot and what it translates to. */
function apply(a: Arr, epoch: Int32Array, o: Op): unknown {
  switch (o.op) {
    case 'lookup': {
      const e = a.lookup(o.asid, o.vpn);
      return e < 0 ? -1 : [e, a.baseOf(e), a.pfn[e], a.shift[e], a.writable[e]];
    }
    case 'insert': {
      // as the hardware does: the new translation first replaces whatever covers the page
      a.invalidateVa(o.asid, o.vpn);
      const base = o.vpn - (o.vpn % 2 ** o.shift);
      return a.insert(o.asid, base, o.shift, o.pfn, o.w);
    }
    case 'invalidateVa':
      a.invalidateVa(o.asid, o.vpn);
      return undefined;
    case 'invalidateRange':
      a.invalidateRange(o.asid, o.vpn, o.vpn + o.pages);
      return undefined;
    case 'flushAsid':
      epoch[o.asid]!++;
      if (a instanceof TlbArray) a.epochChanged();
      return undefined;
    case 'invalidateAll':
      a.invalidateAll();
      return undefined;
  }
}

function reachAll(a: Arr): unknown {
  return [-1, ...Array.from({ length: ASIDS }, (_, i) => i)].map((x) => a.reach(x));
}

describe('TlbArray matches the reference model', () => {
  const GEOMETRIES: Array<[number, number]> = [
    [1, 1],
    [4, 1],
    [8, 2],
    [16, 16],
    [48, 48],
    [40, 5],
    [64, 4],
    [96, 32],
    [60, 5], // 12 sets: not a power of two
  ];
  for (const [entries, ways] of GEOMETRIES) {
    it(`${entries} entries, ${ways} ways`, () => {
      fc.assert(
        fc.property(fc.array(opArb(entries), { minLength: 20, maxLength: 500, size: 'max' }), (ops) => {
          const e1 = new Int32Array(ASIDS);
          const e2 = new Int32Array(ASIDS);
          const a = new TlbArray(entries, ways, e1);
          const ref = new RefTlbArray(entries, ways, e2);
          for (const o of ops) {
            expect(apply(a, e1, o)).toEqual(apply(ref, e2, o));
            expect(a.reach()).toEqual(ref.reach());
          }
          expect(reachAll(a)).toEqual(reachAll(ref));
        }),
        { numRuns: 60 },
      );
    });
  }
});

/** The reference needs no notice of an epoch change (it checks the epoch at every way). */
class RefArray extends RefTlbArray {
  epochChanged(): void {}
}

/** Run a scenario with the arrays under test or the reference ones; everything it reports. */
function runArm64(opts: Arm64HardwareOptions, steps: unknown[], reference: boolean): unknown {
  const hw = createHardware({ coherenceCheck: true, ...opts });
  if (reference) {
    const epoch = (hw as unknown as { asidEpoch: Int32Array }).asidEpoch;
    const g = hw.options.geometry;
    for (const core of hw.cores as Array<{ l1: unknown; l2: unknown }>) {
      core.l1 = new RefArray(g.l1Entries, g.l1Ways, epoch);
      core.l2 = new RefArray(g.l2Entries, g.l2Ways, epoch);
    }
  }
  const sys = createSystem({ hardware: hw, config: { swap: { synchronousIo: true }, thp: { top: 'always' } } });
  sys.hooks.fault.anonOrders.tap('tlb-differential', (_orders, vmf) => anonOrders(vmf.vma.name));
  const sc = ScenarioSchema.parse({ name: 'tlb-differential', system: { swap: { synchronousIo: true } }, steps });
  const res = runScenario(sys, sc, { file: 'tlb-differential.json' });
  const reach = Array.from({ length: hw.ncpus }, (_, c) => [hw.cores[c]!.l1.reach(), hw.cores[c]!.l2.reach()]);
  return { res, stats: Array.from(sys.stats.v), cycles: sys.clock.cycles, reach };
}

describe('whole scenarios: the same counters and cycles as with the reference arrays', () => {
  const SMALL = { l1Entries: 16, l1Ways: 16, l2Entries: 64, l2Ways: 4 };
  const CONFIGS: Array<[string, Arm64HardwareOptions]> = [
    ['defaults, 4 CPUs', { cpus: 4 }],
    ['small TLBs, 2 CPUs', { cpus: 2, ...SMALL }],
    ['small TLBs, no contpte, HPA 4, 3 CPUs', { cpus: 3, contpte: false, hpa: 4, ...SMALL }],
    ['3-bit ASIDs (rollovers), no range TLBI', { cpus: 2, asidBits: 3, tlbiRange: false, ...SMALL }],
    ['no FEAT_HAFDBS, 12 L2 sets', { cpus: 2, hafdbs: false, l1Entries: 8, l1Ways: 8, l2Entries: 60, l2Ways: 5 }],
  ];
  for (const [name, opts] of CONFIGS) {
    it(name, () => {
      fc.assert(
        fc.property(rawOps(60), (raw) => {
          const { steps } = workload(raw, opts.cpus ?? 2);
          expect(runArm64(opts, steps, false)).toEqual(runArm64(opts, steps, true));
        }),
        { numRuns: 25 },
      );
    });
  }
});
