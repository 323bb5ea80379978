import type { CostProfile } from '@mmsim/core';

/**
 * x86 cost profile: core's CostProfile plus what only this model charges. All values are
 * cycles at ~3 GHz. Every number is sourced in the package README ("Cost profiles").
 */
export interface X86CostProfile extends CostProfile {
  /** an L1 dTLB miss that hits the STLB (added to memAccess) */
  stlbHit: number;
}

/** Haswell/Skylake server, bare metal, mitigations off. */
export const BARE_METAL: Readonly<X86CostProfile> = Object.freeze({
  faultEntry: 1200,
  syscall: 150,
  zeroPage: 900,
  copyPage: 660,
  folioAlloc: 250,
  folioFree: 150,
  pteUpdate: 50,
  pteCopy: 70,
  // copy_present_ptes(): of pteCopy's 4 LOCK RMWs (~18 each) the folio refcount is paid once per batch
  pteCopyBatched: 52,
  // zap_present_ptes(): the PTE xchg and _mapcount stay per PTE; the rmap call and gather entry go
  pteZapBatched: 36,
  tableAlloc: 1150,
  tableFree: 150,
  swapIoPage: 3000,
  lruMove: 60,
  memAccess: 5,
  stlbHit: 9,
  walkLevel: 25,
  tlbFlushOne: 200,
  tlbFlushAll: 400,
  ipiSend: 2300,
  ipiPerTarget: 200,
  ipiHandle: 1000,
  contextSwitch: 600,
});

/**
 * One VM exit + re-entry including KVM's handling of it (an x2APIC ICR write, an external
 * interrupt, an EOI write) on Haswell. Used to derive the guest's IPI costs.
 */
export const KVM_EXIT_CYCLES = 1200;

/**
 * KVM guest on Haswell (EPT + VPID, no APICv / IPI virtualization, ple_gap=0, guest
 * idle=poll, mitigations=off), the machine of seed 000. Page faults, INVLPG and CR3 writes
 * do not exit with EPT; IPIs do: the sender's ICR write, and on the target the interrupt
 * delivery and the EOI write. Nested (2D) page walks cost more per level.
 */
export const KVM_GUEST: Readonly<X86CostProfile> = Object.freeze({
  ...BARE_METAL,
  walkLevel: 60,
  ipiSend: BARE_METAL.ipiSend + 3 * KVM_EXIT_CYCLES,
  ipiPerTarget: BARE_METAL.ipiPerTarget + KVM_EXIT_CYCLES,
  ipiHandle: BARE_METAL.ipiHandle + 2 * KVM_EXIT_CYCLES,
});

export const PROFILES = Object.freeze({ 'bare-metal': BARE_METAL, 'kvm-guest': KVM_GUEST } as const);
export type ProfileName = keyof typeof PROFILES;

/** A profile by name, or a (partial) object laid over bare-metal. */
export function resolveProfile(p: ProfileName | Partial<X86CostProfile> | undefined): X86CostProfile {
  if (p === undefined) return { ...BARE_METAL };
  if (typeof p === 'string') {
    const named = (PROFILES as Record<string, X86CostProfile>)[p];
    if (!named) throw new Error(`unknown x86 cost profile "${p}" (known: ${Object.keys(PROFILES).join(', ')})`);
    return { ...named };
  }
  const out: X86CostProfile = { ...BARE_METAL };
  for (const [k, v] of Object.entries(p)) {
    if (!(k in BARE_METAL)) throw new Error(`unknown cost "${k}" in the x86 cost profile`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new Error(`cost "${k}" must be a non-negative number`);
    (out as unknown as Record<string, number>)[k] = v;
  }
  return out;
}
