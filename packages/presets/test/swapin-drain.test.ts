import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema } from '@mmsim/core';
import { resolvePreset } from '../src/index.js';

// A write fault that swaps a page in through the swap cache (asynchronous device): the fresh
// folio sits in this CPU's LRU batch. Since v5.18 do_swap_page() drains the local batch first
// and maps the page writable at swap-in; without it, the extra reference leaves it read-only and
// the same fault goes on into do_wp_page(), which drains and reuses it.
describe('do_swap_page() drains the local LRU batch on a write fault (v5.18+)', () => {
  const steps = [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'buf', size: '4KiB' },
    { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 1 },
    { op: 'madvise', pid: 'p', region: 'buf', advice: 'pageout' }, // written back, stays cached
    { op: 'access', pid: 'p', region: 'buf', access: 'read', expect: 1 }, // swap-cache hit
    { op: 'madvise', pid: 'p', region: 'buf', advice: 'pageout' }, // clean: freed, cache dropped
    { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 2, phase: 'write' },
    { op: 'access', pid: 'p', region: 'buf', access: 'read', expect: 2 },
  ];
  const run = (kernel: string) => {
    const { config, plugins } = resolvePreset(kernel);
    const sys = createSystem({
      hardware: new FlatHardware(2),
      presetPlugins: plugins,
      config: { ...config, swap: { synchronousIo: false } } as never,
    });
    return runScenario(sys, ScenarioSchema.parse({ name: 'swapin-drain', steps }));
  };
  it('linux-5.18: one fault, mapped writable at swap-in', () => {
    const r = run('linux-5.18');
    expect(r.phases.write!.counters).toMatchObject({ pgfault: 1, pgmajfault: 1, swapin_map_writable: 1 });
    expect(r.phases.write!.counters.cow_copy ?? 0).toBe(0);
    expect(r.phases.write!.counters.pgreuse ?? 0).toBe(0);
    expect(r.checks.failed).toBe(0);
  });
  it('linux-5.9: reuse_swap_page() maps it writable too (mapcount rule), also one fault', () => {
    const r = run('linux-5.9');
    expect(r.phases.write!.counters).toMatchObject({ pgfault: 1, swapin_map_writable: 1 });
    expect(r.checks.failed).toBe(0);
  });
  it('linux-5.18 without the drain: read-only at swap-in, then do_wp_page() reuses it', () => {
    const { config, plugins } = resolvePreset('linux-5.18');
    const sys = createSystem({
      hardware: new FlatHardware(2),
      presetPlugins: plugins,
      config: {
        ...config,
        features: { ...config.features, swapinDrainLocal: false },
        swap: { synchronousIo: false },
      } as never,
    });
    const r = runScenario(sys, ScenarioSchema.parse({ name: 'no-drain', steps }));
    expect(r.phases.write!.counters).toMatchObject({ pgfault: 1, pgreuse: 1 });
    expect(r.phases.write!.counters.swapin_map_writable ?? 0).toBe(0);
  });
});
