import { describe, expect, test } from 'vitest';
import { createSystem, runScenario, ScenarioSchema } from '@mmsim/core';
import { createHardware } from '../src/index.js';

const F = [
  'nr_tlb_remote_flush',
  'nr_tlb_remote_flush_received',
  'nr_tlb_local_flush_one',
  'nr_tlb_local_flush_all',
  'tlb_local_inval',
  'tlb_remote_inval',
  'tlb_switch_flush',
];

function run(steps: unknown[], lazyMmCpumask: boolean, phase = 'exit', pcid = true): Record<string, number> {
  const sc = ScenarioSchema.parse({ name: 'exit-lazy', steps });
  const sys = createSystem({ hardware: createHardware({ cpus: 2, pcid }), config: { features: { lazyMmCpumask } } });
  const r = runScenario(sys, sc, { file: 'exit-lazy.json' });
  return Object.fromEntries(F.map((n) => [n, r.phases[phase]!.counters[n] ?? 0]));
}
const none = Object.fromEntries(F.map((n) => [n, 0]));

/*
 * exit_mm() (kernel/exit.c): mmgrab_lazy_tlb(), current->mm = NULL, enter_lazy_tlb() (x86: sets
 * cpu_tlbstate_shared.is_lazy), then mmput() → exit_mmap(). Its tlb_finish_mmu() → tlb_flush()
 * (fullmm) → flush_tlb_mm_range(): only this CPU in mm_cpumask and the mm still loaded, so
 * flush_tlb_func() runs locally, finds is_lazy and switch_mm_irqs_off(NULL, &init_mm) instead of
 * flushing: no NR_TLB_LOCAL_FLUSH_ALL, no local tlb_flush event. The same before and after
 * 209954cbc7d0 (the lazy mm_cpumask): the child never ran elsewhere.
 */
describe.each([false, true])('exit under lazy TLB on x86 (lazy mm_cpumask %s)', (lazy) => {
  test('a forked child that wrote 4 pages exits on its CPU: no flush, one switch to init_mm (a new ASID slot)', () => {
    const steps = [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write' },
      { op: 'fork', pid: 'p', child: 'c' },
      { op: 'touch', pid: 'c', region: 'a', access: 'write' },
      { op: 'exit', pid: 'c', phase: 'exit' },
    ];
    expect(run(steps, lazy)).toEqual({ ...none, tlb_switch_flush: 1 });
  });

  test("a second exit on the same CPU finds init_mm's ASID slot up to date: no flush on the switch either", () => {
    const child = (c: string, phase: string) => [
      { op: 'fork', pid: 'p', child: c },
      { op: 'touch', pid: c, region: 'a', access: 'write' },
      { op: 'exit', pid: c, phase },
    ];
    const steps = [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write' },
      ...child('c1', 'exit1'),
      ...child('c2', 'exit'),
    ];
    expect(run(steps, lazy)).toEqual(none);
    // without PCID choose_new_asid() always flushes (one ASID)
    expect(run(steps, lazy, 'exit', false)).toEqual({ ...none, tlb_switch_flush: 1 });
  });

  test('a process with a second thread on cpu 1: the IPI (freed tables) still goes out; the exiting CPU does not flush', () => {
    const steps = [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'thread', pid: 'p', cpu: 1, spin: true },
      { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write' },
      { op: 'exit', pid: 'p', phase: 'exit' },
    ];
    expect(run(steps, lazy)).toEqual({
      ...none,
      nr_tlb_remote_flush: 1,
      nr_tlb_remote_flush_received: 1,
      tlb_remote_inval: 1,
      tlb_switch_flush: 1,
    });
  });
});

/*
 * switch_mm_irqs_off() traces one TLB_FLUSH_ON_TASK_SWITCH event per call that changes the loaded
 * mm (pages 0, or ALL when it flushed): tlb_switch_mm counts them, the lazy switch to init_mm of
 * an exiting task included (tools/realkernel switch-pingpong, child-exit: 3 events).
 */
describe('tlb_switch_mm: every switch_mm_irqs_off() that changes the mm', () => {
  const count = (steps: unknown[], phase: string) => {
    const sc = ScenarioSchema.parse({ name: 'switch-mm', steps });
    const sys = createSystem({ hardware: createHardware({ cpus: 2 }) });
    const c = runScenario(sys, sc, { file: 'switch-mm.json' }).phases[phase]!.counters;
    return [c.tlb_switch_mm ?? 0, c.context_switch ?? 0];
  };
  const base = [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
    { op: 'touch', pid: 'p', region: 'a', access: 'write' },
    { op: 'fork', pid: 'p', child: 'c' },
    { op: 'access', pid: 'c', region: 'a', offset: '0KiB', access: 'read', phase: 'turns' },
    { op: 'access', pid: 'p', region: 'a', offset: '4KiB', access: 'read', phase: 'turns' },
  ];
  test('two mms taking turns on one CPU: one per turn, as context_switch', () => {
    expect(count(base, 'turns')).toEqual([2, 2]);
  });
  test('a child exits and the parent runs again: parent → child, child → init_mm, init_mm → parent', () => {
    const steps = [
      ...base,
      { op: 'exit', pid: 'c', phase: 'exit' },
      { op: 'compute', pid: 'p', cycles: 0, phase: 'exit' },
    ];
    expect(count(steps, 'exit')).toEqual([3, 2]);
  });
});
