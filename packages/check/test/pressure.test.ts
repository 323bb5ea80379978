/**
 * Fuzzing under memory pressure (`mmsim check --pressure`): 4 MiB of RAM with raised
 * watermarks, so that kswapd, direct reclaim and swap-out run inside small runs.
 */
import { describe, expect, it } from 'vitest';
import { presetNames } from '@mmsim/presets';
import { checkComposition, formatCheckResult, isHistorical } from '../src/index.js';
import { drive, P } from './helpers.js';

describe('current presets keep every invariant under memory pressure', () => {
  for (const kernel of presetNames().filter((k) => !isHistorical(k))) {
    it(`${kernel}: 400 runs, reclaim really ran`, () => {
      const r = checkComposition({ kernel, runs: 400, seed: 20261206, maxSteps: 40, pressure: true });
      if (r.violations.length > 0)
        throw new Error(`${formatCheckResult(r)}\n${JSON.stringify(r.violations[0]!.scenario.steps)}`);
      expect(r.runs).toBe(400);
      expect(r.counters.pgscan_kswapd).toBeGreaterThan(100);
      expect(r.counters.pgscan_direct).toBeGreaterThan(100);
      expect(r.counters.pgsteal_kswapd).toBeGreaterThan(0);
      expect(r.counters.pswpout).toBeGreaterThan(100);
      expect(r.counters.workingset_refault_anon).toBeGreaterThan(0);
    });
  }
  it('a finding is written with the memory it ran in', () => {
    // linux-5.9's known stale R/O pin (known.ts) is found under pressure as well
    const r = checkComposition({ kernel: 'linux-5.9', runs: 400, seed: 1, maxSteps: 40, pressure: true });
    expect(r.violations.length).toBe(1);
    expect(r.violations[0]!.scenario.system).toMatchObject({ memory: '4MiB', vm: { minFreeKbytes: 2048 } });
  });
});

describe('without --pressure nothing changes', () => {
  it('the runs of a seed have no bounded memory and do not reclaim', () => {
    const r = checkComposition({ kernel: 'linux-6.18', runs: 100, seed: 5, maxSteps: 40 });
    expect(r.violations).toEqual([]);
    expect(r.counters.pgscan_kswapd ?? 0).toBe(0);
    expect(r.counters.pgscan_direct ?? 0).toBe(0);
  });
  it('pressure: false gives the very runs of no option', () => {
    const a = checkComposition({ kernel: 'linux-6.18', runs: 60, seed: 9, maxSteps: 30 });
    const b = checkComposition({ kernel: 'linux-6.18', runs: 60, seed: 9, maxSteps: 30, pressure: false });
    expect(b.counters).toEqual(a.counters);
    expect(b.steps).toBe(a.steps);
  });
});

describe('the end of a run under pressure', () => {
  const fill = [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'a', size: 512 * P },
    { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 7 },
  ] as const;
  it('reclaim leaves swap writes in flight (asynchronous device); exit frees all but those folios, which are no leak', () => {
    const { violation, d } = drive([...fill, { op: 'exit', pid: 'p' }] as never, {
      pressure: true,
      swapSync: false,
    });
    expect(violation).toBeNull();
    const k = d.k;
    // free_swap_and_cache() could not free folios under writeback: they wait in the swap cache
    expect(k.stats.get('pswpout')).toBeGreaterThan(0);
    expect(k.mem.allocatedPages).toBeGreaterThan(0);
    expect(k.swap.used).toBe(k.mem.allocatedPages);
  });
  it('an extra reference on such a folio is still a leak', () => {
    const { d } = drive(fill as never, { pressure: true, swapSync: false });
    const k = d.k;
    let held = -1;
    for (let s = 0; s < k.swap.count.length && held < 0; s++) if (k.swap.hasCache[s]) held = k.f.head(k.swap.cache[s]!);
    expect(held).toBeGreaterThanOrEqual(0);
    k.f.ref[held]!++; // a reference no one will drop
    const vs = d.exec({ op: 'exit', pid: 'p' });
    expect(vs.map((v) => v.kind)).toContain('leak');
  });
  it('out of memory ends the run: no violation, the steps so far kept', () => {
    // no swap to reclaim to, and the whole of RAM pinned: the allocation finds nothing
    const { violation, d } = drive(
      [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'a', size: 1024 * P },
        { op: 'pin', pid: 'p', region: 'a', write: true, longterm: true, id: 'pin0' },
      ] as never,
      { pressure: true },
    );
    expect(violation).toBeNull();
    expect(d.outOfMemory).toBe(true);
    expect(d.k.stats.get('oom_kill')).toBe(1);
    expect(d.steps.length).toBe(3);
  });
});
