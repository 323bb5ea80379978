import { describe, expect, it } from 'vitest';
import {
  forkProcess,
  madvise,
  meminfo,
  mmapAnon,
  mprotect,
  prng,
  runScenario,
  ScenarioSchema,
  userAccess,
  PTRS_PER_TABLE,
  type Process,
} from '@mmsim/core';
import cowPte, { CowPtePolicy, cowPtePreset, cowPteSlots } from '../src/index.js';
import { cowSystem, exit, invariants } from './helpers.js';

const T = PTRS_PER_TABLE;

describe('many forks and exits', () => {
  it('keeps contents isolated and every counter consistent, and returns everything to zero', () => {
    const { k, sys, policy } = cowSystem();
    const rand = prng(7);
    const pick = <X>(a: X[]) => a[Math.floor(rand() * a.length)]!;
    const root = k.spawn('p0', 0);
    const pages = 3 * T + 100; // 3 full tables and a partial one
    const vma = mmapAnon(k, root.mm, pages, 'buf');
    const s = vma.start;
    const live: Array<{ p: Process; model: Map<number, number> }> = [{ p: root, model: new Map() }];
    let seq = 1;
    let nextPid = 1;
    for (let i = 0; i < pages; i += 3) {
      userAccess(k, root.main, s + i, true, seq);
      live[0]!.model.set(i, seq++);
    }
    for (let step = 0; step < 400; step++) {
      const r = rand();
      const e = pick(live);
      if (r < 0.15 && live.length < 8) {
        const c = forkProcess(k, e.p, `p${nextPid++}`, Math.floor(rand() * 2));
        live.push({ p: c, model: new Map(e.model) });
      } else if (r < 0.25 && live.length > 1) {
        exit(k, e.p);
        live.splice(live.indexOf(e), 1);
      } else if (r < 0.3) {
        const a = Math.floor(rand() * 4) * T;
        madvise(k, e.p.mm, s + a, s + Math.min(pages, a + T), 'pageout');
      } else if (r < 0.33) {
        const a = Math.floor(rand() * pages);
        const n = 1 + Math.floor(rand() * 40);
        madvise(k, e.p.mm, s + a, s + Math.min(pages, a + n), 'dontneed');
        for (let i = a; i < Math.min(pages, a + n); i++) e.model.delete(i);
      } else if (r < 0.36) {
        const a = Math.floor(rand() * 4) * T;
        mprotect(k, e.p.mm, s + a, s + Math.min(pages, a + T), 'r');
        mprotect(k, e.p.mm, s + a, s + Math.min(pages, a + T), 'rw');
      } else if (r < 0.7) {
        const n = 1 + Math.floor(rand() * 20);
        for (let j = 0; j < n; j++) {
          const i = Math.floor(rand() * pages);
          userAccess(k, e.p.main, s + i, true, seq);
          e.model.set(i, seq++);
        }
      } else {
        for (let j = 0; j < 20; j++) {
          const i = Math.floor(rand() * pages);
          userAccess(k, e.p.main, s + i, false, 0);
          expect(k.lastValue, `${e.p.pid} page ${i} at step ${step}`).toBe(e.model.get(i) ?? 0);
        }
      }
      const errs = invariants(k);
      expect(errs, `step ${step}`).toEqual([]);
    }
    for (const e of live)
      for (const [i, v] of e.model) {
        userAccess(k, e.p.main, s + i, false, 0);
        expect(k.lastValue).toBe(v);
      }
    expect(sys.stats.get('cow_pte_share')).toBeGreaterThan(10);
    expect(sys.stats.get('cow_pte_break')).toBeGreaterThan(5);
    expect(sys.stats.get('cow_pte_reuse')).toBeGreaterThan(1);
    expect(sys.stats.get('cow_pte_free')).toBeGreaterThan(1);
    for (const e of live) exit(k, e.p);
    k.lruAddDrainAll();
    const m = meminfo(k);
    expect(m.MemUsed).toBe(0);
    expect(m.PageTables).toBe(0);
    expect(m.AnonPages).toBe(0);
    expect(m.SwapCached).toBe(0);
    expect(k.swap.used).toBe(0);
    expect(k.nrAnonMapped).toBe(0);
    expect(k.pt.live).toBe(0);
    expect(policy.tables.size).toBe(0);
    for (const mm of [...k.procs.values()].map((p) => p.mm)) {
      expect([mm.rssAnon, mm.swapEnts, mm.pgtablesBytes]).toEqual([0, 0, 0]);
    }
  });

  it("a fork server: 50 short-lived children writing a little never copy the parent's tables back", () => {
    const { k, sys } = cowSystem();
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 8 * T, 'heap');
    for (let i = 0; i < 8 * T; i++) userAccess(k, p.main, vma.start + i, true, i);
    for (let n = 0; n < 50; n++) {
      const c = forkProcess(k, p, `c${n}`, 1);
      userAccess(k, c.main, vma.start + n, true, 1);
      exit(k, c);
      expect(invariants(k)).toEqual([]);
    }
    // each fork shares 8 tables; each child breaks one and drops 7; the parent reuses
    expect(sys.stats.get('cow_pte_share')).toBe(400);
    expect(sys.stats.get('cow_pte_break')).toBe(50);
    expect(sys.stats.get('cow_pte_free')).toBe(350);
    exit(k, p);
    k.lruAddDrainAll();
    expect(meminfo(k).MemUsed).toBe(0);
  });
});

describe('options, scenarios and presets', () => {
  const scenario = (policies: unknown[]) =>
    ScenarioSchema.parse({
      name: 't',
      system: { hardware: 'flat', policies: ['@mmsim/policy-cowpte'] },
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'buf', size: '4MiB' },
        { op: 'mmap', pid: 'p', name: 'small', size: '64KiB' },
        { op: 'touch', pid: 'p', region: 'buf', access: 'write', value: 5, phase: 'touch' },
        { op: 'touch', pid: 'p', region: 'small', access: 'write', value: 6 },
        { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
        { op: 'access', pid: 'c', region: 'buf', offset: 4096, access: 'write', value: 9, phase: 'child-write' },
        { op: 'access', pid: 'p', region: 'buf', offset: 4096, access: 'read', expect: 5 },
        { op: 'access', pid: 'c', region: 'buf', offset: 4096, access: 'read', expect: 9 },
        { op: 'exit', pid: 'c', phase: 'exit' },
        { op: 'exit', pid: 'p' },
      ],
      ...(policies.length ? {} : {}),
    });

  it('runs through runScenario with per-phase counters', async () => {
    const { createSystem, FlatHardware } = await import('@mmsim/core');
    const sys = createSystem({ hardware: new FlatHardware(2), policies: [cowPte()] });
    const r = runScenario(sys, scenario([]));
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
    // buf = 2 tables; small (16 pages) is not fully covering its table: copied
    expect(r.phases.fork!.counters.cow_pte_share).toBe(2);
    expect(r.phases.fork!.counters.fork_pte_copy).toBe(16);
    expect(r.phases['child-write']!.counters.cow_pte_break).toBe(1);
    expect(r.phases.exit!.counters.cow_pte_free).toBe(1);
    expect(r.total.meminfo.PageTables).toBe(0);
  });

  it('minTables and excludeRegions restrict sharing; shareHigherLevels is rejected', async () => {
    const { createSystem, FlatHardware } = await import('@mmsim/core');
    const run = (o: object) =>
      runScenario(createSystem({ hardware: new FlatHardware(2), policies: [cowPte(o)] }), scenario([]));
    expect(run({ minTables: 3 }).phases.fork!.counters.cow_pte_share ?? 0).toBe(0);
    expect(run({ minTables: 2 }).phases.fork!.counters.cow_pte_share).toBe(2);
    expect(run({ excludeRegions: ['buf'] }).phases.fork!.counters.cow_pte_share ?? 0).toBe(0);
    expect(() => cowPte({ shareHigherLevels: true })).toThrow(/not implemented/);
    expect(() => cowPte({ minTables: 0 })).toThrow(/minTables/);
  });

  it('exports a preset slot and a preset description', () => {
    const plugin = cowPteSlots.cowpte({ cowpte: { minTables: 2 } });
    expect(plugin).toBeInstanceOf(CowPtePolicy);
    expect((plugin as CowPtePolicy).options.minTables).toBe(2);
    const preset = cowPtePreset('linux-6.18');
    expect(preset.name).toBe('linux-6.18+cowpte');
    expect(preset.extends).toBe('linux-6.18');
    expect(Object.keys(preset.slots)).toEqual(['cowpte']);
    expect(CowPtePolicy.PLUGIN_NAME).toBe('policy-cowpte');
  });

  it('without the plugin a write-protected PMD would be an error: core copies normally', () => {
    const { k, sys } = cowSystem(null);
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, T, 'b');
    for (let i = 0; i < T; i++) userAccess(k, p.main, vma.start + i, true, i);
    forkProcess(k, p, 'c', 1);
    expect(sys.stats.get('fork_pte_copy')).toBe(T);
    expect(meminfo(k).PageTables).toBe(2 * 12);
  });
});
