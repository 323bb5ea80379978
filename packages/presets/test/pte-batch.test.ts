import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema } from '@mmsim/core';
import { resolvePreset } from '../src/index.js';

// Batched PTE copy at fork (f8d937761d65, v6.9) and zap (10ebac4f95e7, v6.10) per era: one
// PTE-mapped 2 MiB THP, forked, then unmapped.
const steps = [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'a', size: '2MiB' },
  { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 'touch' },
  { op: 'mprotect', pid: 'p', region: 'a', size: '4KiB', prot: 'r' },
  { op: 'mprotect', pid: 'p', region: 'a', size: '4KiB', prot: 'rw' },
  { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
  { op: 'exit', pid: 'c', phase: 'exit' },
  { op: 'munmap', pid: 'p', region: 'a', phase: 'munmap' },
];
const run = (kernel: string) => {
  const { config, plugins } = resolvePreset(kernel);
  const sys = createSystem({
    hardware: new FlatHardware(2, { pteCopy: 4, pteCopyBatched: 3 }),
    presetPlugins: plugins,
    config: { ...config, thp: { top: 'always', '2048K': 'always' } } as never,
  });
  return runScenario(sys, ScenarioSchema.parse({ name: 'pte-batch', steps }));
};

describe('batched PTE copy and zap per era', () => {
  it('linux-6.8: per PTE; linux-6.18: one batch of 512 (511 × (4 − 3) fewer fork cycles), no deferred split at munmap', () => {
    const old = run('linux-6.8');
    const cur = run('linux-6.18');
    for (const r of [old, cur]) {
      expect(r.phases.touch!.counters.thp_fault_alloc).toBe(1);
      expect(r.phases.fork!.counters.fork_pte_copy).toBe(512);
      expect(r.checks.failed).toBe(0);
    }
    expect(old.phases.fork!.cycles - cur.phases.fork!.cycles).toBe(511);
    expect(old.phases.munmap!.counters.thp_deferred_split_page ?? 0).toBe(1);
    expect(cur.phases.munmap!.counters.thp_deferred_split_page ?? 0).toBe(0);
  });
});
