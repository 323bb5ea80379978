import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema } from '@mmsim/core';
import { resolvePreset } from '../src/index.js';

describe('the THP path of the v5.9 leak (do_huge_pmd_wp_page and reuse_swap_page)', () => {
  // as vmsplice above, on a PMD-mapped THP: under v5.9 … v5.17 the parent's write fault on the
  // THP reused it by mapcount, so the write landed in the page the child still has pinned
  const steps = [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'buf', size: '2MiB', advice: 'hugepage' },
    { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 100 },
    { op: 'fork', pid: 'p', child: 'c' },
    { op: 'pin', pid: 'c', region: 'buf', size: '4KiB', write: false, id: 'vmsplice' },
    { op: 'munmap', pid: 'c', region: 'buf' },
    { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 200 },
    { op: 'readPin', id: 'vmsplice', expect: 100 },
    { op: 'access', pid: 'p', region: 'buf', access: 'read', expect: 200 },
  ];
  const runThp = async (kernel: string) => {
    const { config, plugins } = resolvePreset(kernel);
    const sys = createSystem({
      hardware: new FlatHardware(2),
      presetPlugins: plugins,
      config: { ...config, thp: { top: 'madvise' } } as never,
    });
    return runScenario(sys, ScenarioSchema.parse({ name: 'thp-leak', steps }));
  };
  it('linux-5.9 leaks through the THP write fault', async () => {
    const r = await runThp('linux-5.9');
    expect(r.total.counters.thp_fault_alloc).toBe(1);
    expect(r.checks.failed).toBe(1);
    expect(r.checks.failures[0]!.message).toBe('read 200, expected 100');
  });
  for (const kernel of ['linux-5.18', 'linux-5.19', 'linux-6.18']) {
    it(`${kernel} does not`, async () => {
      const r = await runThp(kernel);
      expect(r.total.counters.thp_fault_alloc).toBe(1);
      expect(r.checks).toMatchObject({ failed: 0, passed: 2 });
    });
  }
});
