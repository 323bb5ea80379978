/** The PolicyContext each policy's apply() receives: a curated view of one system. */
import type { InjectionToken } from 'tsyringe';
import type { HardwareModel } from '../hardware/hardware.js';
import type { MmSystem } from '../di/system.js';
import { TOKENS } from '../di/tokens.js';
import { PluginError } from '../di/plugin.js';
import type { PolicyHooks } from './hooks.js';
import type { DeepReadonly, PolicyContext, ServiceToken } from './plugin.js';
import type { Counter, HardwareInfo } from './views.js';
import type { Stats } from '../stats/stats.js';
import { TableApi } from '../kernel/pgtable-share.js';

/** A defined counter: its id is resolved once, increments are one typed-array add. */
class StatCounter implements Counter {
  private readonly id: number;
  constructor(
    private readonly stats: Stats,
    readonly name: string,
  ) {
    this.id = stats.define(name);
  }
  get value(): number {
    return this.stats.v[this.id]!;
  }
  inc(n = 1): void {
    this.stats.v[this.id]! += n;
  }
}

export function hardwareInfo(hw: HardwareModel): HardwareInfo {
  return Object.freeze({
    name: hw.name,
    ncpus: hw.ncpus,
    costs: hw.costs as unknown as Readonly<Record<string, number>>,
    managesAccessFlags: hw.managesAccessFlags !== false,
  });
}

/** Tokens a policy may not resolve: the kernel's internals. */
const INTERNAL = new Set<unknown>([TOKENS.Kernel]);

const tableApis = new WeakMap<MmSystem, TableApi>();

export function createPolicyContext(system: MmSystem, plugin: string): PolicyContext {
  const k = system.kernel;
  let tables = tableApis.get(system);
  if (!tables) {
    tables = new TableApi(k);
    tableApis.set(system, tables);
  }
  const stats = system.stats;
  const ctx: PolicyContext = {
    plugin,
    hooks: system.hooks as unknown as PolicyHooks,
    config: system.config as DeepReadonly<typeof system.config>,
    hardware: hardwareInfo(system.hardware),
    kernelName: system.kernelName,
    stats: Object.freeze({
      define: (name: string): Counter => new StatCounter(stats, name),
      get: (name: string): number => stats.get(name),
    }),
    tables,
    get cpu() {
      return k.cpu;
    },
    charge: (cycles: number) => {
      if (!Number.isFinite(cycles) || cycles < 0)
        throw new PluginError(plugin, 'charge', new Error('cycles must be a finite number >= 0'), cycles, 'answer');
      k.charge(cycles);
    },
    mmById: (id: number) => k.mmById(id),
    resolve<T>(token: ServiceToken<T> | InjectionToken<T>): T {
      if (INTERNAL.has(token))
        throw new PluginError(
          plugin,
          'resolve',
          new Error('the kernel is not a policy service; use the context and hook contexts'),
        );
      if (!system.container.isRegistered(token, true))
        throw new PluginError(plugin, 'resolve', new Error(`no service registered for ${String(token)}`));
      return system.container.resolve(token);
    },
    provide<T>(token: ServiceToken<T>, value: T): void {
      if (INTERNAL.has(token) || Object.values(TOKENS).includes(token as never)) {
        throw new PluginError(
          plugin,
          'provide',
          new Error(`${String(token)} is one of core's services and cannot be replaced`),
        );
      }
      system.container.register(token, { useValue: value });
    },
    system: system.key,
  };
  return Object.freeze(ctx);
}
