/**
 * @mmsim/hw-arm64: the arm64 hardware model for mmsim. ASIDs (context.c), broadcast TLB
 * invalidation (TLBI ... IS + DSB ISH, no IPIs), the contiguous bit (contpte.c), HPA
 * coalescing, TLB coherence checking and cost profiles. See README.md.
 */
import type { HardwareFactoryOptions } from '@mmsim/core';
import { Arm64Hardware } from './hardware.js';
import { resolveOptions, type Arm64HardwareOptions } from './options.js';

export { Arm64Hardware, PLUGIN_NAME } from './hardware.js';
export {
  resolveOptions,
  hardwareOptionNames,
  type Arm64HardwareOptions,
  type ResolvedOptions,
} from './options.js';
export {
  PROFILES,
  NEOVERSE_N1,
  APPLE_M2_VM,
  PHONE,
  resolveProfile,
  type Arm64Profile,
  type Arm64CostProfile,
  type CustomProfile,
  type ProfileName,
  type TlbGeometry,
} from './profiles.js';
export { GRANULES, type Granule, type GranuleGeometry } from './granule.js';
export { ContPte, PTE_CONT, coalescable } from './contpte.js';
export { AsidAllocator, type AsidContext } from './asid.js';
export { TlbArray } from './tlb.js';
export { BroadcastTlbi, MAX_DVM_OPS, MAX_TLBI_RANGE_PAGES, type CoreTlbs } from './tlbi.js';
export { ARM64_COUNTERS, type Arm64Counter } from './counters.js';
export { checkCoherent } from './coherence.js';

/** The package's hardware factory (what the CLI and scenario files load). */
export function createHardware(options: Arm64HardwareOptions | HardwareFactoryOptions = {}): Arm64Hardware {
  return new Arm64Hardware(resolveOptions(options as Record<string, unknown>));
}

export default createHardware;
