/**
 * Installed policy packages, found as `npm search keywords:mmsim-policy` would: packages whose
 * package.json `keywords` include "mmsim-policy", in every node_modules from the working
 * directory up and beside the CLI itself (where the first-party policies are installed).
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { apiMismatch } from '@mmsim/core';

export const POLICY_KEYWORD = 'mmsim-policy';

export interface InstalledPolicy {
  name: string;
  version: string;
  description: string;
  /** the policy API range it was built for (`mmsim.api`, else its @mmsim/core peer range) */
  api: string | null;
  /** null when this CLI's core provides that API, else why not */
  incompatible: string | null;
  /** its directory */
  dir: string;
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  description?: unknown;
  keywords?: unknown;
  mmsim?: { api?: unknown };
  peerDependencies?: Record<string, unknown>;
}

function readPackage(dir: string): PackageJson | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

/** Package directories directly under a node_modules directory (scoped ones included). */
function packagesIn(nodeModules: string): string[] {
  let names: string[];
  try {
    names = readdirSync(nodeModules);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    if (n.startsWith('.')) continue;
    const dir = path.join(nodeModules, n);
    if (n.startsWith('@')) {
      try {
        for (const m of readdirSync(dir)) out.push(path.join(dir, m));
      } catch {
        // an unreadable scope: skip it
      }
    } else out.push(dir);
  }
  return out;
}

/** node_modules directories of `start` and its ancestors. */
function ancestorsNodeModules(start: string): string[] {
  const out: string[] = [];
  for (let d = path.resolve(start); ; d = path.dirname(d)) {
    const nm = path.join(d, 'node_modules');
    if (existsSync(nm)) out.push(nm);
    if (path.dirname(d) === d) return out;
  }
}

/** The directory of an installed package seen from this module (the CLI's own dependencies). */
function ownPackageDir(name: string): string | undefined {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(name);
  } catch {
    return undefined;
  }
  // the entry file's nearest package.json named `name` (exports need not list package.json)
  for (let d = path.dirname(entry); path.dirname(d) !== d; d = path.dirname(d)) {
    if (readPackage(d)?.name === name) return d;
  }
  return undefined;
}

/** Installed policy packages seen from `cwd` and from the CLI, sorted by name. */
export function findPolicyPackages(cwd: string = process.cwd()): InstalledPolicy[] {
  const roots = new Set<string>(ancestorsNodeModules(cwd));
  // the CLI's node_modules, and those of @mmsim/presets (which depends on the first-party policies)
  for (const d of [ownPackageDir('@mmsim/presets'), ownPackageDir('@mmsim/core')]) {
    if (d) for (const nm of ancestorsNodeModules(d)) roots.add(nm);
  }
  const seen = new Set<string>();
  const found = new Map<string, InstalledPolicy>();
  for (const nm of roots) {
    for (const dir of packagesIn(nm)) {
      let real: string;
      try {
        real = realpathSync(dir);
      } catch {
        continue;
      }
      if (seen.has(real)) continue;
      seen.add(real);
      const pkg = readPackage(real);
      if (!pkg || typeof pkg.name !== 'string') continue;
      if (!Array.isArray(pkg.keywords) || !pkg.keywords.includes(POLICY_KEYWORD)) continue;
      const rawApi = pkg.mmsim?.api ?? pkg.peerDependencies?.['@mmsim/core'];
      const api = typeof rawApi === 'string' && !rawApi.startsWith('workspace:') ? rawApi : null;
      const key = `${pkg.name}@${String(pkg.version)}`;
      if (found.has(key)) continue;
      found.set(key, {
        name: pkg.name,
        version: typeof pkg.version === 'string' ? pkg.version : '?',
        description: typeof pkg.description === 'string' ? pkg.description : '',
        api,
        incompatible: api === null ? null : apiMismatch(api),
        dir: real,
      });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}
