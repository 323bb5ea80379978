import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema } from '@mmsim/core';
import { resolvePreset } from '../src/index.js';

// CONFIG_PT_RECLAIM (6375e95f381e, v6.14): MADV_DONTNEED of 8 MiB frees its 4 PTE tables
// (VmPTE 24 → 8 kB, the PUD and PMD tables stay); earlier eras keep them.
const steps = [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'a', size: '8MiB' },
  { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 'touch' },
  { op: 'madvise', pid: 'p', region: 'a', advice: 'dontneed', phase: 'dontneed' },
];
const run = (kernel: string) => {
  const { config, plugins } = resolvePreset(kernel);
  const sys = createSystem({ hardware: new FlatHardware(2), presetPlugins: plugins, config: config as never });
  return runScenario(sys, ScenarioSchema.parse({ name: 'pt-reclaim', steps }));
};

describe('PT_RECLAIM per era', () => {
  for (const [kernel, freed, vmpte] of [
    ['linux-5.19', 0, 24],
    ['linux-6.8', 0, 24],
    ['linux-6.18', 4, 8],
    ['linux-6.18+cowpte', 4, 8],
  ] as const) {
    it(`${kernel}: ${freed} PTE tables freed, VmPTE ${vmpte} kB`, () => {
      const r = run(kernel);
      expect(r.phases.touch!.meminfo.processes.p!.VmPTE).toBe(24);
      expect(r.phases.dontneed!.counters.pgtable_free ?? 0).toBe(freed);
      expect(r.phases.dontneed!.meminfo.processes.p!.VmPTE).toBe(vmpte);
    });
  }
});
