/**
 * Hardware names: `flat` (core's FlatHardware), `x86` (@mmsim/hw-x86), `arm64`
 * (@mmsim/hw-arm64), or a package name / relative path whose module exports
 * `createHardware(options)` (or a default export factory). Loading is @mmsim/check's
 * createHardware (the composer's) with these built-ins and the CLI's module loader.
 */
import {
  createHardware as composerCreateHardware,
  DEFAULT_CPUS,
  DEFAULT_HARDWARE,
  FLAT_HARDWARE,
  hardwareFactory,
  type BuiltinHardware,
  type HardwareRequest,
} from '@mmsim/check/compose';
import type { HardwareModel } from '@mmsim/core';
import { importModule, type ModuleNamespace } from './modules.js';

export { DEFAULT_CPUS, DEFAULT_HARDWARE, hardwareFactory, type HardwareRequest };

/** Built-in hardware names and the packages behind them. */
export const BUILTIN_HARDWARE: Readonly<Record<string, BuiltinHardware>> = {
  flat: FLAT_HARDWARE,
  x86: {
    description: '@mmsim/hw-x86: TLBs with PCID, IPI shootdowns',
    load: async () => (await import('@mmsim/hw-x86')) as unknown as ModuleNamespace,
  },
  arm64: {
    description: '@mmsim/hw-arm64: TLBI broadcast, contpte',
    load: async () => (await import('@mmsim/hw-arm64')) as unknown as ModuleNamespace,
  },
};

export const HARDWARE_PACKAGES: Readonly<Record<string, string>> = { x86: '@mmsim/hw-x86', arm64: '@mmsim/hw-arm64' };

/** Load and instantiate the hardware model. Throws ScenarioError (field `system.hardware`). */
export function createHardware(req: HardwareRequest): Promise<HardwareModel> {
  return composerCreateHardware({ builtins: BUILTIN_HARDWARE, packages: HARDWARE_PACKAGES, importModule, ...req });
}
