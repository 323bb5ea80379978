import {
  createSystem,
  mmapAnon,
  runScenario,
  ScenarioSchema,
  userAccess,
  type Kernel,
  type MmPlugin,
  type MmSystem,
  type Process,
  type RunResult,
  type Vma,
} from '@mmsim/core';
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

/** The v5.8 do_wp_page() rule (reuse_swap_page: mapcount only, refcount ignored), as in hw-x86's tests. */
export const v58Reuse: MmPlugin = {
  name: 'test-v5.8-wp-reuse',
  api: '^1.0.0',
  apply(ctx) {
    ctx.hooks.fault.wpReuse.tap('test-v5.8-wp-reuse', (vmf) =>
      vmf.folio.order === 0 && vmf.page.mapcount === 1 ? 'reuse' : undefined,
    );
  },
};

/**
 * Seed 000's forceswap on arm64, the same scenario as hw-x86's test/helpers.ts forceswap():
 * rounds of MADV_PAGEOUT / read / write of one page, with a spinning second thread.
 */
export function forceswap(opts: { threads: number; rounds: number; v58: boolean }): RunResult {
  const sc = ScenarioSchema.parse({
    name: 'forceswap',
    system: { swap: { synchronousIo: true } },
    steps: [
      { op: 'spawn', pid: 'p', cpu: 0 },
      ...(opts.threads > 1 ? [{ op: 'thread', pid: 'p', cpu: 1, spin: true }] : []),
      { op: 'mmap', pid: 'p', name: 'buf', size: 4096 },
      { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 1 },
      {
        op: 'repeat',
        times: opts.rounds,
        steps: [
          { op: 'madvise', pid: 'p', region: 'buf', advice: 'pageout', phase: 'pageout' },
          { op: 'access', pid: 'p', region: 'buf', access: 'read', phase: 'read' },
          { op: 'access', pid: 'p', region: 'buf', access: 'write', phase: 'write' },
        ],
      },
    ],
  });
  const sys = createSystem({
    hardware: createHardware({ cpus: 2 }),
    policies: opts.v58 ? [v58Reuse] : [],
    config: { swap: { synchronousIo: true } },
  });
  return runScenario(sys, sc, { file: 'forceswap.json' });
}
