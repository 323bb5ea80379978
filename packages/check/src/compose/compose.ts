/**
 * composeSystem(): a scenario's `system` block → a composed MmSystem, for `mmsim run`, `mmsim
 * check` and check's replay alike. It lives in @mmsim/check because that is the lowest package
 * both the CLI (which depends on check) and check's replay can import that may use @mmsim/presets.
 */
import path from 'node:path';
import {
  createSystem,
  ScenarioError,
  type HardwareModel,
  type AnyPlugin,
  type MmSystem,
  type SystemSpec,
} from '@mmsim/core';
import { DEFAULT_PRESET, getPreset, presetChain, presetNames, resolvePreset } from '@mmsim/presets';
import { kernelConfig } from './config.js';
import { errorText, systemError } from './errors.js';
import { createHardware, DEFAULT_HARDWARE, type BuiltinHardware } from './hardware.js';
import type { ModuleImporter } from './modules.js';
import { dropDuplicates, type SourcedPlugin } from './duplicates.js';
import { guardApply, loadPolicy } from './plugins.js';

export interface ComposeOptions {
  /** directory relative plugin/hardware paths and package names are resolved from */
  baseDir: string;
  /** the scenario file, for messages (default `<scenario>`) */
  file?: string | undefined;
  /** overrides system.kernel (the --kernel flag) */
  kernel?: string | undefined;
  /** overrides system.hardware (the --hardware flag; resolved from the working directory) */
  hardware?: string | undefined;
  /** loads plugin and hardware modules (default: import() without a TypeScript transpiler) */
  importModule?: ModuleImporter | undefined;
  /** built-in hardware names (default: flat) */
  builtinHardware?: Readonly<Record<string, BuiltinHardware>> | undefined;
  /** package names of built-in hardware names, for messages */
  hardwarePackages?: Readonly<Record<string, string>> | undefined;
  /** how `system.policies[i]` is named in messages when not by its field (e.g. `--policy X`) */
  policySource?: ((index: number) => string | undefined) | undefined;
  /** a plugin composed twice with the same options (composed once): one sentence */
  onWarning?: ((message: string) => void) | undefined;
}

/** Compose the system a `system` block asks for. Throws ScenarioError naming the `system.*` field. */
export async function composeSystem(spec: SystemSpec | undefined, opts: ComposeOptions): Promise<MmSystem> {
  const s = spec ?? {};
  const file = opts.file ?? '<scenario>';
  const baseDir = path.resolve(opts.baseDir);
  const kernelName = opts.kernel ?? s.kernel ?? DEFAULT_PRESET;
  const kernelSource = opts.kernel !== undefined ? ' (from --kernel)' : '';
  const block: SystemSpec = { ...s, kernel: kernelName };
  // configuration first: cheap to check, and errors here are the most likely typos
  kernelConfig(block, file);
  const preset = presetOf(block, file, kernelSource);
  const hardware = await createHardware({
    name: opts.hardware ?? s.hardware ?? DEFAULT_HARDWARE,
    options: { ...(s.hardwareOptions ?? {}) },
    // a name typed on the command line is resolved from the working directory
    baseDir: opts.hardware !== undefined ? process.cwd() : baseDir,
    file,
    ...(opts.hardware !== undefined ? { source: '--hardware' } : {}),
    ...(opts.builtinHardware ? { builtins: opts.builtinHardware } : {}),
    ...(opts.hardwarePackages ? { packages: opts.hardwarePackages } : {}),
    ...(opts.importModule ? { importModule: opts.importModule } : {}),
  });
  const policies: AnyPlugin[] = [];
  const policySources: PolicySource[] = [];
  const refs = s.policies ?? [];
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]!;
    const field = `system.policies[${i}]`;
    const source = {
      field,
      source: opts.policySource?.(i) ?? `${field} "${typeof ref === 'string' ? ref : ref.name}"`,
      options: typeof ref === 'string' ? {} : (ref.options ?? {}),
    };
    for (const p of await loadPolicy({
      ref: refs[i]!,
      index: i,
      baseDir,
      file,
      ...(opts.importModule ? { importModule: opts.importModule } : {}),
    })) {
      policies.push(guardApply(p, file, field));
      policySources.push(source);
    }
  }
  return assembleSystem(block, {
    hardware,
    policies,
    policySources,
    presetSource: `system.kernel "${kernelName}"${kernelSource}`,
    file,
    guard: true,
    preset,
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
  });
}

export interface AssembleOptions {
  hardware: HardwareModel;
  /** the extra policies, already made */
  policies: AnyPlugin[];
  /** where each of `policies` came from, for duplicates (default `system.policies`) */
  policySources?: readonly PolicySource[] | undefined;
  /** where the preset came from, for duplicates (default `system.kernel "NAME"`) */
  presetSource?: string | undefined;
  /** a plugin composed twice with the same options (composed once): one sentence (default: silent) */
  onWarning?: ((message: string) => void) | undefined;
  /** for messages (default `<scenario>`) */
  file?: string | undefined;
  /** turn a failing apply() of the preset's plugins or the hardware into ScenarioErrors naming the field (composeSystem does) */
  guard?: boolean;
  /** the block's kernel preset, resolved (default: resolved here) */
  preset?: ResolvedPreset;
}

type ResolvedPreset = ReturnType<typeof resolvePreset>;

/** Where an extra policy came from: its field, a label for messages, the options it was given. */
export interface PolicySource {
  field: string;
  source: string;
  options?: Record<string, unknown> | undefined;
}

/** The block's kernel preset with its kernelOptions. Throws ScenarioError (field `system.kernel`). */
function presetOf(s: SystemSpec, file: string, kernelSource = ''): ResolvedPreset {
  const kernelName = s.kernel ?? DEFAULT_PRESET;
  if (!getPreset(kernelName)) {
    throw systemError(
      file,
      'system.kernel',
      `unknown kernel preset "${kernelName}"${kernelSource} (known: ${presetNames().join(', ')})`,
    );
  }
  const options = s.kernelOptions ?? {};
  const keys = Object.keys(options);
  const known = keys.length ? [...new Set(presetChain(kernelName).flatMap((p) => Object.keys(p.slots)))] : [];
  for (const key of keys) {
    if (!known.includes(key))
      throw systemError(
        file,
        `system.kernelOptions.${key}`,
        `kernel preset "${kernelName}"${kernelSource} has no slot "${key}" (known slots: ${known.join(', ')})`,
      );
  }
  try {
    return resolvePreset(kernelName, options);
  } catch (e) {
    throw systemError(file, 'system.kernel', `kernel preset "${kernelName}"${kernelSource}: ${errorText(e)}`);
  }
}

/**
 * The synchronous half of composeSystem: preset + configuration overrides + made hardware and
 * policies → createSystem. `mmsim check` builds every fuzzing run's system with it (its
 * hardware and policies are factories resolved once), so runs and replays agree on the config.
 */
export function assembleSystem(s: SystemSpec, o: AssembleOptions): MmSystem {
  const file = o.file ?? '<scenario>';
  const config = kernelConfig(s, file);
  const kernelName = s.kernel ?? DEFAULT_PRESET;
  const preset = o.preset ?? presetOf(s, file);
  if (s.lruBatchSize === undefined && preset.config.lruBatchSize !== undefined)
    config.lruBatchSize = preset.config.lruBatchSize;
  if (preset.config.features) config.features = { ...preset.config.features };
  const composed = composePlugins(preset.plugins, o, file, o.presetSource ?? `system.kernel "${kernelName}"`);
  const presetPlugins = o.guard ? composed.preset.map((p) => guardApply(p, file, 'system.kernel')) : composed.preset;
  const policies = composed.policies;
  if (!o.guard) return createSystem({ hardware: o.hardware, presetPlugins, policies, config, kernelName });
  try {
    return createSystem({ hardware: o.hardware, presetPlugins, policies, config, kernelName });
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    throw systemError(file, 'system.hardware', `setting up hardware "${o.hardware.name}" failed: ${errorText(e)}`);
  }
}

/**
 * The preset's plugins and the extra policies with duplicates (duplicates.ts) dropped: the same
 * options warn through `o.onWarning`; different options throw a ScenarioError naming the later field.
 */
function composePlugins(
  presetPlugins: readonly AnyPlugin[],
  o: Pick<AssembleOptions, 'policies' | 'policySources' | 'onWarning'>,
  file: string,
  presetSource: string,
): { preset: AnyPlugin[]; policies: AnyPlugin[] } {
  const fields = new Map<SourcedPlugin, string>();
  const policies = o.policies.map((plugin, i): SourcedPlugin => {
    const src = o.policySources?.[i];
    const s: SourcedPlugin = { plugin, source: src?.source ?? 'system.policies', options: src?.options };
    fields.set(s, src?.field ?? 'system.policies');
    return s;
  });
  const r = dropDuplicates(
    presetPlugins.map((plugin) => ({ plugin, source: presetSource })),
    policies,
  );
  const conflict = r.duplicates.find((d) => !d.same);
  if (conflict) throw systemError(file, fields.get(conflict.second) ?? 'system.policies', conflict.detail);
  for (const d of r.duplicates) o.onWarning?.(d.detail);
  return { preset: r.preset, policies: r.policies };
}
