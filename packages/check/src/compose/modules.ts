/** Module specifiers in a `system` block: path or package, the load error, and the plain import() loader. */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isThenable, settleOrStall } from './stalled.js';

export type ModuleNamespace = Record<string, unknown>;

/** Imports `spec` (a package name or a path) as seen from `baseDir`. */
export type ModuleImporter = (spec: string, baseDir: string) => Promise<ModuleNamespace>;

export class ModuleLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModuleLoadError';
  }
}

/**
 * A module's namespace once its top-level await and a Promise default export have settled
 * (the Promise's value becomes `default`); `label` names the module in errors.
 */
export async function settledModule(load: Promise<ModuleNamespace>, label: string): Promise<ModuleNamespace> {
  const never = (what: string) => () =>
    new ModuleLoadError(`${what} never settles (the event loop emptied while awaiting it)`);
  const mod = await settleOrStall(load, never(`the top-level await of ${label}`));
  if (!isThenable(mod.default)) return mod;
  let value: unknown;
  try {
    value = await settleOrStall(mod.default, never(`the default export of ${label} is a Promise that`));
  } catch (e) {
    if (e instanceof ModuleLoadError) throw e;
    throw new ModuleLoadError(
      `the default export of ${label} is a Promise that rejected: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
    );
  }
  return { ...mod, default: value };
}

/** `./x`, `../x`, `/abs/x`, `file:` URLs and Windows drive paths are paths; the rest are packages. */
export function isPathSpecifier(spec: string): boolean {
  return (
    spec === '.' ||
    spec === '..' ||
    spec.startsWith('./') ||
    spec.startsWith('../') ||
    spec.startsWith('file:') ||
    path.isAbsolute(spec) ||
    /^[a-zA-Z]:[\\/]/.test(spec) ||
    spec.startsWith('.\\') ||
    spec.startsWith('..\\')
  );
}

/** True for `class X {}` (which must be called with `new`). */
export function isClass(f: unknown): f is new (...args: unknown[]) => unknown {
  return typeof f === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(f));
}

/**
 * The loader without a TypeScript transpiler (the CLI passes its jiti-based one): paths from
 * `baseDir`, package names through import() as this package sees them.
 */
export const importNative: ModuleImporter = async (spec, baseDir) => {
  const target = isPathSpecifier(spec)
    ? pathToFileURL(spec.startsWith('file:') ? fileURLToPath(spec) : path.resolve(baseDir, spec)).href
    : spec;
  try {
    return await settledModule(import(target) as Promise<ModuleNamespace>, spec);
  } catch (e) {
    if (e instanceof ModuleLoadError) throw e;
    const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    const code = (e as { code?: string }).code;
    if (!isPathSpecifier(spec) && code === 'ERR_MODULE_NOT_FOUND' && msg.includes(`'${spec}'`))
      throw new ModuleLoadError(`cannot find package "${spec}"`, { cause: e });
    throw new ModuleLoadError(`failed to load ${spec}: ${msg}`, { cause: e });
  }
};
