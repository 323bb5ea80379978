import { checkCpus } from '@mmsim/core';
import type { ProfileName, X86CostProfile } from './profiles.js';

export interface X86HardwareOptions {
  /** CPUs: 1 to 4096, MAX_CPUS (default 2) */
  cpus?: number;
  /** 'bare-metal' (default), 'kvm-guest', or costs laid over bare-metal */
  profile?: ProfileName | Partial<X86CostProfile>;
  /** PCID: keep up to TLB_NR_DYN_ASIDS mms' entries per CPU across switches (default true) */
  pcid?: boolean;
  /** skip lazy-TLB CPUs in shootdowns that free no page tables (default true, v4.19+) */
  lazyTlbSkip?: boolean;
  /** compare every TLB hit with a fresh page walk; throw on a stale translation (default true) */
  coherenceCheck?: boolean;
  /** L1 dTLB, 4 KiB pages (default 64 entries, 4 ways) */
  l1Entries?: number;
  l1Ways?: number;
  /** L1 dTLB, 2 MiB pages (default 32 entries, 4 ways) */
  l1Entries2M?: number;
  l1Ways2M?: number;
  /** second-level TLB, 4 KiB pages (default 1024 entries, 8 ways) */
  stlbEntries?: number;
  stlbWays?: number;
  /** second-level TLB, 2 MiB pages (default 1024 entries, 8 ways) */
  stlbEntries2M?: number;
  stlbWays2M?: number;
  /** AMD-style PTE coalescing: 4 aligned, contiguous 4 KiB PTEs share one entry (default false) */
  coalescing?: boolean;
  /** paging-structure caches (PML4E / PDPTE / PDE) that shorten walks (default true) */
  pagingStructureCache?: boolean;
  /** tlb_single_page_flush_ceiling (default 33) */
  flushCeiling?: number;
}

export interface ResolvedX86Options {
  cpus: number;
  pcid: boolean;
  lazyTlbSkip: boolean;
  coherenceCheck: boolean;
  l1Entries: number;
  l1Ways: number;
  l1Entries2M: number;
  l1Ways2M: number;
  stlbEntries: number;
  stlbWays: number;
  stlbEntries2M: number;
  stlbWays2M: number;
  coalescing: boolean;
  pagingStructureCache: boolean;
  flushCeiling: number;
}

const BOOL_KEYS = ['pcid', 'lazyTlbSkip', 'coherenceCheck', 'coalescing', 'pagingStructureCache'] as const;
const INT_KEYS = [
  'l1Entries',
  'l1Ways',
  'l1Entries2M',
  'l1Ways2M',
  'stlbEntries',
  'stlbWays',
  'stlbEntries2M',
  'stlbWays2M',
  'flushCeiling',
] as const;
const KNOWN = new Set<string>([...BOOL_KEYS, 'cpus', ...INT_KEYS, 'profile', 'paging-structure-cache', 'pscache']);

/** The option names createHardware() accepts (e.g. for `mmsim run --hardware` to drop another model's). */
export const hardwareOptionNames: readonly string[] = Object.freeze([...KNOWN]);

export function resolveOptions(o: X86HardwareOptions & Record<string, unknown>): ResolvedX86Options {
  for (const k of Object.keys(o)) {
    if (!KNOWN.has(k)) throw new Error(`unknown x86 hardware option "${k}" (known: ${[...KNOWN].join(', ')})`);
  }
  const r: ResolvedX86Options = {
    cpus: 2,
    pcid: true,
    lazyTlbSkip: true,
    // on under test (vitest / NODE_ENV=test), off otherwise: set it for checked runs
    coherenceCheck: underTest(),
    l1Entries: 64,
    l1Ways: 4,
    l1Entries2M: 32,
    l1Ways2M: 4,
    stlbEntries: 1024,
    stlbWays: 8,
    stlbEntries2M: 1024,
    stlbWays2M: 8,
    coalescing: false,
    pagingStructureCache: (o['paging-structure-cache'] ?? o['pscache'] ?? true) as boolean,
    flushCeiling: 33,
  };
  for (const k of BOOL_KEYS) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new Error(`x86 hardware option "${k}" must be a boolean`);
    r[k] = v;
  }
  for (const k of INT_KEYS) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < (k === 'flushCeiling' ? 0 : 1)) {
      throw new Error(`x86 hardware option "${k}" must be a positive integer`);
    }
    r[k] = v;
  }
  r.cpus = checkCpus(o.cpus, r.cpus); // 1..MAX_CPUS, the rule of every hardware model
  return r;
}

/** Running under a test runner (vitest sets VITEST; or NODE_ENV=test). */
function underTest(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return !!env && (env.VITEST !== undefined || env.NODE_ENV === 'test');
}
