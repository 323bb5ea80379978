import {
  createSystem,
  FlatHardware,
  ScenarioSchema,
  runScenario,
  type AnyPlugin,
  type MmSystem,
  type RunResult,
  type SystemOptions,
} from '../src/index.js';

export function flatSystem(cpus = 2, opts: Partial<SystemOptions> = {}) {
  return createSystem({ hardware: new FlatHardware(cpus), ...opts });
}

export interface RunOpts {
  cpus?: number;
  policies?: AnyPlugin[];
  presetPlugins?: AnyPlugin[];
  config?: SystemOptions['config'];
  seed?: number;
}

/** Parse and run a scenario object on a flat-hardware system; also return the system. */
export function runSys(scenario: unknown, opts: RunOpts = {}): { r: RunResult; sys: MmSystem } {
  const sc = ScenarioSchema.parse(scenario);
  const sys = flatSystem(opts.cpus ?? 2, {
    policies: opts.policies ?? [],
    presetPlugins: opts.presetPlugins ?? [],
    config: opts.config ?? {},
  });
  const r = runScenario(sys, sc, { file: 'test.json', ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
  return { r, sys };
}

/** Parse and run a scenario object on a flat-hardware system. */
export function run(scenario: unknown, opts: RunOpts = {}): RunResult {
  return runSys(scenario, opts).r;
}

/** A counter of one phase (0 when the counter stayed 0 and was omitted). */
export function ctr(r: RunResult, phase: string, name: string): number {
  const ph = phase === 'total' ? r.total : r.phases[phase];
  if (!ph) throw new Error(`no phase "${phase}" (have: ${Object.keys(r.phases).join(', ')})`);
  return ph.counters[name] ?? 0;
}

/** Several counters of one phase, for one toEqual. */
export function ctrs(r: RunResult, phase: string, names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, ctr(r, phase, n)]));
}

/** Meminfo (kB) at the end of a phase. */
export function mem(r: RunResult, phase: string) {
  const ph = phase === 'total' ? r.total : r.phases[phase];
  if (!ph) throw new Error(`no phase "${phase}"`);
  return ph.meminfo;
}

/** Run a scenario expected to fail; return the error. */
export function runError(scenario: unknown, opts: RunOpts = {}): Error {
  try {
    run(scenario, opts);
  } catch (e) {
    return e as Error;
  }
  throw new Error('the scenario ran without an error');
}
