/**
 * Kernel presets: a named kernel = configuration for its era + the policy plugins that give
 * its decisions. Policy packages fill the plugin lists in (see each package's issue).
 */
import type { KernelConfig, MmPlugin } from '@mmsim/core';

export interface PresetConfig {
  lruBatchSize?: number;
  features?: Partial<KernelConfig['features']>;
}

export interface KernelPreset {
  readonly name: string;
  readonly description: string;
  /** the preset this one extends (its config and plugins come first) */
  readonly extends?: string;
  readonly config: PresetConfig;
  /** build the preset's own plugins (options come from the scenario's kernelOptions) */
  plugins(options: Record<string, unknown>): MmPlugin[];
}

const none = (): MmPlugin[] => [];

export const PRESETS: Readonly<Record<string, KernelPreset>> = Object.freeze({
  'linux-5.8': {
    name: 'linux-5.8',
    description: 'v5.8: reuse_swap_page() mapcount rule in do_wp_page(); PAGEVEC_SIZE 15',
    config: { lruBatchSize: 15, features: { tryChangeWritable: false, thpAlignAnon: false, swapinFreeOnWrite: false } },
    plugins: none,
  },
  'linux-5.9': {
    name: 'linux-5.9',
    description: 'v5.9: do_wp_page() simplification (09854ba94c6a), page_count() == 1',
    extends: 'linux-5.8',
    config: {},
    plugins: none,
  },
  'linux-5.18': {
    name: 'linux-5.18',
    description: 'v5.18: COW fixes part 1 (swap cache exclusive reuse, local lru_add_drain)',
    extends: 'linux-5.9',
    config: {},
    plugins: none,
  },
  'linux-5.19': {
    name: 'linux-5.19',
    description: 'v5.19: PageAnonExclusive; mprotect upgrades exclusive pages writable',
    extends: 'linux-5.18',
    config: { features: { tryChangeWritable: true, swapinFreeOnWrite: true } },
    plugins: none,
  },
  'linux-6.8': {
    name: 'linux-6.8',
    description: 'v6.8: multi-size THP (mTHP); folio_batch of 31; THP-aligned anonymous mappings',
    extends: 'linux-5.19',
    config: { lruBatchSize: 31, features: { thpAlignAnon: true } },
    plugins: none,
  },
  'linux-6.18': {
    name: 'linux-6.18',
    description: 'v6.18: large-folio reuse (__wp_can_reuse_large_anon_folio)',
    extends: 'linux-6.8',
    config: {},
    plugins: none,
  },
});

export const DEFAULT_PRESET = 'linux-6.18';

/** Registering a preset from a plugin package or a research repository. */
const extra = new Map<string, KernelPreset>();
export function registerPreset(p: KernelPreset): void {
  extra.set(p.name, p);
}

export function getPreset(name: string): KernelPreset | undefined {
  return extra.get(name) ?? PRESETS[name];
}

export function presetNames(): string[] {
  return [...new Set([...Object.keys(PRESETS), ...extra.keys()])];
}

/** The preset's chain, oldest ancestor first. */
export function presetChain(name: string): KernelPreset[] {
  const chain: KernelPreset[] = [];
  for (let p = getPreset(name); p; p = p.extends ? getPreset(p.extends) : undefined) {
    if (chain.includes(p)) throw new Error(`preset cycle at ${p.name}`);
    chain.unshift(p);
  }
  if (chain.length === 0) throw new Error(`unknown kernel preset "${name}" (known: ${presetNames().join(', ')})`);
  return chain;
}

/** The merged configuration and the plugin list of a preset (ancestors first). */
export function resolvePreset(name: string, options: Record<string, unknown> = {}): { config: PresetConfig; plugins: MmPlugin[] } {
  const chain = presetChain(name);
  const config: PresetConfig = { features: {} };
  const plugins: MmPlugin[] = [];
  for (const p of chain) {
    if (p.config.lruBatchSize !== undefined) config.lruBatchSize = p.config.lruBatchSize;
    Object.assign(config.features!, p.config.features ?? {});
    plugins.push(...p.plugins(options));
  }
  return { config, plugins };
}
