/**
 * @mmsim/hw-x86: the x86-64 hardware model for mmsim: TLBs with PCID, IPI shootdowns with the
 * flush semantics of arch/x86/mm/tlb.c, and cost profiles for bare metal and a KVM guest.
 */
export { createHardware } from './create.js';
export { X86Hardware } from './hardware.js';
export {
  BARE_METAL,
  KVM_GUEST,
  KVM_EXIT_CYCLES,
  PROFILES,
  resolveProfile,
  type X86CostProfile,
  type ProfileName,
} from './profiles.js';
export { PLUGIN_NAME, TLB_NR_DYN_ASIDS, TLB_SINGLE_PAGE_FLUSH_CEILING } from './constants.js';
export { X86_COUNTERS, type X86Counter } from './counters.js';
export type { X86HardwareOptions, ResolvedX86Options } from './options.js';
export { hardwareOptionNames } from './options.js';
export { TlbArray, TLBF } from './tlb-array.js';
export { TlbHierarchy, PSC_ENTRIES } from './tlb-hierarchy.js';
export { AsidState } from './asid.js';
export { X86MmContext, mmContext } from './mm-context.js';
export { FlushEngine } from './flush.js';
export { createHardware as default } from './create.js';
