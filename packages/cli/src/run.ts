/** Load a scenario file, compose its system and run it. */
import { runScenario, ScenarioError, type MmSystem, type RunOptions, type RunResult } from '@mmsim/core';
import { locateError, readScenario } from './load.js';
import { resolveSystem } from './resolve.js';

export interface RunFileOptions {
  /** overrides the file's system.kernel */
  kernel?: string | undefined;
  /** overrides the file's system.hardware */
  hardware?: string | undefined;
  /** overrides the file's seed */
  seed?: number | undefined;
  /** called every 1024 leaf steps and at the end */
  onProgress?: ((done: number, total: number) => void) | undefined;
  /** called with the composed system before the run (e.g. @mmsim/trace's recordTrace) */
  instrument?: ((system: MmSystem) => Pick<RunOptions, 'onPhase'> | undefined) | undefined;
}

/** Run a scenario file. Throws ScenarioError for bad input, bad plugins and failed steps. */
export async function runScenarioFile(file: string, opts: RunFileOptions = {}): Promise<RunResult> {
  const loaded = await readScenario(file);
  const { scenario } = loaded;
  try {
    const system = await resolveSystem(scenario.system, {
      baseDir: loaded.baseDir,
      file,
      kernel: opts.kernel,
      hardware: opts.hardware,
    });
    const systemOptions: Record<string, unknown> = {};
    if (scenario.system?.hardwareOptions) systemOptions.hardwareOptions = scenario.system.hardwareOptions;
    if (scenario.system?.kernelOptions) systemOptions.kernelOptions = scenario.system.kernelOptions;
    const extra = opts.instrument?.(system);
    return runScenario(system, scenario, {
      ...extra,
      file,
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      systemOptions,
    });
  } catch (e) {
    if (e instanceof ScenarioError) {
      // a name given on the command line is not in the file: no line to point at
      const fromFlag =
        (e.field === 'system.kernel' && opts.kernel !== undefined) ||
        (e.field === 'system.hardware' && opts.hardware !== undefined);
      throw fromFlag ? e : locateError(e, loaded);
    }
    throw e;
  }
}
