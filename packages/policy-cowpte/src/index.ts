/**
 * @mmsim/policy-cowpte: copy-on-write PTE tables (On-Demand Fork, Chih-En Lin's COW PTE RFC).
 * Default export: the plugin factory, `cowPte(options)`; scenarios load it with
 * `policies: ["@mmsim/policy-cowpte"]` or `{ name: "@mmsim/policy-cowpte", options: {...} }`.
 */
import type { MmPlugin } from '@mmsim/core';
import { CowPtePolicy, type CowPteOptions } from './plugin.js';

export {
  CowPtePolicy,
  COWPTE_COUNTERS,
  TABLE_SPAN,
  type CowPteOptions,
  type CowPteHooks,
  type CowPteTableEvent,
  type CowPteBrokenEvent,
} from './plugin.js';

/** Plugin factory (the package's default export). */
export default function cowPte(options: CowPteOptions = {}): CowPtePolicy {
  return new CowPtePolicy(options);
}
export { cowPte };

/**
 * A preset slot for `@mmsim/presets` (`KernelPreset.slots`): the slot reads its options from
 * the scenario's `kernelOptions.cowpte`.
 *
 * ```ts
 * registerPreset({ name: 'linux-6.18+cowpte', extends: 'linux-6.18', config: {},
 *   description: '...', slots: { ...cowPteSlots } });
 * ```
 */
export const cowPteSlots: Readonly<Record<'cowpte', (options: Record<string, unknown>) => MmPlugin>> = Object.freeze({
  cowpte: (options: Record<string, unknown>) => cowPte((options.cowpte as CowPteOptions | undefined) ?? {}),
});

/** Structural twin of `@mmsim/presets`' KernelPreset (kept here to avoid a dependency cycle). */
export interface CowPtePreset {
  readonly name: string;
  readonly description: string;
  readonly extends: string;
  readonly config: Record<string, never>;
  slots: Record<string, (options: Record<string, unknown>) => MmPlugin>;
}

/** A preset extending `base` with COW PTE tables, named `${base}+cowpte`. */
export function cowPtePreset(base = 'linux-6.18'): CowPtePreset {
  return {
    name: `${base}+cowpte`,
    description: `${base} with copy-on-write PTE tables (On-Demand Fork / COW PTE RFC, seed 002)`,
    extends: base,
    config: {},
    slots: { ...cowPteSlots },
  };
}
