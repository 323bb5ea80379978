/**
 * Hardware names: `flat` (core's FlatHardware), `x86` (@mmsim/hw-x86), `arm64`
 * (@mmsim/hw-arm64), or a package name / relative path whose module exports
 * `createHardware(options)` (or a default export factory).
 */
import { FlatHardware, type CostProfile, type HardwareFactoryOptions, type HardwareModel } from '@mmsim/core';
import { errorText, systemError } from './errors.js';
import { importModule, isClass, isPathSpecifier, ModuleLoadError, type ModuleNamespace } from './modules.js';

export const DEFAULT_HARDWARE = 'flat';
export const DEFAULT_CPUS = 2;

/** Built-in hardware names and the packages behind them. */
export const BUILTIN_HARDWARE: Readonly<Record<string, { description: string; load: () => Promise<ModuleNamespace> }>> = {
  flat: {
    description: 'core FlatHardware: no TLB, unit costs, x86-style flush accounting',
    load: async () => ({ createHardware: (o: HardwareFactoryOptions = {}) => new FlatHardware(o.cpus ?? DEFAULT_CPUS, (o.costs ?? {}) as Partial<CostProfile>) }),
  },
  x86: { description: '@mmsim/hw-x86: TLBs with PCID, IPI shootdowns', load: async () => (await import('@mmsim/hw-x86')) as unknown as ModuleNamespace },
  arm64: { description: '@mmsim/hw-arm64: TLBI broadcast, contpte', load: async () => (await import('@mmsim/hw-arm64')) as unknown as ModuleNamespace },
};

export const HARDWARE_PACKAGES: Readonly<Record<string, string>> = { x86: '@mmsim/hw-x86', arm64: '@mmsim/hw-arm64' };

export interface HardwareRequest {
  name: string;
  options: HardwareFactoryOptions;
  /** directory to resolve package names / relative paths from */
  baseDir: string;
  /** the scenario file, for messages */
  file: string;
  /** where the name came from, for messages (e.g. "--hardware") */
  source?: string;
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
  const fail = (detail: string) => systemError(file, 'system.hardware', req.source ? `${detail} (from ${req.source})` : detail);
  const builtin = Object.hasOwn(BUILTIN_HARDWARE, name) ? BUILTIN_HARDWARE[name] : undefined;
  let mod: ModuleNamespace;
  try {
    mod = builtin ? await builtin.load() : await importModule(name, req.baseDir);
  } catch (e) {
    if (e instanceof ModuleLoadError && !builtin && !isPathSpecifier(name) && /cannot find package/.test(e.message)) {
      throw fail(`unknown hardware "${name}" (built in: ${Object.keys(BUILTIN_HARDWARE).join(', ')}; or a package name or ./path exporting createHardware)`);
    }
    throw fail(`hardware "${name}": ${errorText(e)}`);
  }
  const factory = hardwareFactory(mod);
  if (!factory) {
    const pkg = HARDWARE_PACKAGES[name];
    throw fail(`hardware "${name}"${pkg && pkg !== name ? ` (${pkg})` : ''} does not export createHardware(options) or a default factory${pkg ? ' (is it built and implemented yet?)' : ''}`);
  }
  const options = { cpus: DEFAULT_CPUS, ...req.options };
  let hw: unknown;
  try {
    hw = factory(options);
  } catch (e) {
    throw fail(`hardware "${name}" rejected its options ${JSON.stringify(req.options)}: ${errorText(e)}`);
  }
  const h = hw as Partial<HardwareModel> | null;
  if (!h || typeof h !== 'object' || typeof h.apply !== 'function' || typeof h.tlbLookup !== 'function' || typeof h.tlbFill !== 'function' || typeof h.ncpus !== 'number') {
    throw fail(`hardware "${name}": createHardware() did not return a HardwareModel (name, ncpus, costs, apply, tlbLookup, tlbFill)`);
  }
  return h as HardwareModel;
}
