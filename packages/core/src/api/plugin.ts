/**
 * Plugins: a policy is a plain object (or class instance) with a `name`, the policy API range
 * it was built for (`api`), and `apply(ctx)`, which taps hooks through a curated context.
 */
import type { InjectionToken } from 'tsyringe';
import type { KernelConfig } from '../kernel/config.js';
import type { Enforce, PolicyHooks } from './hooks.js';
import type { PageTableApi } from './tables.js';
import type { Counter, HardwareInfo, MmView } from './views.js';

/** Deeply read-only. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** A service token for `ctx.provide()` / `ctx.resolve()` (a tsyringe InjectionToken). */
export type ServiceToken<T> = InjectionToken<T> & symbol;

/** Make a service token; the same name gives the same token in every package. */
export function defineService<T>(name: string): ServiceToken<T> {
  return Symbol.for(`mmsim.service.${name}`) as ServiceToken<T>;
}

/** Identity of one composed system: the key of plugin-owned hooks (see `definePluginHooks`). */
export interface SystemKey {
  readonly kernelName: string;
}

/** What `apply()` receives: the hooks, read-only configuration, and the few services a policy uses. */
export interface PolicyContext {
  /** this plugin's name */
  readonly plugin: string;
  readonly hooks: PolicyHooks;
  /** the kernel configuration (preset plus scenario overrides) */
  readonly config: DeepReadonly<KernelConfig>;
  readonly hardware: HardwareInfo;
  /** the kernel preset's name, 'custom' without one */
  readonly kernelName: string;
  /** vmstat-style counters: define yours at apply time, increment in taps */
  readonly stats: {
    define(name: string): Counter;
    get(name: string): number;
  };
  /** PTE tables: share, copy, drop (copy-on-write page tables) */
  readonly tables: PageTableApi;
  /** the CPU doing the current work */
  readonly cpu: number;
  /** charge `cycles` to the CPU doing the current work (a policy's own cost) */
  charge(cycles: number): void;
  /** an address space by id */
  mmById(id: number): MmView | undefined;
  /** a service registered in the system's container (TOKENS.*, or one a plugin provided) */
  resolve<T>(token: ServiceToken<T> | InjectionToken<T>): T;
  /** register a service for later plugins (`ctx.resolve(token)`) */
  provide<T>(token: ServiceToken<T>, value: T): void;
  /** this system, as the key of plugin-owned hooks */
  readonly system: SystemKey;
}

/** A policy plugin. */
export interface MmPlugin {
  readonly name: string;
  /** the policy API range this plugin was built for, e.g. '^1.0.0' (checked at load) */
  readonly api: string;
  /** run before ('pre') or after ('post') the kernel preset's taps on every hook */
  readonly enforce?: Enforce;
  /** skip this plugin on hardware it does not fit (Vite's `apply` / Rollup-style applicability) */
  appliesTo?(hardware: HardwareInfo): boolean;
  /** tap hooks; called once, before any scenario step */
  apply(ctx: PolicyContext): void;
}

/**
 * A plugin package's default export: a factory taking the options from the scenario
 * (`system.policies: [{ name, options }]`, `--policy 'name={...}'`).
 */
export type MmPluginFactory<O = Record<string, unknown>> = (options?: O) => MmPlugin | MmPlugin[];

/** Identity helper giving plugin objects their type. */
export function definePlugin<P extends MmPlugin>(p: P): P {
  return p;
}
