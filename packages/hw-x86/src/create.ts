import type { HardwareFactoryOptions } from '@mmsim/core';
import { X86Hardware } from './hardware.js';
import { resolveOptions, type X86HardwareOptions } from './options.js';
import { resolveProfile } from './profiles.js';

/** The package's hardware factory: `createHardware({ cpus: 2, profile: 'kvm-guest' })`. */
export function createHardware(options: X86HardwareOptions | HardwareFactoryOptions = {}): X86Hardware {
  const o = options as X86HardwareOptions & Record<string, unknown>;
  const resolved = resolveOptions(o);
  const profile = resolveProfile(o.profile);
  const name = typeof o.profile === 'string' ? o.profile : o.profile === undefined ? 'bare-metal' : 'custom';
  return new X86Hardware(resolved, profile, name);
}
