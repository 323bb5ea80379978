import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, forkProcess, madvise, mmapAnon, userAccess, LRU_GEN_MASK } from '@mmsim/core';
import { resolvePreset } from '@mmsim/presets';
import { checkInvariants } from '../src/index.js';

/** linux-6.18 with lru_gen on, 16 MiB of RAM: touching 6000 pages reclaims (kswapd and direct). */
function busy(async: boolean) {
  const { config, plugins } = resolvePreset('linux-6.18');
  const sys = createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: plugins,
    config: {
      ...config,
      memoryPages: 4096,
      swap: { slots: 8192, synchronousIo: !async },
      vm: { swappiness: 60, watermarkScaleFactor: 10, minFreeKbytes: 0, lruGen: true },
    } as never,
  });
  const k = sys.kernel;
  const p = k.spawn('p', 0);
  const hot = mmapAnon(k, p.mm, 256, 'hot');
  const cold = mmapAnon(k, p.mm, 6000, 'cold');
  for (let i = 0; i < 256; i++) userAccess(k, p.main, hot.start + i, true, i);
  for (let i = 0; i < 6000; i++) {
    userAccess(k, p.main, cold.start + i, true, i);
    if (i % 64 === 0) for (let j = 0; j < 256; j += 8) userAccess(k, p.main, hot.start + j, false, 0);
  }
  const c = forkProcess(k, p, 'c', 1);
  userAccess(k, c.main, hot.start + 1, true, 7);
  k.runOn(p.main);
  madvise(k, p.mm, hot.start + 16, hot.start + 32, 'cold');
  madvise(k, p.mm, hot.start + 32, hot.start + 48, 'pageout');
  return { sys, k, p, hot, cold };
}

describe('multi-gen LRU invariants', () => {
  it.each([false, true])('hold after reclaim, fork, MADV_COLD and MADV_PAGEOUT (async swap %s)', (async) => {
    const { k } = busy(async);
    expect(k.lrugen!.maxSeq).toBeGreaterThan(3);
    expect(k.stats.get('pswpout')).toBeGreaterThan(0);
    expect(checkInvariants(k)).toEqual([]);
  });

  it('catch nr_pages out of step with the folios', () => {
    const { k } = busy(false);
    k.lrugen!.nrPages[(k.lrugen!.maxSeq % 4) * 2]! += 1;
    const v = checkInvariants(k);
    expect(v.map((x) => x.kind)).toContain('lru');
    expect(v.map((x) => x.message).join('\n')).toMatch(/lru_gen: nr_pages\[\d\]\[0\] is/);
  });

  it('catch a folio whose generation is outside [min_seq, max_seq]', () => {
    const { k, p, hot } = busy(false);
    const pfn = k.translate(p.mm, hot.start + 100, false);
    const g = k.lrugen!;
    const unused = (g.maxSeq + 1) % 4; // at most MAX_NR_GENS - 1 ... so this one is free when 3 are in use
    const inUse = g.maxSeq - Math.min(g.minSeq[0]!, g.minSeq[1]!) + 1;
    if (inUse === 4) g.minSeq[0]!++, g.minSeq[1]!++;
    k.f.lruGen[pfn] = (k.f.lruGen[pfn]! & ~LRU_GEN_MASK) | (unused + 1);
    expect(
      checkInvariants(k)
        .map((x) => x.message)
        .join('\n'),
    ).toMatch(/outside \[min_seq, max_seq\]/);
  });
});

describe('mmsim check --lru-gen', () => {
  it('fuzzes linux-6.18 with the multi-gen LRU: its invariant holds over 150 runs', async () => {
    const { buildSystem, checkComposition, resolveComposition } = await import('../src/index.js');
    const c = resolveComposition({ kernel: 'linux-6.18', lruGen: true });
    const sys = buildSystem(c, { largeFolios: false, swapSync: true, smallBatches: false });
    expect(sys.kernel.lrugen).not.toBeNull();
    const r = checkComposition({
      kernel: 'linux-6.18',
      hardware: 'strict',
      lruGen: true,
      runs: 150,
      seed: 1,
      maxSteps: 40,
    });
    expect(r.runs).toBe(150);
    expect(r.violations).toEqual([]);
  });
  it('with --pressure: aging and eviction run, and the invariants hold over 300 runs', async () => {
    const { checkComposition } = await import('../src/index.js');
    const r = checkComposition({
      kernel: 'linux-6.18',
      hardware: 'strict',
      lruGen: true,
      pressure: true,
      runs: 300,
      seed: 7,
      maxSteps: 40,
    });
    expect(r.violations).toEqual([]);
    expect(r.counters.pgscan_kswapd).toBeGreaterThan(0);
    expect(r.counters.pgsteal_direct).toBeGreaterThan(0);
    expect(r.counters.workingset_activate_anon).toBeGreaterThan(0);
  });

  it('refuses it on a preset older than v6.1', async () => {
    const { resolveComposition } = await import('../src/index.js');
    expect(() => resolveComposition({ kernel: 'linux-5.19', lruGen: true })).toThrow(
      /--lru-gen: kernel preset "linux-5.19" \(v5.19\) has no multi-gen LRU .* v6\.1 \(354ed5974429\)/,
    );
  });
});
