import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema, type RunResult } from '@mmsim/core';
import { eraProblems, resolvePreset } from '../src/index.js';

// KSM per era (issue 20 item 8): do_wp_page() on a KSM page, the ksm_stat lines, the zero-page counters.
function run(kernel: string, steps: unknown[]): RunResult {
  const { config, plugins } = resolvePreset(kernel);
  const sys = createSystem({ hardware: new FlatHardware(2), presetPlugins: plugins, config: config as never });
  return runScenario(sys, ScenarioSchema.parse({ name: 't', steps }));
}
const c = (r: RunResult, ph: string, n: string): number => r.phases[ph]!.counters[n] ?? 0;

/** two pages of 7 merged into one KSM page, then both written: the second write finds it mapped once */
const merged = [
  { op: 'spawn', pid: 'p' },
  { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
  { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 7 },
  { op: 'madvise', pid: 'p', region: 'a', advice: 'mergeable' },
  { op: 'ksm', run: 1, use_zero_pages: true },
  { op: 'ksmd', fullScans: 2, phase: 'merge' },
  { op: 'access', pid: 'p', region: 'a', offset: '4KiB', access: 'write', value: 8, phase: 'w1' },
  { op: 'access', pid: 'p', region: 'a', access: 'write', value: 9, phase: 'w2' },
];

describe('KSM per era', () => {
  it('do_wp_page() on a KSM page mapped once: v5.7 copies, v5.8 reuses (reuse_ksm_page()), v5.9 and later copy', () => {
    const got = Object.fromEntries(
      ['linux-5.7', 'linux-5.8', 'linux-5.9', 'linux-5.19', 'linux-6.18'].map((kn) => {
        const r = run(kn, merged);
        expect(r.checks.failures).toEqual([]);
        expect(c(r, 'merge', 'ksm_pages_sharing'), kn).toBe(1);
        expect(c(r, 'w1', 'cow_copy'), kn).toBe(1);
        return [kn, { cow_copy: c(r, 'w2', 'cow_copy'), pgreuse: c(r, 'w2', 'pgreuse') }];
      }),
    );
    expect(got).toEqual({
      'linux-5.7': { cow_copy: 1, pgreuse: 0 },
      'linux-5.8': { cow_copy: 0, pgreuse: 1 },
      'linux-5.9': { cow_copy: 1, pgreuse: 0 },
      'linux-5.19': { cow_copy: 1, pgreuse: 0 },
      'linux-6.18': { cow_copy: 1, pgreuse: 0 },
    });
  });

  it('/proc/PID/ksm_stat: none before v6.1, ksm_rmap_items in v6.3, the profit lines from v6.4 and ksm_zero_pages from v6.6', () => {
    const stat = (kn: string) => run(kn, merged).total.meminfo.processes.p?.ksm_stat;
    expect(stat('linux-5.19')).toBeUndefined();
    expect(stat('anon-folio-rfc-v2')).toEqual({ ksm_rmap_items: 2 });
    // both pages were written since the merge, but the rmap_items leave the (now stale) stable
    // node only at ksmd's next pass: ksm_merging_pages still says 2
    expect(stat('linux-6.8')).toEqual({
      ksm_rmap_items: 2,
      ksm_zero_pages: 0,
      ksm_merging_pages: 2,
      ksm_process_profit: 2 * 4096 - 2 * 64,
    });
  });

  it('sysfs ksm_zero_pages, pages_scanned and general_profit only where the era has them', () => {
    const zero = [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 0 },
      { op: 'madvise', pid: 'p', region: 'a', advice: 'mergeable' },
      { op: 'ksm', run: 1, use_zero_pages: true },
      { op: 'ksmd', fullScans: 2, phase: 'merge' },
    ];
    const old = run('linux-5.19', zero);
    expect(c(old, 'merge', 'pgfree')).toBe(2);
    expect(Object.keys(old.total.counters).filter((n) => n.startsWith('ksm_'))).toEqual([
      'ksm_pages_volatile',
      'ksm_full_scans',
    ]);
    const now = run('linux-6.18', zero);
    expect(c(now, 'merge', 'ksm_zero_pages')).toBe(2);
    expect(c(now, 'merge', 'ksm_pages_scanned')).toBe(4);
    expect(c(now, 'merge', 'ksm_general_profit')).toBe(2 * 4096 - 2 * 64);
  });

  it('era rules: prctl(PR_SET_MEMORY_MERGE) v6.4, smart_scan v6.7, ksm_stat v6.1', () => {
    const sc = {
      system: { ksm: { smart_scan: 0 } },
      steps: [
        { op: 'prctl', pid: 'p', option: 'memoryMerge', value: 1 },
        { op: 'ksm', smart_scan: 1 },
        { op: 'ksmStat', pid: 'p' },
      ],
    };
    expect(eraProblems('linux-5.19', sc).map((p) => `${p.where} ${p.field}`)).toEqual([
      'steps[0] op',
      'scenario system.ksm.smart_scan',
      'steps[1] smart_scan',
      'steps[2] op',
    ]);
    expect(eraProblems('anon-folio-rfc-v2', sc).map((p) => `${p.where} ${p.field}`)).toEqual([
      'steps[0] op',
      'scenario system.ksm.smart_scan',
      'steps[1] smart_scan',
    ]);
    expect(eraProblems('linux-6.8', sc)).toEqual([]);
  });
});
