/**
 * `system.hardware`: a built-in name (`flat`, core's FlatHardware; the CLI adds `x86` and
 * `arm64`), or a package name / relative path whose module exports `createHardware(options)`
 * (or a default export factory or class).
 */
import { FlatHardware, type CostProfile, type HardwareFactoryOptions, type HardwareModel } from '@mmsim/core';
import { errorText, systemError } from './errors.js';
import {
  importNative,
  isClass,
  isPathSpecifier,
  ModuleLoadError,
  type ModuleImporter,
  type ModuleNamespace,
} from './modules.js';

export const DEFAULT_HARDWARE = 'flat';
export const DEFAULT_CPUS = 2;

/** A hardware name that needs no module resolution: what it is, and its module. */
export interface BuiltinHardware {
  description: string;
  load: () => Promise<ModuleNamespace>;
}

export const FLAT_HARDWARE: BuiltinHardware = {
  description: 'core FlatHardware: no TLB, unit costs, x86-style flush accounting',
  load: async () => ({
    createHardware: (o: HardwareFactoryOptions = {}) =>
      new FlatHardware(o.cpus ?? DEFAULT_CPUS, (o.costs ?? {}) as Partial<CostProfile>),
  }),
};

export interface HardwareRequest {
  name: string;
  options: HardwareFactoryOptions;
  /** directory to resolve package names / relative paths from */
  baseDir: string;
  /** the scenario file, for messages */
  file: string;
  /** where the name came from, for messages (e.g. "--hardware") */
  source?: string;
  /** built-in names (default: flat) */
  builtins?: Readonly<Record<string, BuiltinHardware>>;
  /** package names of built-in names, for messages */
  packages?: Readonly<Record<string, string>>;
  /** default: import() without a TypeScript transpiler */
  importModule?: ModuleImporter;
}

type Factory = (options?: HardwareFactoryOptions) => HardwareModel;

/** The factory a hardware module exports, if any. */
export function hardwareFactory(mod: ModuleNamespace): Factory | undefined {
  const f = mod.createHardware ?? mod.default;
  if (typeof f !== 'function') return undefined;
  if (isClass(f)) return (o) => new f(o) as HardwareModel;
  return f as Factory;
}

/** Load and instantiate the hardware model. Throws ScenarioError (field `system.hardware`). */
export async function createHardware(req: HardwareRequest): Promise<HardwareModel> {
  const { name, file } = req;
  const builtins = req.builtins ?? { flat: FLAT_HARDWARE };
  const fail = (detail: string) =>
    systemError(file, 'system.hardware', req.source ? `${detail} (from ${req.source})` : detail);
  const builtin = Object.hasOwn(builtins, name) ? builtins[name] : undefined;
  let mod: ModuleNamespace;
  try {
    mod = builtin ? await builtin.load() : await (req.importModule ?? importNative)(name, req.baseDir);
  } catch (e) {
    if (e instanceof ModuleLoadError && !builtin && !isPathSpecifier(name) && /cannot find package/.test(e.message)) {
      throw fail(
        `unknown hardware "${name}" (built in: ${Object.keys(builtins).join(', ')}; or a package name or ./path exporting createHardware): ${e.message}`,
      );
    }
    throw fail(`hardware "${name}": ${errorText(e)}`);
  }
  const factory = hardwareFactory(mod);
  if (!factory) {
    const pkg = req.packages?.[name];
    throw fail(
      `hardware "${name}"${pkg && pkg !== name ? ` (${pkg})` : ''} does not export createHardware(options) or a default factory${pkg ? ' (is it built and implemented yet?)' : ''}`,
    );
  }
  const options = { cpus: DEFAULT_CPUS, ...req.options };
  let hw: unknown;
  try {
    hw = await (factory as (o: HardwareFactoryOptions) => unknown)(options); // a replay's loadHardware may be async
  } catch (e) {
    throw fail(`hardware "${name}" rejected its options ${JSON.stringify(req.options)}: ${errorText(e)}`);
  }
  const h = hw as Partial<HardwareModel> | null;
  if (
    !h ||
    typeof h !== 'object' ||
    typeof h.apply !== 'function' ||
    typeof h.tlbLookup !== 'function' ||
    typeof h.tlbFill !== 'function' ||
    typeof h.ncpus !== 'number'
  ) {
    throw fail(
      `hardware "${name}": createHardware() did not return a HardwareModel (name, ncpus, costs, apply, tlbLookup, tlbFill)`,
    );
  }
  return h as HardwareModel;
}
