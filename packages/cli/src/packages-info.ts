/** Package names and versions (for the `config` of `mmsim run --json`). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveModule } from './modules.js';

export interface PackageInfo {
  name: string;
  version: string;
}

const cache = new Map<string, PackageInfo | undefined>();

/** The package.json nearest above `file`. */
export function packageOfFile(file: string): PackageInfo | undefined {
  let dir = path.dirname(file);
  for (;;) {
    if (cache.has(dir)) return cache.get(dir);
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj)) {
      let info: PackageInfo | undefined;
      try {
        const j = JSON.parse(readFileSync(pj, 'utf8')) as { name?: unknown; version?: unknown };
        if (typeof j.name === 'string') info = { name: j.name, version: String(j.version ?? '') };
      } catch {
        info = undefined;
      }
      cache.set(dir, info);
      if (info) return info;
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** The package `name` as resolved from `fromDir` (default: this package's directory). */
export function packageInfo(name: string, fromDir?: string): PackageInfo | undefined {
  try {
    const file = resolveModule(name, fromDir ?? path.dirname(fileURLToPath(import.meta.url)));
    return packageOfFile(file);
  } catch {
    return undefined;
  }
}
