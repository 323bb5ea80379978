/**
 * The policy API's stability test: test/fixtures/compiled-policy/drain-then-refcount.js was
 * compiled once from the .ts next to it at policy API 1.0.0 and is never regenerated. Core 1.x
 * must keep loading it and it must keep deciding the same (exact counters).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, PluginError, runScenario, ScenarioSchema, type MmPlugin } from '../src/index.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/compiled-policy/drain-then-refcount.js', import.meta.url));

interface Fixture {
  default: () => MmPlugin;
  PLUGIN_NAME: string;
  getDrainHooks: (of: unknown) => { drained: { tap(name: string, fn: (before: number, after: number) => void): void } };
}
const load = async (): Promise<Fixture> => (await import(/* @vite-ignore */ FIXTURE)) as Fixture;

// the limit of COW fixes patch 2: the swap-in runs on cpu 1, so the lru_add batch reference is
// cpu 1's; the write fault runs on cpu 0 (a synchronous device: no swap-cache reference)
const remoteBatch = {
  name: 'remote-batch',
  steps: [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'thread', pid: 'p', cpu: 1 },
    { op: 'mmap', pid: 'p', name: 'buf', size: '4KiB' },
    { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 1 },
    { op: 'madvise', pid: 'p', region: 'buf', advice: 'pageout' },
    { op: 'access', pid: 'p', region: 'buf', access: 'read', cpu: 1, expect: 1, phase: 'read' },
    { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 2, cpu: 0, phase: 'write' },
    { op: 'access', pid: 'p', region: 'buf', access: 'read', expect: 2, phase: 'check' },
  ],
};

const system = (policies: MmPlugin[]) =>
  createSystem({ hardware: new FlatHardware(2), policies, config: { swap: { synchronousIo: true } } });
const counter = (r: ReturnType<typeof runScenario>, phase: string, name: string) =>
  r.phases[phase]?.counters[name] ?? 0;

describe('policy API 1.0 stability: a plugin compiled once at API 1.0.0', () => {
  it('loads, drains the remote batch before the reuse decision, and reuses the page', async () => {
    const fx = await load();
    const plugin = fx.default();
    expect(plugin.name).toBe('drain-then-refcount');
    expect(plugin.api).toBe('^1.0.0');
    const sys = system([plugin]);
    const seen: [number, number][] = [];
    fx.getDrainHooks(sys.key).drained.tap('test', (before, after) => seen.push([before, after]));
    const r = runScenario(sys, ScenarioSchema.parse(remoteBatch));
    expect(counter(r, 'read', 'swapin_skip_swapcache')).toBe(1);
    expect(counter(r, 'write', 'pgfault')).toBe(1);
    expect(counter(r, 'write', 'cow_copy')).toBe(0);
    expect(counter(r, 'write', 'pgreuse')).toBe(1);
    expect(counter(r, 'write', 'drain_then_refcount_drains')).toBe(1);
    expect(sys.stats.get('drain_then_refcount_drains')).toBe(1);
    // the plugin-owned hook: mapping + cpu 1's batch slot, then the mapping alone
    expect(seen).toEqual([[2, 1]]);
    expect(r.checks).toMatchObject({ failed: 0, passed: 2 });
  });

  it('control: without it, core copies (the v5.9 rule sees the batch reference)', () => {
    const r = runScenario(system([]), ScenarioSchema.parse(remoteBatch));
    expect(counter(r, 'write', 'cow_copy')).toBe(1);
    expect(counter(r, 'write', 'pgreuse')).toBe(0);
    expect(r.checks).toMatchObject({ failed: 0, passed: 2 });
  });

  it('a plugin built for another API major fails to load with a PluginError naming it and saying why', async () => {
    const plugin = { ...(await load()).default(), name: 'future-policy', api: '^2.0.0' };
    let err: unknown;
    try {
      system([plugin]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PluginError);
    const pe = err as PluginError;
    expect(pe.plugin).toBe('future-policy');
    expect(pe.kind).toBe('load');
    expect(pe.message).toMatch(/^plugin "future-policy" cannot load: /);
    expect(pe.message).toContain('^2.0.0');
    expect(pe.message).toContain('1.0.0');
  });

  it('a plugin without an `api` field (mmsim 0.x) fails to load with a PluginError naming it and saying why', async () => {
    const { api: _api, ...rest } = (await load()).default();
    const plugin = { ...rest, name: 'old-policy' } as unknown as MmPlugin;
    let err: unknown;
    try {
      system([plugin]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PluginError);
    const pe = err as PluginError;
    expect(pe.plugin).toBe('old-policy');
    expect(pe.kind).toBe('load');
    expect(pe.message).toMatch(/^plugin "old-policy" cannot load: /);
    expect(pe.message).toMatch(/does not say which policy API/);
    expect(pe.message).toContain('api: "^1.0.0"');
  });
});
