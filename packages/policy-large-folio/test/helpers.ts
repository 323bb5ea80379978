import {
  createSystem,
  definePlugin,
  FlatHardware,
  runScenario,
  ScenarioSchema,
  type MmPlugin,
  type RunResult,
  type SystemOptions,
} from '@mmsim/core';

/** v5.19+ rules for order-0 pages and R/O pins (what policy-refcount's linux-5.19 era does). */
export const anonExclusive: MmPlugin = definePlugin({
  name: 'anon-exclusive',
  api: '^1.0.0',
  apply: ({ hooks }) => {
    hooks.fault.wpReuse.tap('anon-exclusive', (ctx) => {
      if (ctx.folio.order !== 0) return undefined;
      if (ctx.page.exclusive) return 'reuse';
      return ctx.folio.refcount === 1 ? 'reuse' : 'copy';
    });
    hooks.fault.gupUnshare.tap('anon-exclusive', (ctx) => !ctx.page.exclusive);
    hooks.fork.page.tap('anon-exclusive', (ctx) =>
      ctx.parent.hasPinned && ctx.folio.maybePinned && ctx.page.exclusive ? 'copy' : undefined,
    );
  },
});

export function run(
  steps: unknown[],
  policies: MmPlugin[],
  thp: SystemOptions['config'] extends infer C ? (C extends { thp?: infer T } ? T : never) : never = { top: 'never' },
): RunResult {
  const sys = createSystem({ hardware: new FlatHardware(2), policies: [anonExclusive, ...policies], config: { thp } });
  return runScenario(sys, ScenarioSchema.parse({ name: 't', steps }));
}

export const c = (r: RunResult, ph: string, n: string): number =>
  (ph === 'total' ? r.total : r.phases[ph]!).counters[n] ?? 0;
export const cs = (r: RunResult, ph: string, ns: string[]) => Object.fromEntries(ns.map((n) => [n, c(r, ph, n)]));
export const mem = (r: RunResult, ph: string) => (ph === 'total' ? r.total : r.phases[ph]!).meminfo;
