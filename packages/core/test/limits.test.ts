import { describe, expect, it } from 'vitest';
import {
  arm64TaskSize,
  checkCpus,
  countSteps,
  countWork,
  createSystem,
  DEFAULT_MAX_STEPS,
  FlatHardware,
  MAX_CPUS,
  runScenario,
  ScenarioSchema,
  X86_64_TASK_SIZE,
  type MmSystem,
} from '../src/index.js';
import { mmapBasePages } from '../src/kernel/unmapped-area.js';
import { runError, runSys } from './helpers.js';

const TiB = 2 ** 40;

/** flat hardware with arm64's 48-bit address space */
class Wide extends FlatHardware {
  readonly taskSize = arm64TaskSize(48);
}

function runOn(sys: MmSystem, steps: unknown[]) {
  return runScenario(sys, ScenarioSchema.parse({ name: 'limits', steps }), { file: 'limits.yaml' });
}

const spawn = { op: 'spawn', pid: 'p' };
const mmap = (name: string, size: number | string) => ({ op: 'mmap', pid: 'p', name, size });

describe('cpus: one rule for every hardware model', () => {
  it('is an integer from 1 to MAX_CPUS (4096)', () => {
    expect(MAX_CPUS).toBe(4096);
    expect(checkCpus(undefined, 2)).toBe(2);
    expect(checkCpus(4096, 2)).toBe(4096);
    expect(() => checkCpus(10000, 2)).toThrow('option "cpus" must be an integer from 1 to 4096 (NR_CPUS), got 10000');
    expect(() => checkCpus(0, 2)).toThrow('got 0');
    expect(() => checkCpus(1.5, 2)).toThrow('got 1.5');
    expect(() => checkCpus('8', 2)).toThrow('got "8"');
  });

  it('FlatHardware applies it', () => {
    expect(new FlatHardware(4096).ncpus).toBe(4096);
    expect(() => new FlatHardware(10000)).toThrow(
      'option "cpus" must be an integer from 1 to 4096 (NR_CPUS), got 10000',
    );
    expect(() => new FlatHardware(0)).toThrow('got 0');
  });
});

describe('address space: mmap and mremap that do not fit are ENOMEM', () => {
  it('mmap_base is 0x7f00_0000_0000 below x86-64 TASK_SIZE_MAX, 0xff00_0000_0000 below arm64 48-bit', () => {
    expect(X86_64_TASK_SIZE).toBe(0x7fff_ffff_f000);
    expect(mmapBasePages(X86_64_TASK_SIZE) * 4096).toBe(0x7f00_0000_0000);
    expect(mmapBasePages(arm64TaskSize(48)) * 4096).toBe(0xff00_0000_0000);
    // a small address space: the gap is at most 5/6 of it (MAX_GAP)
    expect(mmapBasePages(2 ** 39) * 4096).toBe(0x15_5540_0000);
  });

  it('an mmap larger than TASK_SIZE names the step, "size" and the size', () => {
    const e = runError({ name: 'pib', steps: [spawn, mmap('r', 1024 * TiB)] });
    expect(e.message).toBe(
      'test.json: steps[1] field "size": ENOMEM: 1 PiB (1125899906842624 bytes) does not fit in the flat user address space (TASK_SIZE 0x7ffffffff000, 128 TiB)',
    );
  });

  it('an mmap that fits TASK_SIZE but not the room left below mmap_base', () => {
    const { r, sys } = runSys({ name: 'ok', steps: [spawn, mmap('a', '100TiB')] });
    expect(r.total.steps).toBe(2);
    const a = sys.kernel.procs.get('p')!.mm.vmas[0]!;
    expect(a.start * 4096).toBe(0x7f00_0000_0000 - 100 * TiB);
    const e = runError({ name: 'twice', steps: [spawn, mmap('a', '100TiB'), mmap('b', '30TiB')] });
    // a starts at 27 TiB; the next mapping goes one PMD lower, and nothing maps below 64 KiB
    expect(27 * TiB - 2 ** 21 - 65536).toBe(29686811787264);
    expect(e.message).toBe(
      'test.json: steps[2] field "size": ENOMEM: no free range of 30 TiB (32985348833280 bytes) in the flat user address space: 27 TiB (29686811787264 bytes) left below 0x1affffe00000 (aligned to 2 MiB)',
    );
  });

  it('a hardware with a 48-bit TASK_SIZE (arm64) maps 200 TiB; x86-sized flat does not', () => {
    const sys = createSystem({ hardware: new Wide(2) });
    const r = runOn(sys, [spawn, mmap('big', '200TiB')]);
    expect(r.total.steps).toBe(2);
    expect(sys.kernel.procs.get('p')!.mm.vmas[0]!.start * 4096).toBe(0xff00_0000_0000 - 200 * TiB);
    expect(() => runOn(createSystem({ hardware: new FlatHardware(2) }), [spawn, mmap('big', '200TiB')])).toThrow(
      'limits.yaml: steps[1] field "size": ENOMEM: 200 TiB (219902325555200 bytes) does not fit in the flat user address space',
    );
  });

  it('an mremap with no room left is ENOMEM on "size" and leaves the mapping as it was', () => {
    const sys = createSystem({ hardware: new FlatHardware(2) });
    const steps = [
      spawn,
      mmap('a', '100TiB'),
      { op: 'touch', pid: 'p', region: 'a', size: '8KiB', access: 'write', value: 5 },
      { op: 'mremap', pid: 'p', region: 'a', to: 'b' },
    ];
    expect(() => runOn(sys, steps)).toThrow(
      'limits.yaml: steps[3] field "size": ENOMEM: no free range of 100 TiB (109951162777600 bytes) in the flat user address space',
    );
    const mm = sys.kernel.procs.get('p')!.mm;
    expect(mm.vmas.map((v) => [v.start * 4096, v.pages * 4096])).toEqual([[0x7f00_0000_0000 - 100 * TiB, 100 * TiB]]);
  });

  it('an access at or above TASK_SIZE is an error on "addr"', () => {
    const e = runError({
      name: 'high',
      steps: [spawn, { op: 'access', pid: 'p', addr: '0x800000000000', access: 'read' }],
    });
    expect(e.message).toBe(
      'test.json: steps[1] field "addr": 0x800000000000 is beyond the flat user address space (TASK_SIZE 0x7ffffffff000)',
    );
    const huge = runError({
      name: 'huge',
      steps: [spawn, { op: 'access', pid: 'p', addr: '0xffffffffffffffff', access: 'read' }],
    });
    expect(huge.message).toContain('steps[1] field "addr": 0xffffffffffffffff is beyond');
  });
});

const drain = { op: 'drain' };
const rep = (times: number, steps: unknown[]) => ({ op: 'repeat', times, steps });

describe('the step budget', () => {
  const flat = () => createSystem({ hardware: new FlatHardware(2) });
  const parse = (steps: unknown[], limits?: unknown) =>
    ScenarioSchema.parse({ name: 'budget', ...(limits ? { limits } : {}), steps });

  it('counts leaf steps with repeats multiplied out', () => {
    expect(countSteps(parse([spawn, rep(10 ** 12, [drain, rep(3, [drain])])]).steps)).toBe(4 * 10 ** 12 + 1);
    expect(DEFAULT_MAX_STEPS).toBe(1e9);
  });

  it('a repeat of 10^12 is refused before any step runs, naming its "times" and the count', () => {
    const sys = flat();
    expect(() => runScenario(sys, parse([spawn, rep(10 ** 12, [drain])]), { file: 'b.yaml' })).toThrow(
      'b.yaml: steps[1] field "times": the scenario runs 1000000000001 leaf steps (repeats multiplied out), more than the step budget of 1000000000 (the default; raise it with limits.maxSteps)',
    );
    expect(sys.kernel.procs.size).toBe(0);
  });

  it('names the leaf step past the budget, inside a repeat whose first round passes it', () => {
    const steps = [spawn, rep(2, [drain, drain, rep(1, [drain, drain])])];
    expect(() => runScenario(flat(), parse(steps), { file: 'b.yaml', maxSteps: 3 })).toThrow(
      'b.yaml: steps[1].steps[2].steps[0]: the scenario runs 9 leaf steps (repeats multiplied out), more than the step budget of 3 (RunOptions.maxSteps)',
    );
    expect(() =>
      runScenario(flat(), parse(steps), { file: 'b.yaml', maxSteps: 8, maxStepsFrom: '--max-steps' }),
    ).toThrow(
      'b.yaml: steps[1] field "times": the scenario runs 9 leaf steps (repeats multiplied out), more than the step budget of 8 (--max-steps)',
    );
    expect(runScenario(flat(), parse(steps), { maxSteps: 9 }).total.steps).toBe(9);
  });

  it('limits.maxSteps of the scenario; RunOptions.maxSteps overrides it', () => {
    const sc = parse([spawn, drain, drain], { maxSteps: 2 });
    expect(() => runScenario(flat(), sc, { file: 'b.yaml' })).toThrow(
      'b.yaml: steps[2]: the scenario runs 3 leaf steps (repeats multiplied out), more than the step budget of 2 (limits.maxSteps)',
    );
    expect(runScenario(flat(), sc, { maxSteps: 3 }).total.steps).toBe(3);
    expect(() => parse([spawn], { maxSteps: 0 })).toThrow();
    expect(() => parse([spawn], { maxSteps: 1.5 })).toThrow();
    expect(() => parse([spawn], { maxStep: 1 })).toThrow();
    expect(() => runScenario(flat(), parse([spawn]), { maxSteps: 0 })).toThrow(
      'RunOptions.maxSteps must be a positive integer, got 0',
    );
  });

  it('a repeat of a body without leaf steps runs it once: 10^12 rounds end at once', () => {
    const r = runScenario(flat(), parse([spawn, rep(10 ** 12, [rep(0, [drain]), rep(5, [])])]));
    expect(r.total.steps).toBe(1);
  });
});

describe('progress in work units and interruption inside a touch', () => {
  const steps = [spawn, mmap('buf', '64MiB'), { op: 'touch', pid: 'p', region: 'buf', access: 'read' }];

  it('counts leaf steps plus the pages a touch visits, reported every 4096 pages', () => {
    const sc = ScenarioSchema.parse({ name: 'work', steps });
    expect(countWork(sc.steps)).toBe(3 + 16384);
    const calls: Array<[number, number]> = [];
    runScenario(createSystem({ hardware: new FlatHardware(2) }), sc, { onProgress: (d, t) => calls.push([d, t]) });
    // 2 steps done, then the touch: 4095 pages before the poll at page 4095, 4096 per poll after, the last page at its end
    expect(calls).toEqual([
      [2 + 4095, 16387],
      [2 + 8191, 16387],
      [2 + 12287, 16387],
      [2 + 16383, 16387],
      [2 + 16384, 16387],
      [3 + 16384, 16387],
    ]);
  });

  it('work follows regions through repeats, strides, offsets, fork and mremap', () => {
    const sc = ScenarioSchema.parse({
      name: 'work',
      steps: [
        spawn,
        mmap('a', '64KiB'),
        rep(3, [{ op: 'touch', pid: 'p', region: 'a', access: 'write', stride: '8KiB' }]),
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'touch', pid: 'c', region: 'a', offset: '16KiB', access: 'read' },
        { op: 'mremap', pid: 'p', region: 'a', size: '32KiB', to: 'b' },
        { op: 'touch', pid: 'p', region: 'b', access: 'read' },
      ],
    });
    // 7 leaf steps (3 rounds of the first touch) + 3 x 8 + 12 + 8 pages
    expect(countWork(sc.steps)).toBe(9 + 24 + 12 + 8);
  });

  it('shouldStop is polled inside a touch: the run stops after 4095 pages', () => {
    const sc = ScenarioSchema.parse({ name: 'stop', steps });
    let polls = 0;
    const r = runScenario(createSystem({ hardware: new FlatHardware(2) }), sc, {
      shouldStop: () => ++polls === 3, // after spawn, after mmap, then the first poll in the touch
    });
    expect(r.interrupted).toBe(true);
    expect(r.incomplete).toBe(true);
    expect(r.total.steps).toBe(2);
    expect(r.total.counters.pgfault).toBe(4095);
  });
});

describe('a random touch too big to permute', () => {
  it('is an error on "pattern" before any page is touched', () => {
    const sys = createSystem({ hardware: new FlatHardware(2) });
    const steps = [
      spawn,
      mmap('buf', '2TiB'),
      { op: 'touch', pid: 'p', region: 'buf', access: 'read', pattern: 'random' },
    ];
    expect(() => runOn(sys, steps)).toThrow(
      'limits.yaml: steps[2] field "pattern": a random order of 536870912 visits needs a 2 GiB permutation; at most 268435456 visits (1 TiB at a 4 KiB stride)',
    );
    // no page was read: the read would have allocated the PTE table under it
    expect(sys.kernel.procs.get('p')!.mm.pgtablesBytes).toBe(0);
  });
});
