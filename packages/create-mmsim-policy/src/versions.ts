/**
 * The versions a scaffold pins: the ones this generator's own package.json records. Published,
 * its dependencies name the released @mmsim versions (pnpm writes them over `workspace:` when it
 * packs) and its devDependencies the workspace's tool versions; run from the workspace, a
 * `workspace:` spec is read from that package's package.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { POLICY_API_VERSION } from '@mmsim/core';

/** The packages a scaffold's devDependencies pin. */
export const PINNED = ['@mmsim/core', '@mmsim/check', '@mmsim/cli', '@changesets/cli', 'typescript', 'vitest'] as const;
export type Pinned = (typeof PINNED)[number];

interface Manifest {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** This package's directory (src/ or dist/ is one level below it). */
export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function readManifest(file: string): Manifest {
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

/** The version of the package `name` installed for `fromDir` (node_modules up the tree). */
function installedVersion(name: string, fromDir: string): string | undefined {
  for (let d = fromDir; ; d = path.dirname(d)) {
    const f = path.join(d, 'node_modules', name, 'package.json');
    if (existsSync(f)) return readManifest(f).version;
    if (path.dirname(d) === d) return undefined;
  }
}

/** `^1.2.3` / `~1.2.3` → `1.2.3`; any other spec is kept. */
export function pin(spec: string): string {
  const m = /^[\^~]?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/.exec(spec);
  return m ? m[1]! : spec;
}

/**
 * The pinned version of each of PINNED, from `manifestDir`'s package.json. Throws when one is
 * missing there or a `workspace:` one cannot be found installed.
 */
export function pinnedVersions(manifestDir: string = PACKAGE_DIR): Record<Pinned, string> {
  const own = readManifest(path.join(manifestDir, 'package.json'));
  const specs = { ...own.devDependencies, ...own.dependencies };
  const out = {} as Record<Pinned, string>;
  for (const name of PINNED) {
    const spec = specs[name];
    if (spec === undefined) throw new Error(`${path.join(manifestDir, 'package.json')} records no version of ${name}`);
    if (spec.startsWith('workspace:')) {
      const v = installedVersion(name, manifestDir);
      if (v === undefined) throw new Error(`${name} (${spec}) is not installed beside ${manifestDir}`);
      out[name] = v;
    } else out[name] = pin(spec);
  }
  return out;
}

/** The policy API range a scaffold states (`api`, `mmsim.api`, the @mmsim/core peer): `^MAJOR.0.0`. */
export function apiRange(version: string = POLICY_API_VERSION): string {
  return `^${version.split('.')[0]}.0.0`;
}

/** This generator's own version. */
export function ownVersion(manifestDir: string = PACKAGE_DIR): string {
  return readManifest(path.join(manifestDir, 'package.json')).version ?? '0.0.0';
}
