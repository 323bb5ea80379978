import { createSystem, FlatHardware, ScenarioSchema, runScenario, type MmPlugin, type RunResult, type SystemOptions } from '../src/index.js';

export function flatSystem(cpus = 2, opts: Partial<SystemOptions> = {}) {
  return createSystem({ hardware: new FlatHardware(cpus), ...opts });
}

/** Parse and run a scenario object on a flat-hardware system. */
export function run(
  scenario: unknown,
  opts: { cpus?: number; policies?: MmPlugin[]; presetPlugins?: MmPlugin[]; config?: SystemOptions['config'] } = {},
): RunResult {
  const sc = ScenarioSchema.parse(scenario);
  const sys = flatSystem(opts.cpus ?? 2, { policies: opts.policies ?? [], presetPlugins: opts.presetPlugins ?? [], config: opts.config ?? {} });
  return runScenario(sys, sc, { file: 'test.json' });
}
