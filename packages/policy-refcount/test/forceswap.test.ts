import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema } from '@mmsim/core';
import refcountPolicy, { ERAS, type Era } from '../src/index.js';

const presetLike: Record<string, { era: Era; lruBatchSize: number; features: Record<string, boolean> }> = {
  'linux-5.8': {
    era: 'linux-5.8',
    lruBatchSize: 15,
    features: { tryChangeWritable: false, swapinFreeOnWrite: false, swapinDrainLocal: false },
  },
  'linux-5.9': {
    era: 'linux-5.9',
    lruBatchSize: 15,
    features: { tryChangeWritable: false, swapinFreeOnWrite: false, swapinDrainLocal: false },
  },
  'linux-5.18': {
    era: 'linux-5.18',
    lruBatchSize: 15,
    features: { tryChangeWritable: false, swapinFreeOnWrite: false },
  },
  'linux-5.19': { era: 'linux-5.19', lruBatchSize: 15, features: { tryChangeWritable: true, swapinFreeOnWrite: true } },
  'linux-6.11': { era: 'linux-6.11', lruBatchSize: 31, features: { tryChangeWritable: true, swapinFreeOnWrite: true } },
};

function forceswap(name: string, threads: number, rounds: number) {
  const p = presetLike[name]!;
  const sys = createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: [refcountPolicy({ era: p.era })],
    config: { lruBatchSize: p.lruBatchSize, features: p.features, swap: { synchronousIo: true } },
  });
  const steps: unknown[] = [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'page', size: '4KiB' },
    // warm-up: two rounds (the first one CoWs the zero page, the second has no pending batched flush)
    {
      op: 'repeat',
      times: 2,
      steps: [
        { op: 'madvise', pid: 'p', region: 'page', advice: 'pageout', phase: 'warmup' },
        { op: 'access', pid: 'p', region: 'page', access: 'read' },
        { op: 'access', pid: 'p', region: 'page', access: 'write', value: 7 },
      ],
    },
    {
      op: 'repeat',
      times: rounds,
      steps: [
        { op: 'madvise', pid: 'p', region: 'page', advice: 'pageout', phase: 'pageout' },
        { op: 'access', pid: 'p', region: 'page', access: 'read', phase: 'read', expect: 7 },
        { op: 'access', pid: 'p', region: 'page', access: 'write', phase: 'write', value: 7 },
        { op: 'access', pid: 'p', region: 'page', access: 'read', phase: 'check', expect: 7 },
      ],
    },
  ];
  if (threads === 2) steps.splice(1, 0, { op: 'thread', pid: 'p', cpu: 1, spin: true });
  return runScenario(sys, ScenarioSchema.parse({ name: 'forceswap', steps }));
}

const remote = (r: ReturnType<typeof forceswap>) =>
  ['pageout', 'read', 'write'].reduce((n, ph) => n + (r.phases[ph]?.counters.nr_tlb_remote_flush ?? 0), 0);

describe('seed 000 forceswap (flat hardware, x86 flush accounting)', () => {
  const rounds = 10;
  it('v5.8 reuses the swapped-in page: 3 remote flushes per round, no copy', () => {
    const r = forceswap('linux-5.8', 2, rounds);
    expect(remote(r)).toBe(3 * rounds);
    expect(r.phases.pageout!.counters.nr_tlb_remote_flush).toBe(3 * rounds);
    expect(r.phases.write!.counters.cow_copy ?? 0).toBe(0);
    expect(r.phases.write!.counters.pgreuse).toBe(rounds);
    expect(r.phases.read!.counters.pswpin).toBe(rounds);
    expect(r.phases.pageout!.counters.pswpout).toBe(rounds);
  });
  it('v5.9 copies it (page_count 2: mapping + LRU batch): a 4th remote flush per round', () => {
    const r = forceswap('linux-5.9', 2, rounds);
    expect(remote(r)).toBe(4 * rounds);
    expect(r.phases.write!.counters.nr_tlb_remote_flush).toBe(rounds);
    expect(r.phases.write!.counters.cow_copy).toBe(rounds);
  });
  it('v5.18 drains the local batch and reuses: 3 per round', () => {
    const r = forceswap('linux-5.18', 2, rounds);
    expect(remote(r)).toBe(3 * rounds);
    expect(r.phases.write!.counters.cow_copy ?? 0).toBe(0);
  });
  it('v5.19 maps the fresh exclusive page writable on the write fault path only', () => {
    const r = forceswap('linux-5.19', 2, rounds);
    expect(remote(r)).toBe(3 * rounds);
    expect(r.phases.write!.counters.pgfault).toBe(rounds);
  });
  it('v6.11+ maps it writable on the read fault: the write does not fault at all', () => {
    const r = forceswap('linux-6.11', 2, rounds);
    expect(remote(r)).toBe(3 * rounds);
    expect(r.phases.write!.counters.pgfault ?? 0).toBe(0);
    expect(r.phases.read!.counters.swapin_map_writable).toBe(rounds);
  });
  it('with one thread there are no remote flushes', () => {
    for (const name of Object.keys(presetLike)) expect(remote(forceswap(name, 1, rounds))).toBe(0);
  });
  it('every era reads back what it wrote', () => {
    for (const name of Object.keys(presetLike)) {
      const r = forceswap(name, 2, 3);
      expect(r.checks).toEqual({ passed: 6, failed: 0, failures: [] });
    }
    expect(Object.keys(ERAS)).toContain('linux-5.8');
  });
});
