/**
 * What is being checked (a composition: kernel preset × hardware × extra policies) and how a
 * run's system is built from it: its `system` section (systemSpec) through assembleSystem(),
 * the composer `mmsim run` and the replay use, so a written-out scenario replays on the same machine.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FlatHardware,
  type HardwareFactoryOptions,
  type HardwareModel,
  type AnyPlugin,
  type MmSystem,
  type PluginRefSpec,
  type SystemSpec,
} from '@mmsim/core';
import { getPreset, presetNames } from '@mmsim/presets';
import { assembleSystem } from './compose/compose.js';
import { createHardware as createStrictTlb } from './hardware/strict-tlb.js';
import { largeFoliosPolicy } from './policies/large-folios.js';
import { unsafeLargeCowPolicy } from './policies/unsafe-large-cow.js';
import { noFlushCowPolicy } from './policies/no-flush-cow.js';
import { invariantsPlugin } from './plugins/invariants.js';

/** Swap device used by checking runs: small, so the swap invariants scan it cheaply. */
export const CHECK_SWAP_SLOTS = 4096;
/**
 * The "pressure" variant: the smallest RAM a scenario may have (4 MiB, 1,024 pages) with
 * min_free_kbytes raised to 2 MiB (min / low / high 512 / 640 / 768 pages), so that kswapd wakes
 * after ~380 pages and direct reclaim after ~510: a fuzzing run of a few regions reclaims.
 */
export const PRESSURE_MEMORY = '4MiB';
export const PRESSURE_MIN_FREE_KBYTES = 2048;
/** LRU batch size of the "small batches" variant. */
export const SMALL_LRU_BATCH = 2;

/** A hardware model: how to build it for a run, and how a scenario file names it. */
export interface HardwareChoice {
  /** for messages */
  name: string;
  create: (options: HardwareFactoryOptions) => HardwareModel;
  /** `system.hardware` in a written scenario (a built-in name, package name or path) */
  ref?: string;
  /** `system.hardwareOptions` besides cpus */
  options?: Record<string, unknown>;
}

/** An extra policy: how to build it, and how a scenario file names it. */
export interface PolicyChoice {
  ref: PluginRefSpec;
  create: () => AnyPlugin | AnyPlugin[];
  /** for messages and `policies` of a result: the `--policy` value as typed (default: the ref's name) */
  label?: string;
}

/** Files of this package's own plugins and hardware, for `system.policies` / `system.hardware`. */
const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.extname(fileURLToPath(import.meta.url)) || '.js';
export const MODULE_FILES = {
  strictTlb: path.join(here, 'hardware', `strict-tlb${ext}`),
  largeFolios: path.join(here, 'policies', `large-folios${ext}`),
  unsafeLargeCow: path.join(here, 'policies', `unsafe-large-cow${ext}`),
  noFlushCow: path.join(here, 'policies', `no-flush-cow${ext}`),
  invariants: path.join(here, 'plugins', `invariants${ext}`),
} as const;

/** Built-in hardware names: `strict` (the checker's coherence-checking TLB) and `flat`. */
export function builtinHardware(name: string, options: Record<string, unknown> = {}): HardwareChoice | undefined {
  if (name === 'strict' || name === 'strict-tlb')
    return {
      name: 'strict-tlb',
      create: (o) => createStrictTlb({ ...options, ...o }),
      ref: `file:${MODULE_FILES.strictTlb}`,
      options,
    };
  if (name === 'flat') return { name: 'flat', create: (o) => new FlatHardware(o.cpus ?? 2), ref: 'flat', options };
  return undefined;
}

/** Built-in policy names: the demo policies of this package. */
export function builtinPolicy(name: string, options: Record<string, unknown> = {}): PolicyChoice | undefined {
  const ref = (file: string): PluginRefSpec =>
    Object.keys(options).length ? { name: `file:${file}`, options } : `file:${file}`;
  switch (name) {
    case 'unsafe-large-cow':
      return { ref: ref(MODULE_FILES.unsafeLargeCow), create: () => unsafeLargeCowPolicy(options) };
    case 'no-flush-cow':
      return { ref: ref(MODULE_FILES.noFlushCow), create: () => noFlushCowPolicy() };
    case 'large-folios':
      return { ref: ref(MODULE_FILES.largeFolios), create: () => largeFoliosPolicy(options) };
    default:
      return undefined;
  }
}

export interface Composition {
  kernel: string;
  hardware: HardwareChoice;
  cpus: number;
  policies: PolicyChoice[];
  /** THP on (`thp: { top: always }`): whole-table regions get PMD-mapped THPs */
  thp?: boolean;
  /** the multi-gen LRU on (`vm: { lruGen: true }`) */
  lruGen?: boolean;
  /** KSM on (`ksm: { run: 1, use_zero_pages: 1 }`), with KSM intents in the mix */
  ksm?: boolean;
}

export interface RunSystemOptions {
  largeFolios: boolean;
  swapSync: boolean;
  smallBatches: boolean;
  /** memory pressure: PRESSURE_MEMORY of RAM with raised watermarks, so reclaim runs in small runs */
  pressure?: boolean;
}

export function checkKernel(name: string): void {
  if (!getPreset(name)) throw new Error(`unknown kernel preset "${name}" (known: ${presetNames().join(', ')})`);
}

/** The system of one run: its `system` section, with the composition's hardware and policies made fresh. */
export function buildSystem(c: Composition, v: RunSystemOptions): MmSystem {
  const policies: AnyPlugin[] = [];
  for (const p of c.policies) {
    const made = p.create();
    policies.push(...(Array.isArray(made) ? made : [made]));
  }
  if (v.largeFolios) policies.push(largeFoliosPolicy());
  const hardware = c.hardware.create({ ...(c.hardware.options ?? {}), cpus: c.cpus });
  return assembleSystem(systemSpec(c, v), { hardware, policies });
}

/**
 * The scenario's `system` section for a run. Paths to this package's modules are written
 * relative to `dir` (the scenario file's directory) when given, else absolute.
 * `withInvariants` adds the invariants plugin, so replaying fails on a broken invariant.
 */
export function systemSpec(
  c: Composition,
  v: RunSystemOptions,
  opts: { dir?: string; withInvariants?: boolean } = {},
): SystemSpec {
  const rel = (ref: string): string => {
    if (!ref.startsWith('file:')) return ref;
    const abs = ref.slice('file:'.length);
    if (!opts.dir) return abs;
    const r = path.relative(opts.dir, abs).split(path.sep).join('/');
    return r.startsWith('.') ? r : `./${r}`;
  };
  const relRef = (r: PluginRefSpec): PluginRefSpec => (typeof r === 'string' ? rel(r) : { ...r, name: rel(r.name) });
  const policies: PluginRefSpec[] = c.policies.map((p) => relRef(p.ref));
  if (v.largeFolios) policies.push(rel(`file:${MODULE_FILES.largeFolios}`));
  if (opts.withInvariants) policies.push(rel(`file:${MODULE_FILES.invariants}`));
  const spec: SystemSpec = {
    hardware: rel(c.hardware.ref ?? c.hardware.name),
    hardwareOptions: { ...(c.hardware.options ?? {}), cpus: c.cpus },
    kernel: c.kernel,
    swap: { synchronousIo: v.swapSync, size: `${CHECK_SWAP_SLOTS * 4}KiB` },
  };
  if (policies.length) spec.policies = policies;
  if (v.smallBatches) spec.lruBatchSize = SMALL_LRU_BATCH;
  if (v.pressure) {
    spec.memory = PRESSURE_MEMORY;
    spec.vm = { minFreeKbytes: PRESSURE_MIN_FREE_KBYTES };
  }
  if (c.thp) spec.thp = { top: 'always' };
  if (c.lruGen) spec.vm = { ...spec.vm, lruGen: true };
  if (c.ksm) spec.ksm = { run: 1, use_zero_pages: 1 };
  return spec;
}

export { invariantsPlugin };
