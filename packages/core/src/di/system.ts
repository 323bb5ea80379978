import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { HookMap } from 'tapable';
import { TOKENS } from './tokens.js';
import { PluginError, type MmPlugin } from './plugin.js';
import { createHooks, type Hooks } from '../hooks/catalogue.js';
import type { HardwareModel } from '../hardware/hardware.js';
import { CostClock, Stats } from '../stats/stats.js';
import { Kernel } from '../kernel/kernel.js';
import { defaultKernelConfig, type KernelConfig } from '../kernel/config.js';

export interface SystemOptions {
  hardware: HardwareModel;
  /** plugins of the kernel preset, applied first, default stage 0 */
  presetPlugins?: MmPlugin[];
  /** extra research policies, default stage -100 (their answers take precedence) */
  policies?: MmPlugin[];
  /** overrides of the kernel configuration */
  config?: Partial<Omit<KernelConfig, 'features' | 'swap'>> & {
    features?: Partial<KernelConfig['features']>;
    swap?: Partial<KernelConfig['swap']>;
  };
  /** preset name, for the output */
  kernelName?: string;
}

/** The composed machine: what plugins and scenario runners see. */
export interface MmSystem {
  readonly hooks: Hooks;
  readonly kernel: Kernel;
  readonly hardware: HardwareModel;
  readonly stats: Stats;
  readonly clock: CostClock;
  readonly config: KernelConfig;
  readonly container: DependencyContainer;
  readonly plugins: readonly MmPlugin[];
  readonly kernelName: string;
}

/**
 * The composition root: one child container per system holding the hooks, hardware, stats,
 * clock, configuration, policies (multi-registered under TOKENS.Policy) and the kernel.
 * Hardware applies first, then preset plugins, then extra policies.
 */
export function createSystem(opts: SystemOptions): MmSystem {
  const c = rootContainer.createChildContainer();
  const base = defaultKernelConfig();
  const config: KernelConfig = {
    ...base,
    ...opts.config,
    swap: { ...base.swap, ...opts.config?.swap },
    features: { ...base.features, ...opts.config?.features },
    thp: { ...base.thp, ...opts.config?.thp },
  };
  const hooks = createHooks();
  c.register(TOKENS.Hooks, { useValue: hooks });
  c.register(TOKENS.Hardware, { useValue: opts.hardware });
  c.register(TOKENS.KernelConfig, { useValue: config });
  c.register(TOKENS.Stats, { useFactory: () => new Stats() });
  const stats = c.resolve(TOKENS.Stats);
  c.register(TOKENS.Stats, { useValue: stats });
  c.register(TOKENS.Clock, { useValue: new CostClock(opts.hardware.ncpus) });
  const preset = opts.presetPlugins ?? [];
  const extra = opts.policies ?? [];
  const applicable = (p: MmPlugin) => !p.appliesTo || p.appliesTo(opts.hardware);
  const plugins = [...preset.filter(applicable), ...extra.filter(applicable)];
  for (const p of plugins) c.register(TOKENS.Policy, { useValue: p });
  c.register(TOKENS.Kernel, { useClass: Kernel });
  const kernel = c.resolve(TOKENS.Kernel) as Kernel;
  const system: MmSystem = {
    hooks,
    kernel,
    hardware: opts.hardware,
    stats,
    clock: c.resolve(TOKENS.Clock),
    config,
    container: c,
    plugins,
    kernelName: opts.kernelName ?? 'custom',
  };
  const applying = { name: opts.hardware.name, stage: 0 };
  instrumentHooks(hooks, applying);
  opts.hardware.apply(system);
  for (const p of plugins) {
    applying.name = p.name;
    applying.stage = p.stage ?? (preset.includes(p) ? 0 : -100);
    p.apply(system);
  }
  applying.name = '(after setup)';
  applying.stage = 0;
  return system;
}

/** The policies registered in a system's container (multi-injection). */
export function resolvePolicies(system: MmSystem): MmPlugin[] {
  return system.container.isRegistered(TOKENS.Policy) ? system.container.resolveAll(TOKENS.Policy) : [];
}

type AnyHook = {
  intercept(i: { register?: (tap: TapInfo) => TapInfo }): void;
};
interface TapInfo {
  name: string;
  stage?: number;
  fn: (...args: unknown[]) => unknown;
  type: string;
}

/**
 * Give every tap the stage of the plugin applying it (unless it set one) and attribute
 * exceptions thrown by a tap to its plugin (PluginError).
 */
function instrumentHooks(hooks: Hooks, applying: { name: string; stage: number }): void {
  const register = (hookName: string) => (tap: TapInfo): TapInfo => {
    const plugin = applying.name;
    if (tap.stage === undefined) tap.stage = applying.stage;
    if (tap.type === 'sync') {
      const fn = tap.fn;
      tap.fn = function (this: unknown, ...args: unknown[]) {
        try {
          return fn.apply(this, args);
        } catch (e) {
          if (e instanceof PluginError) throw e;
          // name the plugin that was being applied when the tap was made (the tap's own name
          // for taps made after setup)
          throw new PluginError(plugin === '(after setup)' ? tap.name : plugin, hookName, e);
        }
      };
    }
    return tap;
  };
  for (const [group, g] of Object.entries(hooks)) {
    if (g instanceof HookMap) {
      g.intercept({
        factory: (key, created) => {
          const h = created as unknown as AnyHook;
          h.intercept({ register: register(`${group}.for(${String(key)})`) });
          return h as never;
        },
      });
      continue;
    }
    for (const [name, h] of Object.entries(g as Record<string, AnyHook>)) {
      h.intercept({ register: register(`${group}.${name}`) });
    }
  }
}
