/**
 * resetKernelState(): a composed system's machine state as a fresh one's, its composition kept.
 * For tools that run many short simulations on one composition (`mmsim check` fuzzing): the
 * hooks, their taps, the plugins, the hardware, the configuration and the counters' definitions
 * stay; the kernel's state (memory, page tables, swap, processes, CPUs, ids), the counters'
 * values and the cost clock start over. The hardware's state (a TLB) and any state a plugin
 * keeps between its calls are the caller's to know about: only when both hold none (or the
 * caller resets them) does the system then behave as a newly composed one.
 */
import { Kernel } from '../kernel/kernel.js';
import { forgetThpState } from '../kernel/huge-memory.js';
import { forgetKhugepagedState } from '../kernel/khugepaged-scan.js';
import { VmFault } from '../kernel/vm-fault.js';
import type { MmSystem } from './system.js';

export function resetKernelState(system: MmSystem): void {
  const k = system.kernel;
  // every field as the constructor makes it (the same hooks, hardware, stats, clock, config):
  // the kernel object stays the one the plugins' contexts and the hardware hold
  const fresh = new Kernel(k.hooks, k.hw, k.stats, k.clock, k.config);
  Object.assign(k, fresh);
  // what the constructor made with `this`: made again with the kept kernel
  (k as { vmf: VmFault }).vmf = new VmFault(k);
  forgetThpState(k);
  forgetKhugepagedState(k);
  system.stats.v.fill(0);
  const clock = system.clock;
  clock.cycles = 0;
  clock.userCycles = 0;
  clock.byCpu.fill(0);
}
