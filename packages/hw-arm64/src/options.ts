import { checkCpus } from '@mmsim/core';
import { GRANULES, type Granule, type GranuleGeometry } from './granule.js';
import {
  resolveProfile,
  type Arm64Profile,
  type CustomProfile,
  type ProfileName,
  type TlbGeometry,
} from './profiles.js';

/** Options of `createHardware()`; README "Options" documents each. */
export interface Arm64HardwareOptions {
  /** number of cores: 1 to 4096, MAX_CPUS (default: the profile's) */
  cpus?: number;
  /** cost profile: a name, or a custom profile ({ base, costs, geometry, ... }) */
  profile?: ProfileName | CustomProfile;
  /** translation granule; the simulator's base page stays 4 KiB (default '4K') */
  granule?: Granule;
  /** manage PTE_CONT like arch/arm64/mm/contpte.c (default true) */
  contpte?: boolean;
  /** HPA: coalesce N naturally aligned, physically contiguous PTEs into one TLB entry without the bit (0 = off) */
  hpa?: number;
  /** FEAT_HAFDBS: hardware access flag and dirty state (default true; see README) */
  hafdbs?: boolean;
  /** throw on a TLB hit whose translation no longer matches the page table (default: on under vitest) */
  coherenceCheck?: boolean;
  /** ASID width: 16 (default) or 8; smaller values (>= 2) to exercise rollover */
  asidBits?: number;
  /** FEAT_TLBIRANGE (default: the profile's) */
  tlbiRange?: boolean;
  /** also count core's nr_tlb_local_flush_one/all (real arm64 vmstat keeps them at 0; default false) */
  vmstatTlb?: boolean;
  l1Entries?: number;
  l1Ways?: number;
  l2Entries?: number;
  l2Ways?: number;
}

export interface ResolvedOptions {
  readonly cpus: number;
  readonly profile: Arm64Profile;
  readonly granule: GranuleGeometry;
  readonly contpte: boolean;
  readonly hpa: number;
  readonly hafdbs: boolean;
  readonly coherenceCheck: boolean;
  readonly asidBits: number;
  readonly tlbiRange: boolean;
  readonly vmstatTlb: boolean;
  readonly geometry: TlbGeometry;
}

const KNOWN = new Set([
  'cpus',
  'profile',
  'granule',
  'contpte',
  'hpa',
  'hafdbs',
  'coherenceCheck',
  'asidBits',
  'tlbiRange',
  'vmstatTlb',
  'l1Entries',
  'l1Ways',
  'l2Entries',
  'l2Ways',
]);

/** The option names createHardware() accepts (e.g. for `mmsim run --hardware` to drop another model's). */
export const hardwareOptionNames: readonly string[] = Object.freeze([...KNOWN]);

function underTest(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return !!env && (env.VITEST !== undefined || env.NODE_ENV === 'test');
}

function int(name: string, v: unknown, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new Error(`option ${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function bool(name: string, v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new Error(`option ${name} must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

/** Validate and complete the options (they may come from a scenario file as plain JSON). */
export function resolveOptions(raw: Record<string, unknown> = {}): ResolvedOptions {
  for (const k of Object.keys(raw)) {
    if (!KNOWN.has(k)) throw new Error(`unknown option "${k}" (known: ${[...KNOWN].join(', ')})`);
  }
  const profile = resolveProfile(raw.profile as ProfileName | CustomProfile | undefined);
  const g = (raw.granule ?? '4K') as Granule;
  const granule = GRANULES[g];
  if (!granule) throw new Error(`option granule must be one of 4K, 16K, 64K, got ${JSON.stringify(raw.granule)}`);
  const hpa = int('hpa', raw.hpa, 0) ?? 0;
  if (hpa !== 0 && (hpa & (hpa - 1)) !== 0) throw new Error(`option hpa must be 0 or a power of two, got ${hpa}`);
  if (hpa > 512) throw new Error(`option hpa must be at most 512, got ${hpa}`);
  const asidBits = int('asidBits', raw.asidBits, 2) ?? 16;
  if (asidBits > 16) throw new Error(`option asidBits must be at most 16, got ${asidBits}`);
  const geometry: TlbGeometry = {
    l1Entries: int('l1Entries', raw.l1Entries, 1) ?? profile.geometry.l1Entries,
    l1Ways:
      int('l1Ways', raw.l1Ways, 1) ??
      (raw.l1Entries !== undefined ? (raw.l1Entries as number) : profile.geometry.l1Ways),
    l2Entries: int('l2Entries', raw.l2Entries, 1) ?? profile.geometry.l2Entries,
    l2Ways: int('l2Ways', raw.l2Ways, 1) ?? profile.geometry.l2Ways,
  };
  return {
    cpus: checkCpus(raw.cpus, profile.defaultCpus), // 1..MAX_CPUS, the rule of every hardware model
    profile,
    granule,
    contpte: bool('contpte', raw.contpte) ?? true,
    hpa,
    hafdbs: bool('hafdbs', raw.hafdbs) ?? true,
    coherenceCheck: bool('coherenceCheck', raw.coherenceCheck) ?? underTest(),
    asidBits,
    tlbiRange: bool('tlbiRange', raw.tlbiRange) ?? profile.tlbiRange,
    vmstatTlb: bool('vmstatTlb', raw.vmstatTlb) ?? false,
    geometry,
  };
}
