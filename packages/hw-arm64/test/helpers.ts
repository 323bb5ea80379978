import { createSystem, mmapAnon, userAccess, type Kernel, type MmSystem, type Process, type Vma } from '@mmsim/core';
import { createHardware, type Arm64Hardware, type Arm64HardwareOptions } from '../src/index.js';

export interface Rig {
  sys: MmSystem;
  k: Kernel;
  hw: Arm64Hardware;
}

/**
 * A 4-CPU arm64 system. `order` > 0 taps fault.anonOrders so anonymous faults allocate folios
 * of that order (4: 64 KiB, one contpte block each).
 */
export function rig(
  opts: Arm64HardwareOptions = {},
  order = 4,
  config: Parameters<typeof createSystem>[0]['config'] = {},
): Rig {
  const hw = createHardware({ cpus: 4, coherenceCheck: true, ...opts });
  const sys = createSystem({ hardware: hw, config });
  if (order > 0) sys.hooks.fault.anonOrders.tap('test-orders', () => 1 << order);
  return { sys, k: sys.kernel, hw };
}

export function region(r: Rig, p: Process, pages: number, name = 'buf'): Vma {
  return mmapAnon(r.k, p.mm, pages, name, { alignPages: 512 });
}

/** Touch every page of [start, start + pages) `rounds` times. */
export function touch(r: Rig, p: Process, start: number, pages: number, write: boolean, rounds = 1, value = 1): void {
  const t = p.main;
  for (let i = 0; i < rounds; i++) {
    for (let v = start; v < start + pages; v++) userAccess(r.k, t, v, write, value);
  }
}

export function stat(r: Rig, name: string): number {
  return r.sys.stats.get(name);
}

/** Counter deltas of `fn`. */
export function delta(r: Rig, names: readonly string[], fn: () => void): Record<string, number> {
  const before = names.map((n) => r.sys.stats.get(n));
  fn();
  return Object.fromEntries(names.map((n, i) => [n, r.sys.stats.get(n) - before[i]!]));
}
