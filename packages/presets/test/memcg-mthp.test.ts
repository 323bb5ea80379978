import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema } from '@mmsim/core';
import { resolvePreset } from '../src/index.js';

const INF = Number.POSITIVE_INFINITY;

/** A 64 KiB mTHP fault in a cgroup with `max` pages of memory.max, on `kernel`. */
function run(kernel: string, max: number) {
  const { config, plugins } = resolvePreset(kernel);
  const sys = createSystem({
    hardware: new FlatHardware(1),
    presetPlugins: plugins,
    config: {
      ...config,
      thp: { top: 'never', '64K': 'always' },
      cgroups: [{ name: 'g', max, high: INF, swapMax: INF }],
    } as never,
  });
  const steps = [
    { op: 'spawn', pid: 'p', cgroup: 'g' },
    { op: 'mmap', pid: 'p', name: 'a', size: '64KiB', align: '64KiB' },
    { op: 'touch', pid: 'p', region: 'a', size: '4KiB', access: 'write', phase: 'x' },
  ];
  return runScenario(sys, ScenarioSchema.parse({ name: 't', steps })).phases.x!;
}

describe('memcg: a large folio over memory.max falls back without reclaim (alloc_anon_folio(): MTHP_STAT_ANON_FAULT_FALLBACK_CHARGE)', () => {
  it('linux-6.18, 8 pages of memory.max: the 64K folio does not fit after the 3 page tables, a page does', () => {
    const x = run('linux-6.18', 8);
    expect(x.counters.mthp_64kB_anon_fault_fallback).toBe(1);
    expect(x.counters.mthp_64kB_anon_fault_fallback_charge).toBe(1);
    expect(x.counters.mthp_64kB_anon_fault_alloc ?? 0).toBe(0);
    expect(x.meminfo.cgroups!.g!['memory.current']).toBe(4 * 4096);
    expect(x.meminfo.cgroups!.g!['memory.events'].max).toBe(0);
  });
  it('linux-6.18, 19 pages: it fits', () => {
    const x = run('linux-6.18', 19);
    expect(x.counters.mthp_64kB_anon_fault_alloc).toBe(1);
    expect(x.counters.mthp_64kB_anon_fault_fallback_charge ?? 0).toBe(0);
    expect(x.meminfo.cgroups!.g!['memory.current']).toBe(19 * 4096);
  });
});
