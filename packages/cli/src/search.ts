/**
 * Where a package name in a scenario (`system.policies[i]`, `system.hardware`) is looked for, in
 * order: node resolution from the scenario file's directory; then from the CLI's own package (its
 * dependencies, e.g. @mmsim/policy-*, @mmsim/hw-*, resolve even under pnpm, which hoists
 * nothing); then, for `@mmsim/*` names, the @mmsim packages next to the CLI (the workspace's
 * packages/ or the node_modules/@mmsim directory it is installed in).
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModuleLoadError } from '@mmsim/check/compose';

/** packages/cli (src/.. or dist/..), or node_modules/@mmsim/cli. */
export const CLI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** One place a package name is looked for. */
export interface SearchDir {
  /** absolute */
  dir: string;
  /** for messages: `node_modules from there up`, ... */
  why: string;
  /** the file a require resolving `spec` is rooted at */
  from: string;
  /** not looked in (an @mmsim sibling directory without that package) */
  skip?: boolean;
}

/** The package name of a specifier: `@scope/name/sub` → `@scope/name`. */
export function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** The directories `spec` is looked for in, seen from `baseDir`, in order. */
export function searchDirs(spec: string, baseDir: string, cliDir = CLI_DIR): SearchDir[] {
  const dirs: SearchDir[] = [
    { dir: baseDir, why: 'node_modules from there up', from: path.join(baseDir, '__mmsim_resolve__.js') },
    { dir: cliDir, why: "the mmsim CLI's dependencies", from: path.join(cliDir, 'package.json') },
  ];
  const name = packageName(spec);
  if (name.startsWith('@mmsim/')) {
    // the CLI's siblings: packages/<name> in the workspace, node_modules/@mmsim/<name> installed
    const parent = path.dirname(realDir(cliDir));
    const sibling = path.join(parent, name.slice('@mmsim/'.length));
    // a package resolves its own name (package self-reference through "exports")
    dirs.push({
      dir: parent,
      why: '@mmsim packages next to the CLI',
      from: path.join(sibling, 'package.json'),
      skip: !holdsPackage(sibling, name),
    });
  }
  return dirs;
}

/** True when `dir` holds the package `name` (its package.json says so). */
export function holdsPackage(dir: string, name: string): boolean {
  const file = path.join(dir, 'package.json');
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === name;
  } catch {
    return false;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

/** The message of a package found nowhere: the name and every directory searched. */
export function notFoundMessage(spec: string, dirs: readonly SearchDir[]): string {
  const list = dirs.map((d) => `${d.dir} (${d.why})`).join(', ');
  return `cannot find package "${spec}" (searched ${list}; is it installed?)`;
}

/**
 * Resolve the package name `spec` seen from `baseDir` through searchDirs(), with `resolveFrom`
 * (a require rooted at a file, undefined when not found). Throws ModuleLoadError naming every
 * directory searched, or the first error that was not "not found" (a missing export, ...).
 */
export function resolvePackage(
  spec: string,
  baseDir: string,
  resolveFrom: (spec: string, from: string) => string | undefined,
  cliDir = CLI_DIR,
): string {
  const dirs = searchDirs(spec, baseDir, cliDir);
  let firstError: unknown;
  for (const d of dirs) {
    if (d.skip) continue;
    try {
      const found = resolveFrom(spec, d.from);
      if (found) return found;
    } catch (e) {
      firstError ??= e;
    }
  }
  if (firstError)
    throw new ModuleLoadError(`cannot resolve "${spec}": ${errorText(firstError)}`, { cause: firstError });
  throw new ModuleLoadError(notFoundMessage(spec, dirs));
}
