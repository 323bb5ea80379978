import { describe, expect, it } from 'vitest';
import { createSystem, runScenario, ScenarioSchema } from '@mmsim/core';
import { createHardware } from '../src/index.js';

// arch/arm64/Kconfig does not select ARCH_SUPPORTS_PT_RECLAIM in v6.18: even with the era's
// ptReclaim feature on, MADV_DONTNEED keeps the empty PTE tables on arm64.
const steps = [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'a', size: '8MiB' },
  { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 'touch' },
  { op: 'madvise', pid: 'p', region: 'a', advice: 'dontneed', phase: 'dontneed' },
];

describe('PT_RECLAIM on arm64', () => {
  it('not supported by the architecture: the 4 PTE tables stay (VmPTE 24 kB)', () => {
    const hw = createHardware({ cpus: 2 });
    expect(hw.archSupportsPtReclaim).toBe(false);
    const sys = createSystem({ hardware: hw, config: { features: { ptReclaim: true } } });
    const r = runScenario(sys, ScenarioSchema.parse({ name: 'pt-reclaim-arm64', steps }));
    expect(r.phases.touch!.meminfo.processes.p!.VmPTE).toBe(24);
    expect(r.phases.dontneed!.counters.pgfree).toBe(2048);
    expect(r.phases.dontneed!.counters.pgtable_free ?? 0).toBe(0);
    expect(r.phases.dontneed!.meminfo.processes.p!.VmPTE).toBe(24);
  });
});
