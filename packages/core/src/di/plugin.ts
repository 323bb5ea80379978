import type { HardwareInfo } from '../api/views.js';
import type { Enforce } from '../api/hooks.js';
import type { MmPlugin } from '../api/plugin.js';
import type { MmSystem } from './system.js';

export { definePlugin, type MmPlugin, type MmPluginFactory } from '../api/plugin.js';

/**
 * A plugin with the whole system (kernel internals included), like a hardware model. Not part
 * of the policy API and not versioned: for mmsim's own tools (the checker's instruments) and
 * tests. Policies use MmPlugin.
 */
export interface KernelPlugin {
  readonly name: string;
  readonly internal: true;
  readonly enforce?: Enforce;
  appliesTo?(hardware: HardwareInfo): boolean;
  apply(system: MmSystem): void;
}

export type AnyPlugin = MmPlugin | KernelPlugin;

export function isKernelPlugin(p: AnyPlugin): p is KernelPlugin {
  return (p as KernelPlugin).internal === true;
}

/** Why a plugin whose apply() returns a Promise is refused: hooks are tapped synchronously, before the run. */
export const ASYNC_APPLY_DETAIL =
  'its apply() returned a Promise: apply must be synchronous (do asynchronous set-up in the module, e.g. an async factory, which is awaited at load time)';

/** Thrown (wrapping the cause) when a plugin cannot load, throws in a tap or answers out of type. */
export class PluginError extends Error {
  /** the scenario step being run, when known (set by the runner) */
  step: string | undefined;
  constructor(
    readonly plugin: string,
    /** the hook ('fault.wpReuse'), or 'load' / 'apply' */
    readonly hook: string,
    cause: unknown,
    /** for an out-of-type answer: the value */
    readonly value?: unknown,
    readonly kind: 'threw' | 'answer' | 'load' = 'threw',
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const msg =
      kind === 'answer'
        ? `plugin "${plugin}" answered ${showValue(value)} from hook ${hook}: ${why}`
        : kind === 'load'
          ? `plugin "${plugin}" cannot load: ${why}`
          : `plugin "${plugin}" threw in hook ${hook}: ${why}`;
    super(msg, { cause });
    this.name = 'PluginError';
  }
}

/** A short, safe rendering of any value for messages. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return 'a function';
  if (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') return 'a Promise';
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return Object.prototype.toString.call(v);
  }
}
