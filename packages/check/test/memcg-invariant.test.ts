import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema } from '@mmsim/core';
import { resolvePreset } from '@mmsim/presets';
import { checkInvariants } from '../src/index.js';

const P = 4096;
const INF = Number.POSITIVE_INFINITY;

/** Two cgroups, one over its memory.max (reclaim to swap), a fork with CoW writes, swap-ins, MADV_PAGEOUT. */
function busy(kernel: string) {
  const { config, plugins } = resolvePreset(kernel);
  const sys = createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: plugins,
    config: {
      ...config,
      memoryPages: 4096,
      cgroups: [
        { name: 'redis', max: 96, high: INF, swapMax: INF },
        { name: 'web', max: INF, high: 80, swapMax: INF },
      ],
    } as never,
  });
  const steps = [
    { op: 'spawn', pid: 'r', cgroup: 'redis' },
    { op: 'mmap', pid: 'r', name: 'd', size: 160 * P },
    { op: 'touch', pid: 'r', region: 'd', access: 'write' },
    { op: 'fork', pid: 'r', child: 'bg' },
    { op: 'touch', pid: 'r', region: 'd', size: 40 * P, access: 'write', value: 5 },
    { op: 'touch', pid: 'bg', region: 'd', access: 'read' },
    { op: 'spawn', pid: 'w', cgroup: 'web', cpu: 1 },
    { op: 'mmap', pid: 'w', name: 'd', size: 120 * P },
    { op: 'touch', pid: 'w', region: 'd', access: 'write', cpu: 1 },
    { op: 'madvise', pid: 'w', region: 'd', size: 16 * P, advice: 'pageout', cpu: 1 },
    { op: 'spawn', pid: 'root' },
    { op: 'mmap', pid: 'root', name: 'd', size: 50 * P },
    { op: 'touch', pid: 'root', region: 'd', access: 'write' },
  ];
  runScenario(sys, ScenarioSchema.parse({ name: 't', steps }));
  return sys.kernel;
}

describe('invariant: per-cgroup charges equal the folios, page tables and swap slots charged to each', () => {
  it.each(['linux-5.9', 'linux-6.18'])('%s: a busy state with two cgroups is sound', (kernel) => {
    const k = busy(kernel);
    expect(k.memcgs[1]!.swap).toBeGreaterThan(0);
    expect(k.memcgs[1]!.memory).toBeLessThanOrEqual(96);
    expect(checkInvariants(k)).toEqual([]);
  });
  it('a lost uncharge is caught (memory.current, anon), and a lost swap uncharge', () => {
    const k = busy('linux-6.18');
    k.memcgs[1]!.memory += 1;
    k.memcgs[2]!.swap -= 1;
    const v = checkInvariants(k).filter((x) => x.kind === 'memcg');
    expect(v.map((x) => x.message)).toEqual([
      expect.stringMatching(/^cgroup "redis": memory.current is \d+ pages, but its folios and page tables hold \d+$/),
      expect.stringMatching(/^cgroup "web": memory.swap.current is \d+ pages, but \d+ swap slots are recorded for it$/),
    ]);
  });
  it('a folio on another memcg lruvec is caught', () => {
    const k = busy('linux-6.18');
    const head = k.lruvecs[1]!.list(0)[0]!;
    k.f.memcg[head] = 2;
    const v = checkInvariants(k).map((x) => x.message);
    expect(v).toContain(`folio ${head} of memcg 2 is on the lruvec of memcg 1`);
  });
});
