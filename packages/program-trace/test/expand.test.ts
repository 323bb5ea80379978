import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSystem, FlatHardware, runScenario, ScenarioError, ScenarioSchema, type Scenario } from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import { expandReplaySteps } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** an `accesses` ref: page `page` of the batch's region `ri`, a write when `w` is 1 */
const ref = (page: number, w: 0 | 1, ri = 0) => (page * 2 + w) * 256 + ri;
const opts = { baseDir: path.join(here, 'fixtures'), file: 'sc.json', cpus: 2 };

async function expand(steps: unknown[]) {
  const sc = ScenarioSchema.parse({ name: 'sc', steps }) as Scenario;
  return expandReplaySteps(sc, opts);
}
function run(sc: Scenario, cpus = 2) {
  const sys = createSystem({ hardware: new FlatHardware(cpus), policies: [], presetPlugins: [], config: {} });
  return runScenario(sys, sc);
}

describe('the replay step: expandReplaySteps()', () => {
  it('into a process the scenario spawned: no spawn, a repeat at the same path, then a synthetic fork after it', async () => {
    const { scenario, replays } = await expand([
      { op: 'spawn', pid: 'app' },
      { op: 'replay', trace: 'replay.mmtrace.jsonl', pid: 'app' },
      // a synthetic fork after the trace: the child shares the replayed pages
      { op: 'fork', pid: 'app', child: 'c' },
      { op: 'touch', pid: 'c', region: 'm100000', offset: 8192, size: 4096, access: 'write' },
      {
        op: 'pagemap',
        pid: 'c',
        region: 'm100000',
        offset: 8192,
        size: 4096,
        expect: { present: true, exclusive: true },
      },
    ]);
    const body = scenario.steps[1] as { op: string; times: number; steps: Record<string, unknown>[] };
    expect(body.op).toBe('repeat');
    expect(body.times).toBe(1);
    expect(body.steps[0]).toEqual({ op: 'mmap', pid: 'app', name: 'm100000', size: 16384 });
    expect(body.steps.some((s) => s.op === 'spawn')).toBe(false);
    expect(replays).toEqual([
      {
        step: 'steps[1]',
        trace: 'replay.mmtrace.jsonl',
        pid: 'app',
        records: 17,
        steps: 12,
        counters: { replay_repeats: 2, replay_unmapped_accesses: 1, replay_file_mappings: 1 },
        warnings: [
          'an access outside every traced mapping: skipped (counted in replay_unmapped_accesses)',
          "a file mapping: replayed over a scenario file named by the path, as large as the trace maps of it, in the page cache from the start; its contents are a hash of the name, not the file's (counted in replay_file_mappings)",
        ],
      },
    ]);
    const r = run(scenario);
    // the trace's 8 faults (replay.test.ts), then c's CoW fault of the page app wrote
    expect((r.total.counters as Record<string, number>).pgfault).toBe(9);
    expect((r.total.counters as Record<string, number>).cow_copy).toBe(2);
    expect(r.checks).toMatchObject({ passed: 1, failed: 0 });
  });

  it('without pid: the trace spawns its own process (p<pid>); a second replay into one process names its regions r2.m…', async () => {
    const { scenario, replays } = await expand([
      { op: 'replay', trace: 'replay.mmtrace.jsonl' },
      { op: 'spawn', pid: 'b' },
      { op: 'replay', trace: 'replay.mmtrace.jsonl', pid: 'b' },
      { op: 'replay', trace: 'replay.mmtrace.jsonl', pid: 'b' },
    ]);
    const bodies = scenario.steps.map((s) => (s as { steps?: Record<string, unknown>[] }).steps ?? []);
    expect(bodies[0]![0]).toEqual({ op: 'spawn', pid: 'p7', cpu: 0 });
    expect(bodies[2]![0]).toEqual({ op: 'mmap', pid: 'b', name: 'm100000', size: 16384 });
    expect(bodies[3]![0]).toEqual({ op: 'mmap', pid: 'b', name: 'r2.m100000', size: 16384 });
    expect(replays.map((x) => x.pid)).toEqual(['p7', 'b', 'b']);
    // p7's 8 faults; b's first replay 8; the second (same trace addresses, fresh regions) 8 more
    expect((run(scenario).total.counters as Record<string, number>).pgfault).toBe(24);
  });

  it('threads (clone) get CPUs round robin, a cpu record adds a thread there; mremap moves and shrinks (contents kept)', async () => {
    const { scenario, replays } = await expand([
      { op: 'replay', trace: 'threads.mmtrace.jsonl', pid: 't' },
      { op: 'pagemap', pid: 't', region: 'm2000000', size: '8KiB', expect: { present: true } },
    ]);
    const body = (scenario.steps[0] as { steps: Record<string, unknown>[] }).steps;
    expect(body).toEqual([
      { op: 'spawn', pid: 't', cpu: 0 },
      { op: 'mmap', pid: 't', name: 'm100000', size: 16384 },
      { op: 'accesses', pid: 't', regions: ['m100000'], refs: [ref(0, 1)] },
      { op: 'thread', pid: 't', cpu: 1 },
      { op: 'accesses', pid: 't', cpu: 1, regions: ['m100000'], refs: [ref(1, 1)] },
      {
        op: 'mremap',
        pid: 't',
        region: 'm100000',
        offset: 0,
        size: 16384,
        newSize: 32768,
        mayMove: true,
        to: 'm2000000',
      },
      { op: 'accesses', pid: 't', cpu: 1, regions: ['m2000000'], refs: [ref(0, 0)] },
      { op: 'accesses', pid: 't', regions: ['m2000000'], refs: [ref(4, 1)] },
      { op: 'mremap', pid: 't', region: 'm2000000', offset: 0, size: 32768, newSize: 8192 },
      // the read of page 4 is past the shrunk end: skipped; the thread's exit is not modelled;
      // cpu 3 % 2 = 1 has a thread already
      { op: 'accesses', pid: 't', cpu: 1, regions: ['m2000000'], refs: [ref(1, 1)] },
    ]);
    expect(replays[0]!.counters).toEqual({ replay_threads: 1, replay_unmapped_accesses: 1, replay_thread_exits: 1 });
    const r = run(scenario);
    const c = r.total.counters as Record<string, number>;
    // writes of pages 0 and 1; after the move, page 0 is there (no fault), page 4 of the grown
    // part faults, page 1 after the shrink is there: 3 faults
    expect(c.pgfault).toBe(3);
    expect(r.checks).toMatchObject({ passed: 2, failed: 0 });
  });

  it("phase and phaseAtFork: the replay starts a phase, and the trace's first fork another", async () => {
    const { scenario } = await expand([
      { op: 'replay', trace: 'replay.mmtrace.jsonl', phase: 'load', phaseAtFork: ['snapshot'] },
    ]);
    const body = (scenario.steps[0] as { steps: Record<string, unknown>[] }).steps;
    const at = body.findIndex((s) => s.op === 'fork');
    expect(body[at - 1]).toEqual({ op: 'phase', name: 'snapshot' });
    const r = run(scenario);
    expect(Object.keys(r.phases)).toEqual(['load', 'snapshot']);
    const c = (p: string) => r.phases[p]!.counters as Record<string, number>;
    // before the fork: 256 written, 257 read then written (zero page, then its CoW)
    expect(c('load').pgfault).toBe(3);
    expect(c('snapshot').pgfault).toBe(5);
    expect(c('snapshot').fork_pte_copy).toBe(2);
    // phaseAfterFork: the fork alone in its phase
    const two = await expand([
      { op: 'replay', trace: 'replay.mmtrace.jsonl', phaseAtFork: ['fork'], phaseAfterFork: ['after'] },
    ]);
    const r2 = run(two.scenario);
    expect(Object.keys(r2.phases)).toEqual(['main', 'fork', 'after']);
    expect(r2.phases.fork!.steps).toBe(2); // its phase step and the fork
    expect((r2.phases.fork!.counters as Record<string, number>).fork_pte_copy).toBe(2);
    expect((r2.phases.after!.counters as Record<string, number>).pgfault).toBe(5);
  });

  it('a missing or malformed trace is a ScenarioError naming the step and the trace field', async () => {
    const missing = await expand([
      { op: 'spawn', pid: 'a' },
      { op: 'replay', trace: 'nope.jsonl' },
    ]).catch((e) => e);
    expect(missing).toBeInstanceOf(ScenarioError);
    expect(missing).toMatchObject({ file: 'sc.json', where: 'steps[1]', field: 'trace' });
    expect(String(missing.message)).toContain('(ENOENT)');
    const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-expand-'));
    const file = path.join(dir, 'bad.jsonl');
    writeFileSync(file, '{"mmtrace":1,"cmd":["x"],"pageSize":4096}\n{"t":"access","pid":1,"page":-1}\n');
    const bad = await expand([{ op: 'replay', trace: file }]).catch((e) => e);
    rmSync(dir, { recursive: true });
    expect(bad).toBeInstanceOf(ScenarioError);
    expect(bad).toMatchObject({ where: 'steps[0]', field: 'trace' });
    expect(String(bad.message)).toContain('line 2 field "page"');
  });

  it('a trace process named like a scenario process needs a pid', async () => {
    const e = await expand([
      { op: 'spawn', pid: 'p7' },
      { op: 'replay', trace: 'replay.mmtrace.jsonl' },
    ]).catch((x) => x);
    expect(e).toMatchObject({ where: 'steps[1]', field: 'pid' });
  });

  it('the runner refuses an unexpanded replay step (exit 2 naming it)', () => {
    const sc = ScenarioSchema.parse({ name: 'sc', steps: [{ op: 'replay', trace: 't.mmtrace' }] }) as Scenario;
    expect(() => run(sc)).toThrow(/steps\[0\].*trace.*expanded/);
  });
});
