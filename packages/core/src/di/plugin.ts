import type { HardwareModel } from '../hardware/hardware.js';
import type { MmSystem } from './system.js';

/**
 * A policy plugin: a plain object or a class instance with a `name` and `apply()`.
 * `apply` taps the system's hooks; it runs once, before any scenario step.
 */
export interface MmPlugin {
  readonly name: string;
  apply(system: MmSystem): void;
  /** Skip this plugin on hardware it does not fit (Vite's `apply`/Rollup-style applicability). */
  appliesTo?(hardware: HardwareModel): boolean;
  /**
   * Default tapable `stage` for the taps this plugin makes without one. Kernel-preset plugins
   * use 0; extra policies listed in a scenario default to -100 so their answers win.
   */
  stage?: number;
}

/** A plugin package's default export: a factory taking the options from the scenario. */
export type MmPluginFactory<O = Record<string, unknown>> = (options?: O) => MmPlugin | MmPlugin[];

/** Identity helper giving plugin objects their type. */
export function definePlugin<P extends MmPlugin>(p: P): P {
  return p;
}

/** Thrown (wrapping the cause) when a plugin's tap throws. */
export class PluginError extends Error {
  constructor(
    readonly plugin: string,
    readonly hook: string,
    cause: unknown,
  ) {
    super(`plugin "${plugin}" threw in hook ${hook}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'PluginError';
  }
}
