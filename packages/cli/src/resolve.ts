/**
 * The scenario's `system` → a composed core MmSystem, through @mmsim/check's composeSystem()
 * (the one composer `mmsim run`, `mmsim check` and check's replay share) with the CLI's
 * module loader (TypeScript through jiti) and hardware names (x86, arm64).
 */
import type { MmSystem, SystemSpec } from '@mmsim/core';
import { composeSystem, kernelConfig, thpConfig } from '@mmsim/check/compose';
import { BUILTIN_HARDWARE, HARDWARE_PACKAGES } from './hardware.js';
import { importModule } from './modules.js';

export { kernelConfig, thpConfig };

export interface ResolveOptions {
  /** directory relative plugin/hardware paths and package names are resolved from */
  baseDir: string;
  /** the scenario file, for messages */
  file: string;
  /** overrides system.kernel (the --kernel flag) */
  kernel?: string | undefined;
  /** overrides system.hardware (the --hardware flag) */
  hardware?: string | undefined;
  /** how `system.policies[i]` is named in messages when not by its field (e.g. `--policy X`) */
  policySource?: ((index: number) => string | undefined) | undefined;
  /** a plugin composed twice with the same options (composed once): one sentence */
  onWarning?: ((message: string) => void) | undefined;
}

/** Compose the system a scenario asks for. Throws ScenarioError naming the `system.*` field. */
export function resolveSystem(spec: SystemSpec | undefined, opts: ResolveOptions): Promise<MmSystem> {
  return composeSystem(spec, {
    ...opts,
    importModule,
    builtinHardware: BUILTIN_HARDWARE,
    hardwarePackages: HARDWARE_PACKAGES,
  });
}
