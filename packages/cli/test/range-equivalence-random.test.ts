/**
 * The range fast path (core's kernel/fault-range.ts, Kernel.rangeFaults) against the per-page
 * path on random scenarios (fast-check), on flat, x86 and arm64: touches of every shape
 * (partial, unaligned sizes, strides, random order, fixed values, other CPUs) mixed with fork,
 * exit, madvise (dontneed, pageout with swap), mprotect, munmap, userfaultfd, small memory
 * (ENOMEM inside a touch), interruptions inside a touch, --explain and large-folio policies.
 * The whole run document, the progress reports and a digest of the whole machine state must
 * be equal.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Scenario, Step } from '@mmsim/core';
import { runObject } from './range-equivalence.js';

const PAGE = 4096;

interface Raw {
  kind: number;
  a: number;
  b: number;
  c: number;
  flag: boolean;
}

interface Gen {
  kernel: string;
  cpus: number;
  lruBatchSize: number;
  memoryPages: number;
  thp: boolean;
  swap: boolean;
  regions: number[];
  ops: Raw[];
  stopAt: number;
  explain: boolean;
}

const gen: fc.Arbitrary<Gen> = fc.record({
  kernel: fc.constantFrom('linux-6.18', 'linux-5.9', 'linux-5.8', 'linux-6.8'),
  cpus: fc.integer({ min: 1, max: 3 }),
  lruBatchSize: fc.integer({ min: 1, max: 31 }),
  memoryPages: fc.oneof(fc.constant(0), fc.integer({ min: 1024, max: 4000 })), // system.memory is at least 4 MiB
  thp: fc.boolean(),
  swap: fc.boolean(),
  regions: fc.array(
    fc.oneof({ arbitrary: fc.integer({ min: 1, max: 2600 }), weight: 4 }, fc.integer({ min: 4000, max: 9000 })),
    { minLength: 1, maxLength: 3 },
  ),
  ops: fc.array(
    fc.record({
      kind: fc.integer({ min: 0, max: 19 }),
      a: fc.nat(),
      b: fc.nat(),
      c: fc.nat(),
      flag: fc.boolean(),
    }),
    { minLength: 1, maxLength: 24 },
  ),
  stopAt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
  explain: fc.integer({ min: 0, max: 9 }).map((x) => x < 2),
});

/** A scenario from the raw draw: mostly valid steps (a live pid, an existing region). */
function scenarioOf(g: Gen, hw: string): Scenario {
  const steps: Step[] = [{ op: 'spawn', pid: 'p', cpu: 0 }];
  if (g.cpus > 1) steps.push({ op: 'thread', pid: 'p', cpu: g.cpus - 1 });
  const regions = g.regions.map((pages, i) => ({ name: `r${i}`, pages }));
  regions.forEach((r, i) =>
    steps.push({
      op: 'mmap',
      pid: 'p',
      name: r.name,
      size: r.pages * PAGE,
      ...(i === 1 ? { advice: 'hugepage' as const } : {}),
      ...(i === 2 ? { prot: 'r' as const } : {}),
    }),
  );
  const live = ['p'];
  /** what the draw did to each region (to keep most steps valid): read-only, unmapped, uffd mode */
  const readOnly = new Set<string>(regions.length > 2 ? ['r2'] : []);
  const unmapped = new Set<string>();
  const uffd = new Map<string, 'wp' | 'missing'>();
  let children = 0;
  let phase = 0;
  for (const o of g.ops) {
    const pid = live[o.a % live.length]!;
    const r = regions[o.b % regions.length]!;
    const off = o.c % r.pages;
    const len = 1 + ((o.a >>> 3) % (r.pages - off));
    const range = { region: r.name, offset: off * PAGE, size: len * PAGE };
    const cpu = (o.c >>> 5) % g.cpus === g.cpus - 1 && g.cpus > 1 ? { cpu: g.cpus - 1 } : {};
    // mostly valid: no write to a read-only region, no touch of an unmapped one (one in 8 anyway)
    const rare = o.c % 8 === 0;
    if (unmapped.has(r.name) && o.kind !== 12 && !rare) continue;
    const canWrite = !readOnly.has(r.name) || rare;
    switch (o.kind) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
      case 5:
        // the touch of a whole region (first touch, re-touch), or of a part
        steps.push({
          op: 'touch',
          pid,
          region: r.name,
          ...(o.kind >= 3 ? { offset: off * PAGE, size: len * PAGE - (o.flag ? 100 : 0) } : {}),
          access: (o.kind % 2 === 0 || o.flag) && canWrite ? 'write' : 'read',
          ...(o.kind === 4 && o.flag ? { value: o.b } : {}),
          ...(o.kind === 5 && !o.flag ? { offset: off * PAGE + 8, size: len * PAGE - 8 } : {}),
          ...cpu,
          ...(phase < 3 && o.c % 3 === 0 ? { phase: `ph${phase++}` } : {}),
        });
        break;
      case 6:
        steps.push({
          op: 'touch',
          pid,
          region: r.name,
          access: o.flag && canWrite ? 'write' : 'read',
          ...(o.c % 2 === 0 ? { pattern: 'random' as const } : { stride: [2048, 8192, 2 * 1024 * 1024][o.c % 3]! }),
        });
        break;
      case 7:
        if (live.length < 3) {
          const child = `c${++children}`;
          steps.push({ op: 'fork', pid, child });
          live.push(child);
        }
        break;
      case 8:
        if (pid !== 'p') {
          steps.push({ op: 'exit', pid });
          live.splice(live.indexOf(pid), 1);
        }
        break;
      case 9:
        steps.push({ op: 'madvise', pid, ...range, advice: 'dontneed' });
        break;
      case 10:
        steps.push({ op: 'madvise', pid, ...range, advice: o.flag ? 'pageout' : 'cold' });
        break;
      case 11:
        if (r.name === 'r2' && !rare) break;
        steps.push({ op: 'mprotect', pid, ...range, prot: o.flag ? 'r' : 'rw' });
        if (o.flag) readOnly.add(r.name);
        else if (off === 0 && len === r.pages) readOnly.delete(r.name);
        break;
      case 12:
        if (pid !== 'p') break;
        if (!unmapped.has(r.name)) {
          steps.push({ op: 'munmap', pid, region: r.name });
          unmapped.add(r.name);
        } else {
          steps.push({ op: 'mmap', pid, name: r.name, size: r.pages * PAGE });
          unmapped.delete(r.name);
          readOnly.delete(r.name);
          uffd.delete(r.name);
        }
        break;
      case 13:
        if (uffd.has(r.name) || pid !== 'p') break;
        steps.push({ op: 'uffdRegister', pid, region: r.name, mode: o.flag ? 'missing' : 'wp' });
        uffd.set(r.name, o.flag ? 'missing' : 'wp');
        break;
      case 14:
        if (uffd.get(r.name) !== 'missing' && !rare) break;
        steps.push({ op: 'uffdCopy', pid, ...range });
        break;
      case 15:
        if (uffd.get(r.name) !== 'wp' && !rare) break;
        steps.push({ op: 'uffdWriteProtect', pid, ...range, enable: o.flag });
        break;
      case 16:
        steps.push({
          op: 'access',
          pid,
          region: r.name,
          offset: off * PAGE,
          access: o.flag && canWrite ? 'write' : 'read',
        });
        break;
      case 17:
        steps.push({ op: 'drain', ...cpu });
        break;
      case 18:
        steps.push({ op: 'pin', pid, ...range, write: o.flag, id: `pin${o.a % 2}` });
        break;
      default:
        steps.push({
          op: 'repeat',
          times: 1 + (o.c % 3),
          steps: [{ op: 'touch', pid, ...range, access: o.flag && canWrite ? 'write' : 'read' }],
        });
    }
  }
  return {
    name: 'range-random',
    seed: 7,
    system: {
      hardware: hw,
      hardwareOptions: { cpus: g.cpus },
      kernel: g.kernel,
      lruBatchSize: g.lruBatchSize,
      ...(g.memoryPages > 0 ? { memory: `${g.memoryPages * 4}KiB` } : {}),
      ...(g.swap ? { swap: { size: '8MiB', synchronousIo: g.lruBatchSize % 2 === 0 } } : {}),
      thp: { top: g.thp ? 'always' : 'never' },
      ...(g.thp && g.lruBatchSize % 3 === 0 ? { policies: ['@mmsim/policy-large-folio'] } : {}),
    },
    steps,
  } as Scenario;
}

const RUNS = 150;
const HARDWARE = ['flat', 'x86', 'arm64'];

describe('range fast path = per-page path on random scenarios', () => {
  let comparisons = 0;
  let rangePages = 0;
  let faults = 0;
  for (const [hw, bare] of HARDWARE.flatMap((h) => [[h, false] as const, [h, true] as const])) {
    it(`${RUNS} random scenarios on ${hw}${bare ? ', bare system (no preset, no policy)' : ''}`, async () => {
      await fc.assert(
        fc.asyncProperty(gen, async (g) => {
          const sc = scenarioOf(g, hw);
          const stop = g.stopAt > 0 ? g.stopAt : undefined;
          const on = await runObject(sc, true, stop, g.explain, bare);
          const off = await runObject(sc, false, stop, g.explain, bare);
          expect(on.error).toBe(off.error);
          expect(on.progress).toEqual(off.progress);
          expect(on.state).toEqual(off.state);
          expect(on.document).toEqual(off.document);
          expect(off.rangePages).toBe(0);
          comparisons++;
          rangePages += on.rangePages;
          faults += on.faults;
        }),
        { numRuns: RUNS, seed: 20261203 + 2 * HARDWARE.indexOf(hw) + (bare ? 1 : 0), endOnFailure: true },
      );
    }, 300_000);
  }
  it('the range path ran on the random corpus', () => {
    expect(comparisons).toBe(2 * RUNS * HARDWARE.length);
    expect(faults).toBeGreaterThan(0);
    expect(rangePages).toBeGreaterThan(1000);
  });
});
