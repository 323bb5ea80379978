import type { CostProfile } from '@mmsim/core';

/**
 * arm64 costs: core's CostProfile plus what arm64 prices on its own (broadcast TLBI and the
 * DSB ISH that waits for every core), and the machine's default TLB geometry.
 * Every number is sourced or derived in README.md ("Cost profiles").
 */
export interface Arm64CostProfile extends CostProfile {
  /** a TLB lookup that misses the L1 (micro) TLB and hits the L2 (main) TLB */
  tlbL2Hit: number;
  /** issuing one TLBI ... IS instruction (without waiting for it) */
  tlbiIssue: number;
  /** DSB ISH after broadcast TLBIs: fixed part */
  dsbBase: number;
  /** DSB ISH: extra per core in the inner-shareable domain */
  dsbPerCore: number;
}

export interface TlbGeometry {
  /** L1 data TLB: entries and associativity (ways === entries: fully associative) */
  l1Entries: number;
  l1Ways: number;
  /** L2 (main, unified) TLB */
  l2Entries: number;
  l2Ways: number;
}

export interface Arm64Profile {
  readonly name: string;
  readonly description: string;
  /** CPUs when the caller does not say */
  readonly defaultCpus: number;
  /** FEAT_TLBIRANGE (ARMv8.4): range TLBIs, ceiling MAX_TLBI_RANGE_PAGES instead of MAX_DVM_OPS */
  readonly tlbiRange: boolean;
  readonly geometry: TlbGeometry;
  readonly costs: Arm64CostProfile;
}

/**
 * DSB ISH cost, derived (README): ptep_clear_flush() took 5.36% of CPU on an 8-core
 * Snapdragon 888 and 16.99% on a ~100-core Kunpeng 920 in the same page-out microbenchmark
 * (Barry Song / Yicong Yang, "arm64: support batched/deferred tlb shootdown during page
 * reclamation"). With W = 28,000 cycles of other work per page (estimate: ~10 us per
 * MADV_PAGEOUT + swap-in round trip on zram at 2.8 GHz): F(8) = 0.0567 W ≈ 1,590 cycles,
 * F(100) = 0.2048 W ≈ 5,730 cycles, so F(N) ≈ 1,230 + 45 N.
 */
const DSB_BASE = 1230;
const DSB_PER_CORE = 45;

/** Ampere Altra (Neoverse N1, 3.0 GHz, 80 cores; Altra Max: 128). */
export const NEOVERSE_N1: Arm64Profile = Object.freeze({
  name: 'neoverse-n1',
  description: 'Ampere Altra Q80-30: 80 Neoverse N1 cores at 3.0 GHz, ARMv8.2 (no FEAT_TLBIRANGE)',
  defaultCpus: 80,
  tlbiRange: false,
  geometry: Object.freeze({ l1Entries: 48, l1Ways: 48, l2Entries: 1280, l2Ways: 5 }),
  costs: Object.freeze({
    faultEntry: 1500,
    syscall: 300,
    zeroPage: 897, // clear_page 13.7 GB/s at 3.0 GHz
    copyPage: 661, // folio copy 18.6 GB/s at 3.0 GHz
    folioAlloc: 450,
    folioFree: 300,
    pteUpdate: 30,
    pteCopy: 20,
    pteCopyBatched: 15, // 3 of pteCopy's 4 atomics per further PTE of a batch (README)
    pteZapBatched: 22,
    tableAlloc: 1350, // allocation + clear_page
    tableFree: 300,
    swapIoPage: 6000,
    lruMove: 50,
    memAccess: 4, // N1 L1D load-to-use
    walkLevel: 25,
    tlbFlushOne: 40,
    tlbFlushAll: 80,
    ipiSend: 0, // arm64 never IPIs for TLB maintenance
    ipiPerTarget: 0,
    ipiHandle: 0,
    contextSwitch: 2000,
    tlbL2Hit: 5,
    tlbiIssue: 12,
    dsbBase: DSB_BASE,
    dsbPerCore: DSB_PER_CORE,
  }),
});

/** A Linux VM (4 KiB granule guest) on an Apple M2 (8 cores, 3.5 GHz P-cores). */
export const APPLE_M2_VM: Arm64Profile = Object.freeze({
  name: 'apple-m2-vm',
  description: 'Linux guest with 4 KiB pages on Apple M2 (4P+4E, 3.5 GHz), stage-2 translation',
  defaultCpus: 8,
  tlbiRange: true,
  geometry: Object.freeze({ l1Entries: 160, l1Ways: 160, l2Entries: 3072, l2Ways: 12 }),
  costs: Object.freeze({
    faultEntry: 3000, // guest exception + occasional stage-2 fault (estimate)
    syscall: 350,
    zeroPage: 1046, // 13.7 GB/s at 3.5 GHz
    copyPage: 771, // 18.6 GB/s at 3.5 GHz
    folioAlloc: 450,
    folioFree: 300,
    pteUpdate: 30,
    pteCopy: 20,
    pteCopyBatched: 15, // 3 of pteCopy's 4 atomics per further PTE of a batch (README)
    pteZapBatched: 22,
    tableAlloc: 1500,
    tableFree: 300,
    swapIoPage: 7000,
    lruMove: 50,
    memAccess: 3,
    walkLevel: 75, // nested walk: each guest level needs a stage-2 lookup (estimate, x3)
    tlbFlushOne: 40,
    tlbFlushAll: 80,
    ipiSend: 0,
    ipiPerTarget: 0,
    ipiHandle: 0,
    contextSwitch: 2500,
    tlbL2Hit: 6,
    tlbiIssue: 12,
    dsbBase: DSB_BASE,
    dsbPerCore: DSB_PER_CORE,
  }),
});

/** An 8-core phone (Snapdragon 888 class: Cortex-X1 + 3x A78 + 4x A55, ARMv8.2). */
export const PHONE: Arm64Profile = Object.freeze({
  name: 'phone',
  description: 'Snapdragon 888 class phone: 8 cores (1x X1, 3x A78, 4x A55) at up to 2.84 GHz, ARMv8.2',
  defaultCpus: 8,
  tlbiRange: false,
  geometry: Object.freeze({ l1Entries: 32, l1Ways: 32, l2Entries: 1024, l2Ways: 4 }),
  costs: Object.freeze({
    faultEntry: 1800,
    syscall: 350,
    zeroPage: 849, // 13.7 GB/s at 2.84 GHz
    copyPage: 625, // 18.6 GB/s at 2.84 GHz
    folioAlloc: 500,
    folioFree: 350,
    pteUpdate: 35,
    pteCopy: 25,
    pteCopyBatched: 19, // 3 of pteCopy's 4 atomics per further PTE of a batch (README)
    pteZapBatched: 25,
    tableAlloc: 1350,
    tableFree: 350,
    swapIoPage: 6000,
    lruMove: 60,
    memAccess: 4,
    walkLevel: 30,
    tlbFlushOne: 40,
    tlbFlushAll: 80,
    ipiSend: 0,
    ipiPerTarget: 0,
    ipiHandle: 0,
    contextSwitch: 2200,
    tlbL2Hit: 5,
    tlbiIssue: 12,
    dsbBase: DSB_BASE,
    dsbPerCore: DSB_PER_CORE,
  }),
});

export const PROFILES: Readonly<Record<string, Arm64Profile>> = Object.freeze({
  'neoverse-n1': NEOVERSE_N1,
  'apple-m2-vm': APPLE_M2_VM,
  phone: PHONE,
});

export type ProfileName = 'neoverse-n1' | 'apple-m2-vm' | 'phone';

/** A custom profile: a base profile's values overridden field by field. */
export interface CustomProfile {
  base?: ProfileName;
  name?: string;
  defaultCpus?: number;
  tlbiRange?: boolean;
  geometry?: Partial<TlbGeometry>;
  costs?: Partial<Arm64CostProfile>;
}

export function resolveProfile(p: ProfileName | CustomProfile | undefined): Arm64Profile {
  if (p === undefined) return NEOVERSE_N1;
  if (typeof p === 'string') {
    const found = PROFILES[p];
    if (!found) throw new Error(`unknown arm64 profile "${p}" (known: ${Object.keys(PROFILES).join(', ')})`);
    return found;
  }
  const base = resolveProfile(p.base ?? 'neoverse-n1');
  return {
    name: p.name ?? `${base.name}+custom`,
    description: `custom profile based on ${base.name}`,
    defaultCpus: p.defaultCpus ?? base.defaultCpus,
    tlbiRange: p.tlbiRange ?? base.tlbiRange,
    geometry: { ...base.geometry, ...p.geometry },
    costs: { ...base.costs, ...p.costs },
  };
}
