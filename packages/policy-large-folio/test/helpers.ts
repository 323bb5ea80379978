import { createSystem, definePlugin, FlatHardware, PG, runScenario, ScenarioSchema, type MmPlugin, type RunResult, type SystemOptions } from '@mmsim/core';

/** v5.19+ rules for order-0 pages and R/O pins (what policy-refcount's linux-5.19 era does). */
export const anonExclusive: MmPlugin = definePlugin({
  name: 'anon-exclusive',
  apply: (sys) => {
    const f = sys.kernel.f;
    sys.hooks.fault.wpReuse.tap('anon-exclusive', (vmf) => {
      if (f.order[vmf.head] !== 0) return undefined;
      if ((f.flags[vmf.pfn]! & PG.anonExclusive) !== 0) return 'reuse';
      return f.ref[vmf.head] === 1 ? 'reuse' : 'copy';
    });
    sys.hooks.fault.gupUnshare.tap('anon-exclusive', (vmf) => (f.flags[vmf.pfn]! & PG.anonExclusive) === 0);
    sys.hooks.fork.page.tap('anon-exclusive', (ctx) =>
      ctx.parent.hasPinned && f.maybeDmaPinned(ctx.head) && (f.flags[ctx.pfn]! & PG.anonExclusive) !== 0 ? 'copy' : undefined,
    );
  },
});

export function run(steps: unknown[], policies: MmPlugin[], thp: SystemOptions['config'] extends infer C ? (C extends { thp?: infer T } ? T : never) : never = { top: 'never' }): RunResult {
  const sys = createSystem({ hardware: new FlatHardware(2), policies: [anonExclusive, ...policies], config: { thp } });
  return runScenario(sys, ScenarioSchema.parse({ name: 't', steps }));
}

export const c = (r: RunResult, ph: string, n: string): number => (ph === 'total' ? r.total : r.phases[ph]!).counters[n] ?? 0;
export const cs = (r: RunResult, ph: string, ns: string[]) => Object.fromEntries(ns.map((n) => [n, c(r, ph, n)]));
export const mem = (r: RunResult, ph: string) => (ph === 'total' ? r.total : r.phases[ph]!).meminfo;
