import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { TOKENS } from './tokens.js';
import { ASYNC_APPLY_DETAIL, PluginError, isKernelPlugin, type AnyPlugin } from './plugin.js';
import { createHooks, type Hooks } from '../hooks/catalogue.js';
import type { HardwareModel } from '../hardware/hardware.js';
import { CostClock, Stats } from '../stats/stats.js';
import { Kernel } from '../kernel/kernel.js';
import { defaultKernelConfig, type KernelConfig } from '../kernel/config.js';
import { apiMismatch } from '../api/version.js';
import { createPolicyContext, hardwareInfo } from '../api/policy-context.js';
import type { SystemKey } from '../api/plugin.js';
import { instrumentHooks, type Applying } from './instrument.js';
import { ScenarioError } from '../scenario/errors.js';

export interface SystemOptions {
  hardware: HardwareModel;
  /** plugins of the kernel preset, applied first, at normal precedence */
  presetPlugins?: AnyPlugin[];
  /** extra research policies: their answers take precedence over the preset's on every hook kind */
  policies?: AnyPlugin[];
  /** overrides of the kernel configuration */
  config?: Partial<Omit<KernelConfig, 'features' | 'swap' | 'vm'>> & {
    features?: Partial<KernelConfig['features']>;
    swap?: Partial<KernelConfig['swap']>;
    vm?: Partial<KernelConfig['vm']>;
  };
  /** preset name, for the output */
  kernelName?: string;
}

/** The composed machine: what hardware models, tools and scenario runners see. */
export interface MmSystem {
  readonly hooks: Hooks;
  readonly kernel: Kernel;
  readonly hardware: HardwareModel;
  readonly stats: Stats;
  readonly clock: CostClock;
  readonly config: KernelConfig;
  readonly container: DependencyContainer;
  readonly plugins: readonly AnyPlugin[];
  readonly kernelName: string;
  /** this system's identity for plugin-owned hooks */
  readonly key: SystemKey;
}

/**
 * The composition root. One child container per system; everything is resolved by token
 * (TOKENS): the hooks, hardware, kernel configuration, stats, cost clock, the kernel, and the
 * policies (multi-registered under TOKENS.Policy). Hardware applies first, then the preset's
 * plugins, then extra policies; each policy gets its own PolicyContext.
 */
export function createSystem(opts: SystemOptions): MmSystem {
  const c = rootContainer.createChildContainer();
  const base = defaultKernelConfig();
  const config: KernelConfig = {
    ...base,
    ...opts.config,
    swap: { ...base.swap, ...opts.config?.swap },
    vm: { ...base.vm, ...opts.config?.vm },
    features: { ...base.features, ...opts.config?.features },
    thp: { ...base.thp, ...opts.config?.thp },
  };
  c.register(TOKENS.Hooks, { useValue: createHooks() });
  c.register(TOKENS.Hardware, { useValue: opts.hardware });
  c.register(TOKENS.KernelConfig, { useValue: config });
  c.registerSingleton(TOKENS.Stats, Stats);
  c.register(TOKENS.Clock, { useValue: new CostClock(opts.hardware.ncpus) });
  c.registerSingleton(TOKENS.Kernel, Kernel);

  const preset = opts.presetPlugins ?? [];
  const extra = opts.policies ?? [];
  const info = hardwareInfo(opts.hardware);
  for (const p of [...preset, ...extra]) checkPlugin(p);
  const applicable = (p: AnyPlugin) => !p.appliesTo || p.appliesTo(info);
  const plugins = [...preset.filter(applicable), ...extra.filter(applicable)];
  for (const p of plugins) c.register(TOKENS.Policy, { useValue: p });

  const hooks = c.resolve(TOKENS.Hooks);
  const kernel = c.resolve(TOKENS.Kernel);
  const key: SystemKey = Object.freeze({ kernelName: opts.kernelName ?? 'custom' });
  const system: MmSystem = {
    hooks,
    kernel,
    hardware: c.resolve(TOKENS.Hardware),
    stats: c.resolve(TOKENS.Stats),
    clock: c.resolve(TOKENS.Clock),
    config: c.resolve(TOKENS.KernelConfig),
    container: c,
    plugins,
    kernelName: key.kernelName,
    key,
  };
  const applying: Applying = { name: opts.hardware.name, enforce: undefined, precedence: 'normal' };
  instrumentHooks(hooks, applying, key);
  opts.hardware.apply(system);
  for (const p of plugins) {
    applying.name = p.name;
    applying.enforce = p.enforce;
    applying.precedence = preset.includes(p) ? 'normal' : 'override';
    let r: unknown;
    try {
      if (isKernelPlugin(p)) r = p.apply(system);
      else r = p.apply(createPolicyContext(system, p.name));
    } catch (e) {
      // a guarded apply (the composer's guardApply) already names the scenario field
      if (e instanceof PluginError || e instanceof ScenarioError) throw e;
      throw new PluginError(p.name, 'apply', e);
    }
    if (isThenable(r)) {
      // its rejection is this error, not an unhandled rejection after the run
      r.then(undefined, () => undefined);
      throw new PluginError(p.name, 'apply', new Error(ASYNC_APPLY_DETAIL), undefined, 'load');
    }
  }
  applying.name = '(after setup)';
  applying.enforce = undefined;
  applying.precedence = 'normal';
  return system;
}

/** A plugin's shape and API range, before anything is applied. */
function checkPlugin(p: AnyPlugin): void {
  let raw: unknown;
  try {
    raw = p?.name;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new PluginError('(unnamed)', 'load', new Error(`reading its name threw: ${why}`), undefined, 'load');
  }
  const name = typeof raw === 'string' ? raw : '(unnamed)';
  if (p === null || typeof p !== 'object' || typeof raw !== 'string' || typeof p.apply !== 'function') {
    throw new PluginError(
      name,
      'load',
      new Error('not a plugin: expected an object with a string `name` and an `apply(ctx)` method'),
      undefined,
      'load',
    );
  }
  if (p.enforce !== undefined && p.enforce !== 'pre' && p.enforce !== 'post') {
    throw new PluginError(
      name,
      'load',
      new Error(`enforce must be 'pre' or 'post', got ${JSON.stringify(p.enforce)}`),
      undefined,
      'load',
    );
  }
  if (isKernelPlugin(p)) return;
  if (!('api' in p) || p.api === undefined) {
    throw new PluginError(
      name,
      'load',
      new Error(
        'it does not say which policy API it was built for. Plugins of mmsim 0.x (apply(system) with system.kernel) must be ported: add `api: "^1.0.0"` and use the PolicyContext (docs/policy-api.md, "Porting from 0.x")',
      ),
      undefined,
      'load',
    );
  }
  const why = apiMismatch(p.api);
  if (why) throw new PluginError(name, 'load', new Error(why), undefined, 'load');
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** The policies registered in a system's container (multi-injection). */
export function resolvePolicies(system: MmSystem): AnyPlugin[] {
  return system.container.isRegistered(TOKENS.Policy) ? system.container.resolveAll(TOKENS.Policy) : [];
}
