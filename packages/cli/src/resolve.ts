/**
 * The scenario's `system` → a composed core MmSystem: hardware model, kernel preset (its
 * configuration and plugins), extra policies and the kernel configuration overrides.
 */
import path from 'node:path';
import { createSystem, parseSize, PAGE_SIZE, ScenarioError, type MmPlugin, type MmSystem, type SystemOptions, type SystemSpec, type ThpMode } from '@mmsim/core';
import { DEFAULT_PRESET, getPreset, presetNames, resolvePreset } from '@mmsim/presets';
import { errorText, systemError } from './errors.js';
import { createHardware, DEFAULT_HARDWARE } from './hardware.js';
import { guardApply, loadPolicy } from './plugins.js';

export interface ResolveOptions {
  /** directory relative plugin/hardware paths and package names are resolved from */
  baseDir: string;
  /** the scenario file, for messages */
  file: string;
  /** overrides system.kernel (the --kernel flag) */
  kernel?: string | undefined;
  /** overrides system.hardware (the --hardware flag) */
  hardware?: string | undefined;
}

/** Compose the system a scenario asks for. Throws ScenarioError naming the `system.*` field. */
export async function resolveSystem(spec: SystemSpec | undefined, opts: ResolveOptions): Promise<MmSystem> {
  const s = spec ?? {};
  const { file } = opts;
  const baseDir = path.resolve(opts.baseDir);

  // configuration first: cheap to check, and errors here are the most likely typos
  const config = kernelConfig(s, file);

  const kernelName = opts.kernel ?? s.kernel ?? DEFAULT_PRESET;
  const kernelSource = opts.kernel !== undefined ? ' (from --kernel)' : '';
  if (!getPreset(kernelName)) {
    throw systemError(file, 'system.kernel', `unknown kernel preset "${kernelName}"${kernelSource} (known: ${presetNames().join(', ')})`);
  }
  let preset: ReturnType<typeof resolvePreset>;
  try {
    preset = resolvePreset(kernelName, s.kernelOptions ?? {});
  } catch (e) {
    throw systemError(file, 'system.kernel', `kernel preset "${kernelName}"${kernelSource}: ${errorText(e)}`);
  }
  if (s.lruBatchSize === undefined && preset.config.lruBatchSize !== undefined) config.lruBatchSize = preset.config.lruBatchSize;
  if (preset.config.features) config.features = { ...preset.config.features };

  const hardware = await createHardware({
    name: opts.hardware ?? s.hardware ?? DEFAULT_HARDWARE,
    options: { ...(s.hardwareOptions ?? {}) },
    // a name typed on the command line is resolved from the working directory
    baseDir: opts.hardware !== undefined ? process.cwd() : baseDir,
    file,
    ...(opts.hardware !== undefined ? { source: '--hardware' } : {}),
  });

  const policies: MmPlugin[] = [];
  const refs = s.policies ?? [];
  for (let i = 0; i < refs.length; i++) {
    for (const p of await loadPolicy({ ref: refs[i]!, index: i, baseDir, file })) policies.push(guardApply(p, file, `system.policies[${i}]`));
  }
  const presetPlugins = preset.plugins.map((p) => guardApply(p, file, 'system.kernel'));

  try {
    return createSystem({ hardware, presetPlugins, policies, config, kernelName });
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    throw systemError(file, 'system.hardware', `setting up hardware "${hardware.name}" failed: ${errorText(e)}`);
  }
}

type ConfigOverrides = NonNullable<SystemOptions['config']>;

/** The KernelConfig overrides written in the scenario (thp, swap, memory, lruBatchSize). */
export function kernelConfig(s: SystemSpec, file: string): ConfigOverrides {
  const config: ConfigOverrides = {};
  if (s.lruBatchSize !== undefined) config.lruBatchSize = s.lruBatchSize;
  if (s.memory !== undefined) config.memoryPages = pages(s.memory, file, 'system.memory');
  if (s.swap) {
    const swap: NonNullable<ConfigOverrides['swap']> = {};
    if (s.swap.synchronousIo !== undefined) swap.synchronousIo = s.swap.synchronousIo;
    if (s.swap.size !== undefined) swap.slots = pages(s.swap.size, file, 'system.swap.size');
    config.swap = swap;
  }
  if (s.thp) config.thp = thpConfig(s.thp, file);
  return config;
}

function pages(v: number | string, file: string, field: string): number {
  const bytes = parseSize(v);
  if (Number.isNaN(bytes)) throw systemError(file, field, `not a size: ${JSON.stringify(v)}`);
  if (bytes % PAGE_SIZE !== 0) throw systemError(file, field, `${bytes} is not a multiple of ${PAGE_SIZE}`);
  return bytes / PAGE_SIZE;
}

/**
 * `thp: { top: never, 2048K: always, 64K: madvise }`. Keys are "top" (the global switch) or
 * a folio size, normalised to sysfs's `<n>K` spelling ("2M" and "2MiB" become "2048K").
 */
export function thpConfig(thp: Record<string, ThpMode>, file: string): Record<string, ThpMode> {
  const out: Record<string, ThpMode> = {};
  for (const [key, mode] of Object.entries(thp)) {
    if (key === 'top' || key === 'enabled') {
      out.top = mode;
      continue;
    }
    const bytes = parseSize(key);
    const pagesN = bytes / PAGE_SIZE;
    if (Number.isNaN(bytes) || !Number.isInteger(pagesN) || pagesN < 2 || pagesN > 512 || (pagesN & (pagesN - 1)) !== 0) {
      throw systemError(file, `system.thp.${key}`, `not a THP size: use "top" or a power-of-two size from 8K to 2048K (e.g. "64K", "2048K")`);
    }
    out[`${bytes / 1024}K`] = mode;
  }
  return out;
}
