/**
 * Plugin-owned hooks (webpack's `getCompilationHooks(compilation)`): a policy package exposes
 * hooks of its own to other plugins, one set per system, backed by a WeakMap.
 */
import type { PolicyContext, SystemKey } from './plugin.js';
import { applyingFor, instrumentGroup } from '../di/instrument.js';

/**
 * `const getHooks = definePluginHooks('policy-cowpte', () => ({ shared: new SyncHook<[...]>([...]) }))`;
 * then `getHooks(ctx).shared.tap(...)` in any plugin of the same system. The hooks are
 * instrumented like core's (attribution of exceptions, enforce), named `<owner>:<hook>`.
 */
export function definePluginHooks<T extends object>(
  owner: string,
  create: () => T,
): (of: PolicyContext | SystemKey) => T {
  const bySystem = new WeakMap<SystemKey, T>();
  return (of) => {
    const key: SystemKey = 'system' in of ? of.system : of;
    let hooks = bySystem.get(key);
    if (!hooks) {
      hooks = Object.freeze(create());
      const applying = applyingFor(key);
      if (applying) instrumentGroup(`${owner}:`, hooks as Record<string, unknown>, applying);
      bySystem.set(key, hooks);
    }
    return hooks;
  };
}
