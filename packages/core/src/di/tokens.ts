import type { InjectionToken } from 'tsyringe';
import type { Hooks } from '../hooks/catalogue.js';
import type { HardwareModel } from '../hardware/hardware.js';
import type { CostClock, Stats } from '../stats/stats.js';
import type { KernelConfig } from '../kernel/config.js';
import type { AnyPlugin } from './plugin.js';
import type { Kernel } from '../kernel/kernel.js';

/** Explicit DI tokens (tsyringe): every constructor parameter is injected by token. */
export const TOKENS = Object.freeze({
  Hooks: Symbol.for('mmsim.Hooks') as InjectionToken<Hooks>,
  Hardware: Symbol.for('mmsim.Hardware') as InjectionToken<HardwareModel>,
  Stats: Symbol.for('mmsim.Stats') as InjectionToken<Stats>,
  Clock: Symbol.for('mmsim.Clock') as InjectionToken<CostClock>,
  KernelConfig: Symbol.for('mmsim.KernelConfig') as InjectionToken<KernelConfig>,
  /** multi-injection: every policy plugin of the system, preset ones first */
  Policy: Symbol.for('mmsim.Policy') as InjectionToken<AnyPlugin>,
  /** the kernel's internals: hardware models and tools only; policies cannot resolve it */
  Kernel: Symbol.for('mmsim.Kernel') as InjectionToken<Kernel>,
});
