import {
  createSystem,
  ScenarioSchema,
  runScenario,
  type AnyPlugin,
  type MmPlugin,
  type RunResult,
  type MmSystem,
} from '@mmsim/core';
import { createHardware } from '../src/index.js';
import type { X86HardwareOptions } from '../src/options.js';

export function x86System(opts: X86HardwareOptions = {}, policies: AnyPlugin[] = []): MmSystem {
  return createSystem({ hardware: createHardware({ cpus: 2, ...opts }), policies });
}

/** The v5.8 do_wp_page() rule (reuse_swap_page: mapcount only, refcount ignored). */
export const v58Reuse: MmPlugin = {
  name: 'test-v5.8-wp-reuse',
  api: '^1.0.0',
  apply(ctx) {
    ctx.hooks.fault.wpReuse.tap('test-v5.8-wp-reuse', (vmf) =>
      vmf.folio.order === 0 && vmf.page.mapcount === 1 ? 'reuse' : undefined,
    );
  },
};

/** Seed 000's forceswap: rounds of MADV_PAGEOUT / read / timed write of one page. */
export function forceswap(opts: {
  threads: number;
  rounds: number;
  v58: boolean;
  profile?: 'bare-metal' | 'kvm-guest';
}): RunResult {
  const steps: unknown[] = [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'buf', size: 4096 },
    { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 1 },
  ];
  const thread = opts.threads > 1 ? [{ op: 'thread', pid: 'p', cpu: 1, spin: true }] : [];
  const sc = ScenarioSchema.parse({
    name: 'forceswap',
    system: { swap: { synchronousIo: true } },
    steps: [
      steps[0],
      ...thread,
      steps[1],
      steps[2],
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
    hardware: createHardware({ cpus: 2, profile: opts.profile ?? 'kvm-guest' }),
    policies: opts.v58 ? [v58Reuse] : [],
    config: { swap: { synchronousIo: true } },
  });
  return runScenario(sys, sc, { file: 'forceswap.json' });
}
