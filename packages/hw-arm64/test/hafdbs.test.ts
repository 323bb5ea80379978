import { describe, expect, it } from 'vitest';
import { createSystem, runScenario, ScenarioSchema } from '@mmsim/core';
import { createHardware } from '../src/index.js';

// Without FEAT_HAFDBS the MMU does not set the access flag or the dirty state: the first access
// through an old PTE (cleared by MADV_COLD, or a child's PTEs after fork) and the first write
// through a clean one take a fault that the kernel resolves (pte_mkyoung / pte_mkdirty).
const steps = [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'buf', size: '64KiB' },
  { op: 'touch', pid: 'p', region: 'buf', access: 'write', value: 3, phase: 'first-touch' },
  { op: 'madvise', pid: 'p', region: 'buf', advice: 'cold' },
  { op: 'touch', pid: 'p', region: 'buf', access: 'read', phase: 'after-cold' },
  { op: 'fork', pid: 'p', child: 'c' },
  { op: 'touch', pid: 'c', region: 'buf', access: 'read', phase: 'child-read' },
];

function run(hafdbs: boolean) {
  const sys = createSystem({ hardware: createHardware({ cpus: 2, hafdbs, contpte: false }) });
  return runScenario(sys, ScenarioSchema.parse({ name: 'hafdbs', steps }));
}

describe('hafdbs', () => {
  it('with FEAT_HAFDBS the hardware sets the bits: no extra faults', () => {
    const r = run(true);
    expect(r.phases['first-touch']!.counters.pgfault).toBe(16);
    expect(r.phases['after-cold']!.counters.pgfault ?? 0).toBe(0);
    expect(r.phases['child-read']!.counters.pgfault ?? 0).toBe(0);
  });
  it('without it, old PTEs take access-flag faults', () => {
    const r = run(false);
    expect(r.phases['first-touch']!.counters.pgfault).toBe(16); // fresh PTEs are young and dirty
    expect(r.phases['after-cold']!.counters.pgfault).toBe(16);
    expect(r.phases['child-read']!.counters.pgfault).toBe(16); // fork makes the child's PTEs old
  });
});
