import { describe, expect, it } from 'vitest';
import {
  createSystem,
  FlatHardware,
  forkProcess,
  mmapAnon,
  munmap,
  PluginError,
  PTRS_PER_TABLE,
  userAccess,
  type MmPlugin,
  type MmView,
} from '@mmsim/core';
import cowPte, { CowPtePolicy, type CowPteBrokenEvent, type CowPteTableEvent } from '../src/index.js';
import { copyPinnedAtFork, exit } from './helpers.js';

const T = PTRS_PER_TABLE;

/** Another plugin of the same system, listening to policy-cowpte's own hooks. */
function listener() {
  const seen = {
    shared: [] as CowPteTableEvent[],
    broken: [] as CowPteBrokenEvent[],
    reused: [] as CowPteTableEvent[],
    dropped: [] as CowPteTableEvent[],
  };
  const plugin: MmPlugin = {
    name: 'test-cowpte-listener',
    api: '^1.0.0',
    apply(ctx) {
      const h = CowPtePolicy.getHooks(ctx);
      // events are read in the tap: copy what is kept
      h.shared.tap('test-cowpte-listener', (e) => void seen.shared.push({ ...e }));
      h.broken.tap('test-cowpte-listener', (e) => void seen.broken.push({ ...e }));
      h.reused.tap('test-cowpte-listener', (e) => void seen.reused.push({ ...e }));
      h.dropped.tap('test-cowpte-listener', (e) => void seen.dropped.push({ ...e }));
    },
  };
  return { plugin, seen };
}

/** fork of 3 whole tables; the child writes table 0 (break), the parent table 0 (reuse), the child exits (2 drops). */
function scenario(sys: ReturnType<typeof createSystem>) {
  const k = sys.kernel;
  const p = k.spawn('p', 0);
  const vma = mmapAnon(k, p.mm, 3 * T, 'buf');
  for (let i = 0; i < 3 * T; i += 8) userAccess(k, p.main, vma.start + i, true, i);
  const c = forkProcess(k, p, 'c', 1);
  userAccess(k, c.main, vma.start + 1, true, 1);
  userAccess(k, p.main, vma.start + 2, true, 2);
  exit(k, c);
  return { k, p, c, vma };
}

const counts = (sys: ReturnType<typeof createSystem>) => ({
  shared: sys.stats.get('cow_pte_share'),
  broken: sys.stats.get('cow_pte_break'),
  reused: sys.stats.get('cow_pte_reuse'),
  dropped: sys.stats.get('cow_pte_free'),
});

describe('CowPtePolicy.getHooks (plugin-owned hooks)', () => {
  it('another plugin counts exactly the shares, breaks, reuses and drops', () => {
    const { plugin, seen } = listener();
    // the listener is applied before policy-cowpte: the hooks exist as soon as someone asks
    const sys = createSystem({
      hardware: new FlatHardware(2),
      presetPlugins: [copyPinnedAtFork, plugin],
      policies: [cowPte()],
    });
    const { p, c, vma } = scenario(sys);
    expect(counts(sys)).toEqual({ shared: 3, broken: 1, reused: 1, dropped: 2 });
    expect({
      shared: seen.shared.length,
      broken: seen.broken.length,
      reused: seen.reused.length,
      dropped: seen.dropped.length,
    }).toEqual(counts(sys));
    const tables = seen.shared.map((e) => e.table);
    expect(new Set(tables).size).toBe(3);
    expect(seen.shared.map((e) => [e.mm.id, e.start])).toEqual([0, 1, 2].map((i) => [c.mm.id, vma.start + i * T]));
    const b = seen.broken[0]!;
    expect([b.table, b.mm.id, b.start]).toEqual([tables[0], c.mm.id, vma.start]);
    expect(b.newTable).not.toBe(b.table);
    expect(b.newTable).toBeGreaterThanOrEqual(0);
    expect(seen.reused.map((e) => [e.table, e.mm.id, e.start])).toEqual([[tables[0], p.mm.id, vma.start]]);
    expect(seen.dropped.map((e) => [e.table, (e.mm as MmView).id])).toEqual([
      [tables[1], c.mm.id],
      [tables[2], c.mm.id],
    ]);
    expect(CowPtePolicy.getHooks(sys.key)).toBe(CowPtePolicy.getHooks(sys.key));
  });

  it('a second system has its own hooks (no cross-talk)', () => {
    const a = listener();
    const sysA = createSystem({
      hardware: new FlatHardware(2),
      presetPlugins: [copyPinnedAtFork, a.plugin],
      policies: [cowPte()],
    });
    const sysB = createSystem({
      hardware: new FlatHardware(2),
      presetPlugins: [copyPinnedAtFork],
      policies: [cowPte()],
    });
    expect(CowPtePolicy.getHooks(sysA.key)).not.toBe(CowPtePolicy.getHooks(sysB.key));
    let inB = 0;
    CowPtePolicy.getHooks(sysB.key).shared.tap('test-b', () => void inB++);
    scenario(sysB);
    expect(counts(sysB).shared).toBe(3);
    expect(inB).toBe(3);
    expect(a.seen.shared.length).toBe(0); // B's shares are not A's
    const k = sysA.kernel;
    const p = k.spawn('p', 0);
    const v = mmapAnon(k, p.mm, 2 * T, 'buf');
    userAccess(k, p.main, v.start, true, 1);
    userAccess(k, p.main, v.start + T, true, 1);
    const c = forkProcess(k, p, 'c', 1);
    munmap(k, c.mm, v.start, v.end); // whole tables: two drops
    expect(a.seen.shared.length).toBe(counts(sysA).shared);
    expect(a.seen.shared.length).toBe(2);
    expect(a.seen.dropped.length).toBe(2);
    expect(inB).toBe(3);
  });

  it('an exception in a tap is attributed to the tapping plugin and the hook', () => {
    const bad: MmPlugin = {
      name: 'test-bad-listener',
      api: '^1.0.0',
      apply(ctx) {
        CowPtePolicy.getHooks(ctx).shared.tap('test-bad-listener', () => {
          throw new Error('boom');
        });
      },
    };
    const sys = createSystem({
      hardware: new FlatHardware(2),
      presetPlugins: [copyPinnedAtFork, bad],
      policies: [cowPte()],
    });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const v = mmapAnon(k, p.mm, T, 'buf');
    userAccess(k, p.main, v.start, true, 1);
    let err: unknown;
    try {
      forkProcess(k, p, 'c', 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).plugin).toBe('test-bad-listener');
    expect((err as PluginError).hook).toBe('policy-cowpte:shared');
  });
});
