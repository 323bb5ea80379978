/**
 * Replaying a scenario the way `mmsim run` does, without the CLI: compose the system its
 * `system` section names (preset, hardware and policies by package name or path, swap and
 * LRU settings), run it with core's runScenario, and say whether it failed (a failed
 * `expect`, or a step that threw, e.g. the invariants plugin or a stale TLB hit).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSystem, FlatHardware, parseSize, PAGE_SIZE, runScenario, ScenarioSchema, type HardwareModel, type AnyPlugin, type MmSystem, type PluginRefSpec, type RunResult, type Scenario } from '@mmsim/core';
import { DEFAULT_PRESET, resolvePreset } from '@mmsim/presets';

export interface ReplayResult {
  failed: boolean;
  /** the failed checks, or the error of the step that threw */
  message: string;
  result?: RunResult;
}

type Mod = Record<string, unknown>;

async function load(spec: string, baseDir: string): Promise<Mod> {
  const isPath = spec.startsWith('.') || path.isAbsolute(spec) || spec.startsWith('file:');
  const target = isPath ? pathToFileURL(spec.startsWith('file:') ? new URL(spec).pathname : path.resolve(baseDir, spec)).href : spec;
  return (await import(target)) as Mod;
}

async function plugins(ref: PluginRefSpec, baseDir: string): Promise<AnyPlugin[]> {
  const name = typeof ref === 'string' ? ref : ref.name;
  const options = typeof ref === 'string' ? {} : (ref.options ?? {});
  const mod = await load(name, baseDir);
  for (const key of ['default', 'plugins', 'plugin', 'createPlugin']) {
    let v = mod[key];
    if (v === undefined) continue;
    if (typeof v === 'function') v = (v as (o: unknown) => unknown)(options);
    return (Array.isArray(v) ? v : [v]) as AnyPlugin[];
  }
  throw new Error(`policy "${name}" exports no plugin factory`);
}

/** Compose the system of a scenario (as the CLI's resolveSystem does). */
export async function systemOf(sc: Scenario, baseDir: string, loadHardware?: (name: string, options: Record<string, unknown>) => HardwareModel | Promise<HardwareModel>): Promise<MmSystem> {
  const s = sc.system ?? {};
  const kernel = s.kernel ?? DEFAULT_PRESET;
  const preset = resolvePreset(kernel, s.kernelOptions ?? {});
  const hwName = s.hardware ?? 'flat';
  const hwOptions = { cpus: 2, ...(s.hardwareOptions ?? {}) } as Record<string, unknown> & { cpus: number };
  let hardware: HardwareModel;
  if (hwName === 'flat') hardware = new FlatHardware(hwOptions.cpus);
  else if (loadHardware && !hwName.startsWith('.') && !path.isAbsolute(hwName)) hardware = await loadHardware(hwName, hwOptions);
  else {
    const mod = await load(hwName, baseDir);
    const f = (mod.createHardware ?? mod.default) as (o: unknown) => HardwareModel;
    hardware = f(hwOptions);
  }
  const policies: AnyPlugin[] = [];
  for (const ref of s.policies ?? []) policies.push(...(await plugins(ref, baseDir)));
  return createSystem({
    hardware,
    presetPlugins: preset.plugins,
    policies,
    config: {
      lruBatchSize: s.lruBatchSize ?? preset.config.lruBatchSize ?? 31,
      ...(s.swap ? { swap: { ...(s.swap.synchronousIo !== undefined ? { synchronousIo: s.swap.synchronousIo } : {}), ...(s.swap.size !== undefined ? { slots: parseSize(s.swap.size) / PAGE_SIZE } : {}) } } : {}),
      features: { ...(preset.config.features ?? {}) },
      ...(s.thp ? { thp: s.thp } : {}),
    },
    kernelName: kernel,
  });
}

/** Run a scenario object (or the JSON of one); `baseDir` resolves relative plugin paths. */
export async function replayScenario(input: Scenario | unknown, baseDir: string, opts: { loadHardware?: (name: string, options: Record<string, unknown>) => HardwareModel | Promise<HardwareModel> } = {}): Promise<ReplayResult> {
  const sc = ScenarioSchema.parse(input);
  let sys: MmSystem;
  try {
    sys = await systemOf(sc, baseDir, opts.loadHardware);
  } catch (e) {
    return { failed: true, message: `setting up the system failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  try {
    const result = runScenario(sys, sc, { file: sc.name });
    if (result.checks.failed > 0) return { failed: true, message: result.checks.failures.map((f) => `${f.step}: ${f.message}`).join('; '), result };
    return { failed: false, message: 'passed', result };
  } catch (e) {
    return { failed: true, message: e instanceof Error ? e.message : String(e) };
  }
}
