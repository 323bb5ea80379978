/**
 * Loading user code named in a scenario: a package name (resolved from the scenario file's
 * directory, then from the CLI's own install: search.ts) or a path (`./x`, `../x`, `/abs/x`,
 * resolved from that directory). TypeScript files go through jiti; everything else through `import()`.
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Jiti } from 'jiti';
import {
  isClass,
  isPathSpecifier,
  ModuleLoadError,
  settledModule,
  type ModuleImporter,
  type ModuleNamespace,
} from '@mmsim/check/compose';
import { loadingModule } from './stalled.js';
import { resolvePackage } from './search.js';

export { isClass, isPathSpecifier, ModuleLoadError, type ModuleNamespace };

const TS_EXT = /\.(?:[mc]?ts|tsx)$/;

// tryNative: plain .js dependencies of a .ts module load natively, so they share module
// instances (and DI tokens) with the CLI; no fsCache: do not write caches next to the user's files
const JITI_OPTIONS = { fsCache: false, tryNative: true };

// jiti loads only for a .ts module or an ESM-only package (it is most of the start-up otherwise)
let jiti: Jiti | undefined;
async function getJiti(): Promise<Jiti> {
  jiti ??= (await import('jiti')).createJiti(import.meta.url, JITI_OPTIONS);
  return jiti;
}

/** A jiti for resolving only (synchronous callers): jiti's CommonJS build when none is loaded yet. */
let resolver: Jiti | undefined;
function resolverJiti(): Jiti {
  resolver ??=
    jiti ?? (createRequire(import.meta.url)('jiti') as typeof import('jiti')).createJiti(import.meta.url, JITI_OPTIONS);
  return resolver;
}

/** The absolute file `spec` names, seen from `baseDir`. Throws ModuleLoadError when not found. */
export function resolveModule(spec: string, baseDir: string): string {
  const require = createRequire(path.join(baseDir, '__mmsim_resolve__.js'));
  if (isPathSpecifier(spec)) {
    const abs = spec.startsWith('file:') ? fileURLToPath(spec) : path.resolve(baseDir, spec);
    if (existsSync(abs) && statSync(abs).isFile()) return abs;
    try {
      return require.resolve(abs); // extensionless .js, or a directory with package.json / index.js
    } catch {
      throw new ModuleLoadError(`no such file: ${path.relative(process.cwd(), abs) || abs}`);
    }
  }
  return resolvePackage(spec, baseDir, resolvePackageFrom);
}

/** `spec` resolved by a require rooted at `from`, or as an ESM-only package; undefined when not there. */
function resolvePackageFrom(spec: string, from: string): string | undefined {
  try {
    return createRequire(from).resolve(spec);
  } catch (e) {
    // not installed there: no need to ask jiti (which then need not load at all)
    if ((e as { code?: string }).code === 'MODULE_NOT_FOUND') return undefined;
    // ESM-only packages (exports with only an "import" condition)
    const viaImport = resolverJiti().esmResolve(spec, {
      parentURL: pathToFileURL(from),
      conditions: ['node', 'import', 'default'],
      try: true,
    });
    if (viaImport) return viaImport.startsWith('file:') ? fileURLToPath(viaImport) : viaImport;
    throw e;
  }
}

/** Import a file (TypeScript through jiti). Load errors become ModuleLoadError. */
export async function importFile(absPath: string): Promise<ModuleNamespace> {
  const rel = path.relative(process.cwd(), absPath) || absPath;
  loadingModule(rel);
  try {
    const load = TS_EXT.test(absPath) ? getJiti().then((j) => j.import(absPath)) : import(pathToFileURL(absPath).href);
    // a top-level await or a Promise default export that never settles is a load error, not exit 13
    return await settledModule(load as Promise<ModuleNamespace>, rel);
  } catch (e) {
    if (e instanceof ModuleLoadError) throw e;
    const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    throw new ModuleLoadError(`failed to load ${rel}: ${msg}`, {
      cause: e,
    });
  }
}

/** Resolve and import `spec` from `baseDir` (the loader the CLI gives composeSystem). */
export const importModule: ModuleImporter = async (spec, baseDir) => importFile(resolveModule(spec, baseDir));
