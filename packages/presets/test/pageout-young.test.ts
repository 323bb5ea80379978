import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema, type RunResult } from '@mmsim/core';
import { resolvePreset } from '../src/index.js';

// MADV_PAGEOUT and the accessed bits (issue 13, item 5's last full flush): since v6.9
// madvise_cold_or_pageout_pte_range() ages PTEs for MADV_COLD only (`!pageout && pte_young()`),
// so a pageout of young pages leaves no range for tlb_finish_mmu() to flush.
function run(kernel: string): RunResult {
  const { config, plugins } = resolvePreset(kernel);
  const sys = createSystem({ hardware: new FlatHardware(2), presetPlugins: plugins, config: config as never });
  return runScenario(
    sys,
    ScenarioSchema.parse({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'a', size: '256KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 7 },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'out' },
      ],
    }),
  );
}
const flushes = (r: RunResult, ph: string) => ({
  one: r.phases[ph]!.counters.nr_tlb_local_flush_one ?? 0,
  all: r.phases[ph]!.counters.nr_tlb_local_flush_all ?? 0,
  pswpout: r.phases[ph]!.counters.pswpout ?? 0,
});

describe('MADV_PAGEOUT leaves the accessed bits alone from v6.9', () => {
  it('linux-6.18, one CPU: one local single-page flush per page from try_to_unmap(), no gather flush', () => {
    expect(flushes(run('linux-6.18'), 'out')).toEqual({ one: 64, all: 0, pswpout: 64 });
  });
  it('linux-6.8: the 64 young PTEs it clears are flushed at the end too (over the 33-page ceiling: full)', () => {
    expect(flushes(run('linux-6.8'), 'out')).toEqual({ one: 64, all: 1, pswpout: 64 });
  });
});
