import { describe, expect, it } from 'vitest';
import {
  createSystem,
  FlatHardware,
  runScenario,
  ScenarioError,
  ScenarioSchema,
  type KernelConfig,
  type MemcgConfig,
  type RunResult,
} from '../src/index.js';
import { C } from '../src/stats/counters.js';

type Config = Partial<Omit<KernelConfig, 'features' | 'swap' | 'vm'>> & {
  features?: Partial<KernelConfig['features']>;
  swap?: Partial<KernelConfig['swap']>;
};
const P = 4096;
const INF = Number.POSITIVE_INFINITY;
const cg = (o: Partial<MemcgConfig> = {}, name = 'redis'): MemcgConfig => ({
  name,
  max: INF,
  high: INF,
  swapMax: INF,
  ...o,
});
function system(config: Config) {
  return createSystem({ hardware: new FlatHardware(1), config });
}
function run(config: Config, steps: unknown[]): RunResult {
  return runScenario(system(config), ScenarioSchema.parse({ name: 't', steps }));
}
/** spawn "r" in `cgroup`, write `n` pages */
const fill = (n: number, cgroup: string | null = 'redis') => [
  { op: 'phase', name: 'x' },
  { op: 'spawn', pid: 'r', ...(cgroup === null ? {} : { cgroup }) },
  { op: 'mmap', pid: 'r', name: 'd', size: n * P },
  { op: 'touch', pid: 'r', region: 'd', access: 'write' },
];
const files = (r: RunResult, name = 'redis', ph = 'x') => r.phases[ph]!.meminfo.cgroups![name]!;

describe('memcg charging (mem_cgroup_charge(), memcg kmem for page tables, uncharge at free)', () => {
  it('100 written pages and 3 page-table pages are charged to the cgroup; exit uncharges them all', () => {
    const r = run({ cgroups: [cg()] }, [...fill(100), { op: 'phase', name: 'y' }, { op: 'exit', pid: 'r' }]);
    const x = files(r);
    expect(x['memory.current']).toBe(103 * P);
    expect(x['memory.swap.current']).toBe(0);
    expect(x['memory.max']).toBe('max');
    expect(x['memory.stat']).toMatchObject({ anon: 100 * P, pagetables: 3 * P, pgfault: 100, pgscan: 0 });
    // 93 on the inactive list, 7 still in the CPU's lru_add batch (31 per batch)
    expect(x['memory.stat'].inactive_anon).toBe(93 * P);
    const y = files(r, 'redis', 'y');
    expect(y['memory.current']).toBe(0);
    expect(y['memory.stat']).toMatchObject({ anon: 0, pagetables: 0, inactive_anon: 0 });
  });
  it('a process outside any cgroup (the root) is not charged', () => {
    const r = run({ cgroups: [cg()] }, fill(100, null));
    expect(files(r)['memory.current']).toBe(0);
    expect(files(r)['memory.stat'].pgfault).toBe(0);
  });
  it('without system.cgroups the output has no cgroups field', () => {
    const r = run({}, fill(10, null));
    expect(r.phases.x!.meminfo.cgroups).toBeUndefined();
    expect('cgroups' in r.phases.x!.meminfo).toBe(false);
  });
  it('fork: the child inherits the cgroup; the CoW copies of its writes are charged there', () => {
    const r = run({ cgroups: [cg(), cg({}, 'other')] }, [
      ...fill(10),
      { op: 'fork', pid: 'r', child: 'c' },
      { op: 'phase', name: 'cow' },
      { op: 'touch', pid: 'c', region: 'd', access: 'write' },
    ]);
    // after fork: 10 pages, the parent's 3 tables and the child's 3 (copy_page_range)
    expect(files(r)['memory.current']).toBe(16 * P);
    expect(r.phases.cow!.counters.cow_copy).toBe(10);
    expect(files(r, 'redis', 'cow')['memory.current']).toBe(26 * P);
    expect(files(r, 'redis', 'cow')['memory.stat'].anon).toBe(20 * P);
    expect(files(r, 'other', 'cow')['memory.current']).toBe(0);
  });
  it('an unknown cgroup is bad input naming the step and the field', () => {
    let err: unknown;
    try {
      run({ cgroups: [cg()] }, fill(1, 'nope'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as ScenarioError).where).toBe('steps[1]');
    expect((err as ScenarioError).field).toBe('cgroup');
    expect((err as ScenarioError).message).toContain('unknown cgroup "nope" (system.cgroups declares "redis")');
  });
});

describe('memory.max: try_charge_memcg() → try_to_free_mem_cgroup_pages(), then the memcg OOM killer', () => {
  it('128 pages written in a 64-page cgroup: limit reclaim swaps within the cgroup, not in /proc/vmstat pgscan', () => {
    const r = run({ cgroups: [cg({ max: 64 })] }, fill(128));
    const x = files(r);
    const c = r.phases.x!.counters;
    // each reclaim frees SWAP_CLUSTER_MAX (32) or more; 101 pages went to swap (and stay charged there)
    expect(x['memory.current']).toBe(30 * P);
    expect(x['memory.current']).toBeLessThanOrEqual(64 * P);
    expect(x['memory.swap.current']).toBe(101 * P);
    expect(x['memory.stat']).toMatchObject({
      anon: 27 * P,
      pagetables: 3 * P,
      pgscan: 210,
      pgscan_direct: 210,
      pgsteal: 101,
      pgsteal_direct: 101,
      pgscan_kswapd: 0,
    });
    expect(x['memory.events']).toEqual({ low: 0, high: 0, max: 4, oom: 0, oom_kill: 0 });
    expect(c.pswpout).toBe(101);
    // cgroup reclaim is not counted in the global pgscan / pgsteal or allocstall
    expect(c.pgscan_direct ?? 0).toBe(0);
    expect(c.pgsteal_direct ?? 0).toBe(0);
    expect(c.allocstall_normal ?? 0).toBe(0);
  });
  it('reading the pages back: swap-ins are charged to the cgroup again (the slot records it)', () => {
    const r = run({ cgroups: [cg({ max: 64 })] }, [
      ...fill(128),
      { op: 'phase', name: 'y' },
      { op: 'touch', pid: 'r', region: 'd', access: 'read' },
    ]);
    const y = files(r, 'redis', 'y');
    expect(y['memory.current']).toBeLessThanOrEqual(64 * P);
    expect(y['memory.stat'].pgmajfault).toBe(r.phases.y!.counters.pgmajfault);
    expect(y['memory.stat'].pgmajfault).toBeGreaterThan(0);
    // the cgroup's refaults are the node's: nothing else swaps
    expect(y['memory.stat'].workingset_refault_anon).toBe(r.phases.y!.counters.workingset_refault_anon);
    expect(y['memory.swap.current']).toBe((r.phases.y!.meminfo.SwapTotal - r.phases.y!.meminfo.SwapFree) * 1024);
  });
  it('no swap: the memcg OOM killer ends the run (exit 1 in the CLI), naming the cgroup; oom and oom_kill', () => {
    const sys = system({ cgroups: [cg({ max: 64 })], swap: { slots: 0 } });
    let err: unknown;
    try {
      runScenario(sys, ScenarioSchema.parse({ name: 't', steps: fill(128) }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as ScenarioError).outOfMemory).toBe(true);
    expect((err as ScenarioError).message).toContain('steps[3]: op touch: out of memory in cgroup "redis"');
    expect((err as ScenarioError).message).toContain('the OOM killer picked "r"');
    const m = sys.kernel.memcgs[1]!;
    expect(m.memory).toBe(64);
    expect([...m.events]).toEqual([0, 0, 1, 1, 1]);
    expect(sys.stats.v[C.oom_kill]).toBe(1);
  });
  it('memory.swap.max: swap charges stop at the limit, then the memcg OOM killer', () => {
    const sys = system({ cgroups: [cg({ max: 64, swapMax: 40 })] });
    expect(() => runScenario(sys, ScenarioSchema.parse({ name: 't', steps: fill(128) }))).toThrow(
      /out of memory in cgroup "redis"/,
    );
    expect(sys.kernel.memcgs[1]!.swap).toBe(40);
  });
});

describe('memory.high: mem_cgroup_handle_over_high() on the way back to user', () => {
  it('over memory.high by more than MEMCG_CHARGE_BATCH the charge reclaims; no OOM, memory.events high', () => {
    const r = run({ cgroups: [cg({ high: 64 })] }, fill(128));
    const x = files(r);
    expect(x['memory.high']).toBe(64 * P);
    expect(x['memory.current']).toBeLessThanOrEqual(64 * P);
    expect(x['memory.events'].max).toBe(0);
    expect(x['memory.events'].high).toBeGreaterThan(0);
    expect(x['memory.stat'].pgsteal_direct).toBe(r.phases.x!.counters.pswpout);
  });
});

describe('global reclaim walks every memcg (shrink_node_memcgs())', () => {
  it('kswapd scans the cgroup lruvec and the root one; memory.stat pgscan_kswapd is the cgroup part', () => {
    const r = run({ memoryPages: 1024 * 6, cgroups: [cg()] }, [
      { op: 'phase', name: 'x' },
      { op: 'spawn', pid: 'a' },
      { op: 'mmap', pid: 'a', name: 'd', size: 3000 * P },
      { op: 'touch', pid: 'a', region: 'd', access: 'write' },
      { op: 'spawn', pid: 'r', cgroup: 'redis' },
      { op: 'mmap', pid: 'r', name: 'd', size: 4000 * P },
      { op: 'touch', pid: 'r', region: 'd', access: 'write' },
    ]);
    const c = r.phases.x!.counters;
    const x = files(r)['memory.stat'];
    // the node's reclaim, both lruvecs: 1259 pages swapped out
    expect([c.pgscan_kswapd, c.pgscan_direct, c.pgsteal_kswapd, c.pgsteal_direct, c.pswpout]).toEqual([
      1273, 5958, 1187, 72, 1259,
    ]);
    // the cgroup's share of it (its lruvec is walked after the root's)
    expect(x).toMatchObject({ pgscan_kswapd: 681, pgscan_direct: 2965, pgsteal_kswapd: 637, pgsteal_direct: 37 });
    expect(x.pgscan).toBe(681 + 2965);
    expect(x.pgsteal).toBe(674);
    expect(files(r)['memory.swap.current']).toBe(674 * 4096);
  });
});
