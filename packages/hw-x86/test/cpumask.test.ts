import { describe, expect, test } from 'vitest';
import { createSystem, definePlugin, runScenario, ScenarioSchema, type RunResult } from '@mmsim/core';
import { createHardware } from '../src/index.js';

const F = [
  'nr_tlb_remote_flush',
  'nr_tlb_remote_flush_received',
  'ipi_sent',
  'tlb_lazy_skip',
  'nr_tlb_local_flush_one',
  'nr_tlb_local_flush_all',
];

function run(steps: unknown[], lazyMmCpumask: boolean, thp = false): RunResult {
  const sc = ScenarioSchema.parse({ name: 'cpumask', steps });
  const policies = thp
    ? [
        definePlugin({
          name: 'thp-test',
          api: '^1.0.0',
          apply: (sys) => sys.hooks.fault.anonOrders.tap('thp-test', (o) => o | (1 << 9)),
        }),
      ]
    : [];
  const sys = createSystem({
    hardware: createHardware({ cpus: 2 }),
    policies,
    config: { features: { lazyMmCpumask } },
  });
  return runScenario(sys, sc, { file: 'cpumask.json' });
}
const pick = (r: RunResult, ph: string) => Object.fromEntries(F.map((n) => [n, r.phases[ph]!.counters[n] ?? 0]));
const none = { ...Object.fromEntries(F.map((n) => [n, 0])) };

/**
 * A thread of p runs on cpu 1 once; then q runs there (spinning: cpu 1 is busy with q's mm,
 * not lazy). p's main thread on cpu 0 then zaps one page (no tables freed), munmaps a region
 * alone in its page table (tables freed), and zaps one page again.
 */
const leftBehind = [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'thread', pid: 'p', cpu: 1 },
  { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
  { op: 'mmap', pid: 'p', name: 'b', size: '2MiB', align: '2MiB' },
  { op: 'touch', pid: 'p', region: 'a', access: 'write' },
  { op: 'access', pid: 'p', region: 'b', access: 'write' },
  { op: 'access', pid: 'p', cpu: 1, region: 'a', access: 'read' },
  { op: 'spawn', pid: 'q', cpu: 1 },
  { op: 'thread', pid: 'q', cpu: 1, spin: true },
  { op: 'madvise', pid: 'p', region: 'a', size: '4KiB', advice: 'dontneed', phase: 'zap1' },
  { op: 'munmap', pid: 'p', region: 'b', phase: 'unmap' },
  { op: 'madvise', pid: 'p', region: 'a', offset: '4KiB', size: '4KiB', advice: 'dontneed', phase: 'zap2' },
];

describe('mm_cpumask as x86 keeps it', () => {
  test('before v6.14: switch_mm_irqs_off() clears cpu 1 from p when q runs there, no flush of p is remote', () => {
    const r = run(leftBehind, false);
    const local = (n: number) => ({ ...none, nr_tlb_local_flush_one: n });
    expect(pick(r, 'zap1')).toEqual(local(1));
    expect(pick(r, 'unmap')).toEqual(local(1));
    expect(pick(r, 'zap2')).toEqual(local(1));
  });

  test("v6.14+ (209954cbc7d0): cpu 1 stays in p's mask and counts remote flushes until a flush IPI clears it", () => {
    const r = run(leftBehind, true);
    // flush_tlb_multi(): remote (cpu 1 in the mask) but should_flush_tlb() is false: q is loaded
    expect(pick(r, 'zap1')).toEqual({ ...none, nr_tlb_remote_flush: 1, nr_tlb_local_flush_one: 1 });
    // freed tables: on_each_cpu_mask() IPIs cpu 1; flush_tlb_func() finds q loaded and clears it
    expect(pick(r, 'unmap')).toEqual({
      ...none,
      nr_tlb_remote_flush: 1,
      nr_tlb_remote_flush_received: 1,
      ipi_sent: 1,
      nr_tlb_local_flush_one: 1,
    });
    expect(pick(r, 'zap2')).toEqual({ ...none, nr_tlb_local_flush_one: 1 });
  });

  test('v6.14+: a CPU left in the mask and now idle (lazy) is skipped without an IPI', () => {
    const steps = [
      ...leftBehind.slice(0, 7),
      { op: 'spawn', pid: 'q', cpu: 1 },
      { op: 'mmap', pid: 'q', name: 'x', size: '4KiB' },
      { op: 'access', pid: 'q', region: 'x', access: 'write' }, // q ran on cpu 1, now idle
      { op: 'madvise', pid: 'p', region: 'a', size: '4KiB', advice: 'dontneed', phase: 'zap1' },
    ];
    expect(pick(run(steps, true), 'zap1')).toEqual({
      ...none,
      nr_tlb_remote_flush: 1,
      tlb_lazy_skip: 1,
      nr_tlb_local_flush_one: 1,
    });
    expect(pick(run(steps, false), 'zap1')).toEqual({ ...none, nr_tlb_local_flush_one: 1 });
  });

  /*
   * userfaultfd_register() only changes VMA flags (vma_merge / split_vma,
   * userfaultfd_set_vm_flags): no PTE changes, no flush of its own. A registration that splits a
   * VMA through a THP splits the PMD (split_vma → vma_adjust_trans_huge → split_huge_pmd):
   * flush_pmd_tlb_range(), remote with the monitor's CPU in the mask.
   */
  test('UFFDIO_REGISTER(wp) with a monitor thread live on cpu 1', () => {
    const base = [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'thread', pid: 'p', cpu: 1, spin: true }, // the monitor, polling the uffd
      { op: 'mmap', pid: 'p', name: 'a', size: '4MiB', align: '2MiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write' },
    ];
    const whole = run([...base, { op: 'uffdRegister', pid: 'p', region: 'a', mode: 'wp', phase: 'reg' }], true, true);
    expect(pick(whole, 'reg')).toEqual(none);
    const half = run(
      [...base, { op: 'uffdRegister', pid: 'p', region: 'a', size: '1MiB', mode: 'wp', phase: 'reg' }],
      true,
      true,
    );
    expect(pick(half, 'reg')).toEqual({
      ...none,
      nr_tlb_remote_flush: 1,
      nr_tlb_remote_flush_received: 1,
      ipi_sent: 1,
      nr_tlb_local_flush_all: 1,
    });
    expect(half.phases.reg!.counters.thp_split_pmd).toBe(1);
  });
});

/*
 * switch_mm_irqs_off() with PCID: choose_new_asid() keeps each mm's ASID slot; a switch back
 * flushes only if the mm's tlb_gen moved on meanwhile (need_flush), whether or not the CPU
 * stayed in the mask. No other full flush on a context switch.
 */
test.each([false, true])(
  'PCID: switching back to p flushes its ASID only if p was flushed meanwhile (lazy mask %s)',
  (lazy) => {
    const steps = (zap: boolean) => [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'thread', pid: 'p', cpu: 1 },
      { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write' },
      { op: 'spawn', pid: 'q', cpu: 1 },
      { op: 'mmap', pid: 'q', name: 'x', size: '4KiB' },
      { op: 'phase', name: 'switches' },
      { op: 'access', pid: 'p', cpu: 1, region: 'a', access: 'read' },
      { op: 'access', pid: 'q', region: 'x', access: 'write' },
      ...(zap ? [{ op: 'madvise', pid: 'p', region: 'a', size: '4KiB', advice: 'dontneed' }] : []),
      { op: 'access', pid: 'p', cpu: 1, region: 'a', offset: '8KiB', access: 'read' },
    ];
    const names = ['context_switch', 'tlb_switch_flush', 'tlb_lazy_catchup'];
    const get = (r: RunResult) => Object.fromEntries(names.map((n) => [n, r.phases.switches!.counters[n] ?? 0]));
    // cpu 1 (q got its ASID at its mmap): p (new ASID: flush), q (its slot, up to date), p again (up to date)
    expect(get(run(steps(false), lazy))).toEqual({ context_switch: 3, tlb_switch_flush: 1, tlb_lazy_catchup: 0 });
    // p's zap on cpu 0 moved p's tlb_gen past cpu 1's copy: the switch back flushes that ASID once
    expect(get(run(steps(true), lazy))).toEqual({ context_switch: 3, tlb_switch_flush: 2, tlb_lazy_catchup: 0 });
  },
);
