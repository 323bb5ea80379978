/**
 * Extra policy plugins listed in `system.policies`: a package name or a path (from the
 * scenario file's directory), optionally `{ name, options }`. The module's default export is a
 * factory `(options) => AnyPlugin | AnyPlugin[]` (or a plugin object, or a CommonJS exports
 * object holding one of these), or it exports `plugins` / `plugin` / `createPlugin`.
 */
import { apiMismatch, ASYNC_APPLY_DETAIL, isKernelPlugin, type AnyPlugin, type PluginRefSpec } from '@mmsim/core';
import { errorText, systemError } from './errors.js';
import {
  importNative,
  isClass,
  isPathSpecifier,
  ModuleLoadError,
  type ModuleImporter,
  type ModuleNamespace,
} from './modules.js';
import { isThenable, settleOrStall } from './stalled.js';

export interface PluginRequest {
  ref: PluginRefSpec;
  /** index in system.policies, for messages */
  index: number;
  baseDir: string;
  file: string;
  /** default: import() without a TypeScript transpiler */
  importModule?: ModuleImporter;
}

export function isPlugin(p: unknown): p is AnyPlugin {
  return (
    !!p && typeof p === 'object' && typeof (p as AnyPlugin).apply === 'function' && typeof pluginName(p) === 'string'
  );
}

/** A plugin's `name`, or the error its getter threw. */
export function pluginName(p: object): unknown {
  try {
    return (p as { name?: unknown }).name;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/**
 * What is wrong with a factory's result as plugins, or undefined: a Promise (an async factory,
 * where the caller cannot await one), a `name` getter that throws, not a plugin, an `async apply`.
 */
export function pluginProblem(values: readonly unknown[]): string | undefined {
  for (const p of values) {
    if (isThenable(p))
      return 'the factory returned a Promise: mmsim check needs a synchronous factory (it makes the plugins anew for every fuzzing run; mmsim run awaits an async one)';
    const n = p !== null && typeof p === 'object' ? pluginName(p) : undefined;
    if (n instanceof Error) return `reading the plugin's name threw: ${errorText(n)}`;
    if (!isPlugin(p)) return 'the factory returned something that is not an AnyPlugin ({ name, api, apply(ctx) })';
    // seen before applying; an apply() that returns a Promise otherwise is refused when applied
    if (Object.prototype.toString.call(p.apply) === '[object AsyncFunction]')
      return `plugin "${p.name}" cannot load: ${ASYNC_APPLY_DETAIL}`;
  }
  return undefined;
}

/** Turn whatever the module exports into plugins. Returns undefined when nothing fits. */
export function pluginsFromModule(mod: ModuleNamespace, options: Record<string, unknown>): unknown[] | undefined {
  for (const key of ['default', 'plugins', 'plugin', 'createPlugin']) {
    let v = mod[key];
    if (v === undefined) continue;
    // a CommonJS module's exports object: look inside
    if (key === 'default' && v && typeof v === 'object' && !Array.isArray(v) && !isPlugin(v)) {
      const inner = pluginsFromModule(v as ModuleNamespace, options);
      if (inner) return inner;
    }
    if (isClass(v)) v = new v(options);
    else if (typeof v === 'function') v = (v as (o: Record<string, unknown>) => unknown)(options);
    return Array.isArray(v) ? v : [v];
  }
  return undefined;
}

/** Load one `system.policies[i]` entry. Throws ScenarioError (field `system.policies[i]`). */
export async function loadPolicy(req: PluginRequest): Promise<AnyPlugin[]> {
  const name = typeof req.ref === 'string' ? req.ref : req.ref.name;
  const options = typeof req.ref === 'string' ? {} : (req.ref.options ?? {});
  const field = `system.policies[${req.index}]`;
  const fail = (detail: string) => systemError(req.file, field, detail);
  let mod: ModuleNamespace;
  try {
    mod = await (req.importModule ?? importNative)(name, req.baseDir);
  } catch (e) {
    if (e instanceof ModuleLoadError && !isPathSpecifier(name) && /cannot find package/.test(e.message))
      throw fail(`unknown plugin: ${e.message}`);
    throw fail(`plugin "${name}": ${errorText(e)}`);
  }
  let plugins: unknown[] | undefined;
  try {
    plugins = pluginsFromModule(mod, options);
    // an async factory: awaited here, at load time (apply() itself must be synchronous)
    if (plugins?.length === 1 && isThenable(plugins[0])) {
      const v = await settleOrStall(
        plugins[0],
        () => new Error('the Promise it returned never settles (the event loop emptied while awaiting it)'),
      );
      plugins = Array.isArray(v) ? v : [v];
    }
  } catch (e) {
    throw fail(`plugin "${name}": its factory threw with options ${JSON.stringify(options)}: ${errorText(e)}`);
  }
  if (!plugins) throw fail(`plugin "${name}" has no default export factory, "plugin" or "plugins" export`);
  const why = pluginProblem(plugins);
  if (why) throw fail(`plugin "${name}": ${why}`);
  for (const p of plugins as AnyPlugin[]) {
    if (isKernelPlugin(p)) continue;
    // the policy API range, checked here too so the message names the scenario field
    if (p.api === undefined) {
      throw fail(
        `plugin "${p.name}" (from "${name}") does not say which policy API it was built for: a 0.x plugin must be ported (add api: "^1.0.0"; docs/policy-api.md, "Porting from 0.x")`,
      );
    }
    const why = apiMismatch(p.api);
    if (why) throw fail(`plugin "${p.name}" (from "${name}") cannot load: ${why}`);
  }
  return plugins as AnyPlugin[];
}

/**
 * A view of `p` whose apply() turns exceptions into a ScenarioError naming `field`
 * (prototype-linked, so the plugin's own properties, getters and class stay visible).
 */
export function guardApply(p: AnyPlugin, file: string, field: string): AnyPlugin {
  const g = Object.create(p) as AnyPlugin & { apply: AnyPlugin['apply'] };
  Object.defineProperty(g, 'apply', {
    value(system: Parameters<AnyPlugin['apply']>[0]) {
      let r: unknown;
      try {
        r = (p.apply as (arg: unknown) => unknown)(system);
      } catch (e) {
        throw systemError(file, field, `plugin "${p.name}" failed while applying: ${errorText(e)}`);
      }
      if (isThenable(r)) {
        // its rejection is this error, not an unhandled rejection later
        r.then(undefined, () => undefined);
        throw systemError(file, field, `plugin "${p.name}" cannot load: ${ASYNC_APPLY_DETAIL}`);
      }
    },
  });
  return g;
}
