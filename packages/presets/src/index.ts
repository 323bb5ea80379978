/**
 * Kernel presets: a named kernel = configuration for its era + the policy plugins that give
 * its decisions. Policy packages fill the plugin lists in (see each package's issue).
 */
import type { KernelConfig, MmPlugin } from '@mmsim/core';
import refcountPolicy from '@mmsim/policy-refcount';
import largeFolioPolicy from '@mmsim/policy-large-folio';
import { cowPtePreset } from '@mmsim/policy-cowpte';

/**
 * A preset slot: makes the slot's policy plugin (a policy API 1.0 `MmPlugin`, `api: '^1.0.0'`)
 * from the scenario's `kernelOptions`.
 */
export type PresetSlot = (options: Record<string, unknown>) => MmPlugin;

export interface PresetConfig {
  lruBatchSize?: number;
  features?: Partial<KernelConfig['features']>;
}

export interface KernelPreset {
  readonly name: string;
  readonly description: string;
  /** the preset this one extends (its config and plugins come first) */
  readonly extends?: string;
  /**
   * The mainline release whose interfaces the preset has ('5.9', '6.18'; a research preset
   * names its base). Unset: the nearest ancestor's. era-rules.ts checks scenarios against it.
   */
  readonly kernelVersion?: string;
  readonly config: PresetConfig;
  /**
   * The preset's policy plugins by slot ('refcount', 'largeFolio', ...). A preset that extends
   * another replaces the slots it names and inherits the rest. Options come from the scenario's
   * `kernelOptions`.
   */
  slots: Record<string, PresetSlot>;
}

const lf =
  (e: NonNullable<Parameters<typeof largeFolioPolicy>[0]>): PresetSlot =>
  (o) =>
    largeFolioPolicy({ ...e, ...((o.largeFolio as object | undefined) ?? {}) });

const era =
  (e: Parameters<typeof refcountPolicy>[0]): PresetSlot =>
  (o) =>
    refcountPolicy({ ...e, ...((o.refcount as object | undefined) ?? {}) });

export const PRESETS: Readonly<Record<string, KernelPreset>> = Object.freeze({
  'linux-5.7': {
    name: 'linux-5.7',
    kernelVersion: '5.7',
    description: 'v5.7: the mapcount rule without the GUP COW-break workaround (CVE-2020-29374 reproducer)',
    extends: 'linux-5.8',
    // reuse_ksm_page() (52d1e606ee73) came with v5.8: v5.7 copies every written KSM page
    config: { features: { ksmReuseKsmPage: false } },
    slots: { refcount: era({ era: 'linux-5.7' }) },
  },
  'linux-5.8': {
    name: 'linux-5.8',
    kernelVersion: '5.8',
    description: 'v5.8: reuse_swap_page() mapcount rule in do_wp_page(); PAGEVEC_SIZE 15',
    config: {
      lruBatchSize: 15,
      features: {
        tryChangeWritable: false,
        uffdTryChangeWritable: false,
        thpAlignAnon: false,
        swapinFreeOnWrite: false,
        swapinDrainLocal: false,
        lazyMmCpumask: false,
        deferredSplitPmdOnly: false,
        mthpFaultStats: false,
        mthpSplitStats: false,
        mthpNrAnonStats: false,
        madviseAvoidSplit: false,
        mthpSwapStats: false,
        swapZeromap: false,
        pageoutKeepsYoung: false,
        ptReclaim: false,
        forkPteBatch: false,
        zapPteBatch: false,
        // anon workingset detection (aae466b0052e) and two references for anon folios
        // (b518154e59aa) came with v5.9
        workingsetAnon: false,
        anonTwoReferences: false,
        mremapDontunmapAny: false,
        mremapMultiVma: false,
        collapseReadOnly: false,
        gupUnshareCowMappings: false,
        // userfaultfd: UFFDIO_CONTINUE (v5.13), UFFDIO_POISON (v6.6), UFFDIO_MOVE (v6.8);
        // FOLL_FORCE without FOLL_COW (v6.2); young/dirty kept over migration (v6.1)
        uffdContinue: false,
        uffdPoison: false,
        uffdMove: false,
        gupForceAnonExclusive: false,
        migrationKeepsYoungDirty: false,
        populateLruDrain: false,
        processMadviseSelf: false,
        // KSM: reuse_ksm_page() (52d1e606ee73, v5.8 only); ksm_stat v6.1, profit v6.4, zero pages v6.6, smart scan v6.7
        ksmReuseKsmPage: true,
        ksmStat: false,
        ksmProfit: false,
        ksmZeroPages: false,
        ksmSmartScan: false,
      },
    },
    // PMD-sized THP only (set thp: { top: always | madvise } in a scenario); the per-size
    // mTHP switches arrived in v6.8 (era-rules.ts rejects them here)
    slots: { refcount: era({ era: 'linux-5.8' }), largeFolio: lf({ era: 'linux-5.8' }) },
  },
  'linux-5.9': {
    name: 'linux-5.9',
    kernelVersion: '5.9',
    description: 'v5.9: do_wp_page() simplification (09854ba94c6a), page_count() == 1',
    extends: 'linux-5.8',
    // anon LRU workingset protection (b518154e59aa) and anon refault detection (aae466b0052e)
    // ... and 09854ba94c6a dropped reuse_ksm_page(): a written KSM page is always copied
    config: { features: { workingsetAnon: true, anonTwoReferences: true, ksmReuseKsmPage: false } },
    slots: { refcount: era({ era: 'linux-5.9' }) },
  },
  'linux-5.18': {
    name: 'linux-5.18',
    kernelVersion: '5.18',
    description: 'v5.18: COW fixes part 1 (swap cache exclusive reuse, local lru_add_drain)',
    extends: 'linux-5.9',
    // MREMAP_DONTUNMAP of file and shared mappings arrived in v5.13
    config: { features: { swapinDrainLocal: true, mremapDontunmapAny: true, populateLruDrain: true } },
    slots: { refcount: era({ era: 'linux-5.18' }) },
  },
  'linux-5.19': {
    name: 'linux-5.19',
    kernelVersion: '5.19',
    description: 'v5.19: PageAnonExclusive; mprotect upgrades exclusive pages writable',
    extends: 'linux-5.18',
    // UFFDIO_CONTINUE arrived in v5.13 (f619147104c8)
    config: { features: { tryChangeWritable: true, swapinFreeOnWrite: true, uffdContinue: true } },
    slots: { refcount: era({ era: 'linux-5.19' }) },
  },
  'linux-6.8': {
    name: 'linux-6.8',
    kernelVersion: '6.8',
    description: 'v6.8: multi-size THP (mTHP); THP-aligned anonymous mappings (efa7df3e3bb5, v6.7)',
    extends: 'linux-5.19',
    // R/O longterm pins unshare non-anonymous pages of private mappings (v6.2)
    config: {
      features: {
        thpAlignAnon: true,
        uffdTryChangeWritable: true,
        // R/O longterm pins unshare non-anonymous pages of private mappings (v6.2)
        gupUnshareCowMappings: true,
        // 5535be309971 (v6.2), 2e3468778dbe (v6.1), UFFDIO_POISON (v6.6), UFFDIO_MOVE (v6.8)
        gupForceAnonExclusive: true,
        migrationKeepsYoungDirty: true,
        uffdPoison: true,
        uffdMove: true,
        // /proc/PID/ksm_stat (v6.1), ksm_merging_pages / profit (v6.4), ksm_zero_pages (v6.6), smart_scan (v6.7)
        ksmStat: true,
        ksmProfit: true,
        ksmZeroPages: true,
        ksmSmartScan: true,
      },
    },
    slots: { largeFolio: lf({ era: 'linux-6.8' }) },
  },
  'linux-6.18': {
    name: 'linux-6.18',
    kernelVersion: '6.18',
    description:
      'v6.18: folio_batch of 31 (9cecde80aae0, v6.9); exclusive swap-ins mapped writable on read faults (c18160dba5ff, v6.11); lazy x86 mm_cpumask (209954cbc7d0, v6.14); large-folio reuse',
    extends: 'linux-6.8',
    config: {
      lruBatchSize: 31,
      features: {
        processMadviseSelf: true,
        lazyMmCpumask: true,
        deferredSplitPmdOnly: true,
        mthpFaultStats: true,
        mthpSplitStats: true,
        mthpNrAnonStats: true,
        madviseAvoidSplit: true,
        mthpSwapStats: true,
        swapZeromap: true,
        pageoutKeepsYoung: true,
        // batched PTE copy at fork (f8d937761d65, v6.9) and zap (10ebac4f95e7, v6.10);
        // CONFIG_PT_RECLAIM (6375e95f381e, v6.14): MADV_DONTNEED frees empty PTE tables
        forkPteBatch: true,
        zapPteBatch: true,
        ptReclaim: true,
        // mremap() move of multiple VMAs (v6.17)
        mremapMultiVma: true,
        // khugepaged / MADV_COLLAPSE without the writable check (Dev Jain, v6.18)
        collapseReadOnly: true,
      },
    },
    slots: { refcount: era({ era: 'linux-6.11' }), largeFolio: lf({ era: 'linux-6.18' }) },
  },
  'anon-folio-rfc-v2': {
    name: 'anon-folio-rfc-v2',
    kernelVersion: '6.3',
    description:
      "research: Ryan Roberts' variable-order anonymous folios RFC v2 (v6.3-based, seed 004): order-4 folios, same-order CoW without replacing exclusive sub-pages, largest-range reuse",
    extends: 'linux-5.19',
    // v6.3-based: FOLL_FORCE without FOLL_COW (v6.2) and young/dirty kept over migration (v6.1);
    // /proc/PID/ksm_stat (v6.1) but not yet the v6.4 profit lines
    config: { features: { gupForceAnonExclusive: true, migrationKeepsYoungDirty: true, ksmStat: true } },
    slots: { largeFolio: lf({ era: 'rfc-v2' }) },
  },
  'linux-6.18+cowpte': cowPtePreset('linux-6.18'),
});

export const DEFAULT_PRESET = 'linux-6.18';

export { ERA_RULES, eraProblems, type EraRule, type EraProblem, type EraScenario } from './era-rules.js';

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

/** The mainline release a preset's interfaces are those of (its own, or the nearest ancestor's). */
export function presetKernelVersion(name: string): string | undefined {
  return presetChain(name)
    .reverse()
    .find((p) => p.kernelVersion !== undefined)?.kernelVersion;
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
export function resolvePreset(
  name: string,
  options: Record<string, unknown> = {},
): { config: PresetConfig; plugins: MmPlugin[] } {
  const chain = presetChain(name);
  const config: PresetConfig = { features: {} };
  const slots = new Map<string, PresetSlot>();
  for (const p of chain) {
    if (p.config.lruBatchSize !== undefined) config.lruBatchSize = p.config.lruBatchSize;
    Object.assign(config.features!, p.config.features ?? {});
    for (const [slot, make] of Object.entries(p.slots)) slots.set(slot, make);
  }
  for (const key of Object.keys(options)) {
    if (!slots.has(key))
      throw new Error(
        `kernelOptions.${key}: preset "${name}" has no slot "${key}" (known slots: ${[...slots.keys()].join(', ')})`,
      );
  }
  return { config, plugins: [...slots.values()].map((make) => make(options)) };
}
