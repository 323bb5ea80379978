/**
 * What a queue job carries: the request (a compare configuration's RunRequest, or a check's
 * arguments for one kernel), the producer's working directory and mmsim version, and every
 * file the job reads — the scenario file and the local files it names (a `replay` step's trace,
 * `files`, a local plugin path or package directory, a `--policy`/`--hardware` path) — as
 * absolute path → sha256. The contents are stored once in Redis under `mmsim:blob:<sha256>`
 * (SET NX, a day's TTL), so a worker needs nothing from the producer's disk. The job id is the
 * hash of the whole payload: adding the same configuration again is the same job (idempotent).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { RunRequest } from '../prepare.js';
import { BLOB_PREFIX } from './connection.js';

export type JobPayload =
  | { kind: 'run'; version: string; cwd: string; request: RunRequest; files: Record<string, string> }
  | { kind: 'check'; version: string; cwd: string; kernel: string; args: string[]; files: Record<string, string> };

/** A plugin directory shipped whole: at most this many bytes (node_modules and .git left out). */
const MAX_DIR_BYTES = 64 << 20;
const BLOB_TTL_S = 24 * 3600;

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** The job id: the payload's content hash. */
export function jobId(p: JobPayload): string {
  return `${p.kind}-${sha256(JSON.stringify(p))}`;
}

/** Files and their contents, collected by absolute path. */
export class FileSet {
  readonly contents = new Map<string, Buffer>();

  addFile(abs: string): void {
    if (this.contents.has(abs)) return;
    const b = readFileSync(abs);
    this.contents.set(abs, b);
    // a local plugin or hardware module: the local modules it imports go with it
    if (MODULE.test(abs)) for (const dep of relativeImports(b.toString('utf8'), abs)) this.addFile(dep);
  }

  /** a plugin package directory (it has a package.json): every file but node_modules and .git */
  addDir(abs: string): void {
    let bytes = 0;
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.name === 'node_modules' || e.name === '.git') continue;
        const f = path.join(d, e.name);
        if (e.isDirectory()) walk(f);
        else if (e.isFile()) {
          bytes += statSync(f).size;
          if (bytes > MAX_DIR_BYTES)
            throw new Error(`${abs}: more than ${MAX_DIR_BYTES >> 20} MiB to ship to a worker`);
          this.addFile(f);
        }
      }
    };
    walk(abs);
  }

  /** a string of the scenario (or a flag value) that names a local file or plugin directory */
  addReference(s: string, dirs: readonly string[]): void {
    if (s.length > 4096 || s.includes('\n') || !/[./]/.test(s)) return;
    const spec = s.startsWith('file:') ? s.slice(5) : s;
    for (const d of dirs) {
      const abs = path.resolve(d, spec);
      if (!existsSync(abs)) continue;
      const st = statSync(abs);
      if (st.isFile()) this.addFile(abs);
      else if (st.isDirectory() && existsSync(path.join(abs, 'package.json')) && abs !== path.resolve(d))
        this.addDir(abs);
      return;
    }
  }

  hashes(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [f, b] of [...this.contents].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[f] = sha256(b);
    return out;
  }
}

const MODULE = /\.(?:[cm]?[jt]s|[jt]sx)$/;
const EXTENSIONS = ['', '.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx', '.json'];
/** `from './x'`, `import './x'`, `import('./x')`, `require('./x')`, `export … from '../y'` */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(['"])(\.\.?\/[^'"\n]+)\1/g;

/**
 * The local files a module imports by relative specifier, resolved as Node and jiti do: the
 * exact file, with an extension added, `./x.js` written for `./x.ts`, or a directory's index.
 * Found by pattern, not by parsing: a specifier built at run time is not seen.
 */
export function relativeImports(source: string, file: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(SPECIFIER)) {
    const spec = path.resolve(path.dirname(file), m[2]!);
    const tries = [
      ...EXTENSIONS.map((e) => spec + e),
      ...(/\.[cm]?js$/.test(spec) ? [spec.replace(/js$/, 'ts')] : []),
      ...EXTENSIONS.slice(1).map((e) => path.join(spec, `index${e}`)),
    ];
    const hit = tries.find((f) => existsSync(f) && statSync(f).isFile());
    if (hit) out.push(hit);
  }
  return out;
}

/** Every string value of a (parsed) scenario, for addReference. */
export function scenarioStrings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) scenarioStrings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) scenarioStrings(x, out);
  return out;
}

/** The files of a run request: its scenario file, what the file names, the path flags. */
export function requestFiles(req: RunRequest, scenario: unknown, cwd: string, set = new FileSet()): FileSet {
  const file = path.resolve(cwd, req.file);
  set.addFile(file);
  const dirs = [path.dirname(file), cwd];
  for (const s of scenarioStrings(scenario)) set.addReference(s, dirs);
  for (const p of req.policies ?? []) set.addReference(p.replace(/=.*$/s, ''), [cwd]);
  if (req.hardware) set.addReference(req.hardware, [cwd]);
  return set;
}

/** Store the contents in Redis (once per hash). */
export async function storeBlobs(redis: Redis, set: FileSet): Promise<void> {
  const seen = new Set<string>();
  for (const b of set.contents.values()) {
    const h = sha256(b);
    if (seen.has(h)) continue;
    seen.add(h);
    // refresh the TTL of a blob another producer stored
    await redis.set(BLOB_PREFIX + h, b, 'EX', BLOB_TTL_S, 'NX');
    await redis.expire(BLOB_PREFIX + h, BLOB_TTL_S);
  }
}

/** The contents of `files` from Redis (a worker). Throws when a blob is gone. */
export async function fetchBlobs(redis: Redis, files: Record<string, string>): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const [f, h] of Object.entries(files)) {
    const b = await redis.getBuffer(BLOB_PREFIX + h);
    if (!b) throw new Error(`the contents of ${f} (sha256 ${h.slice(0, 12)}) are no longer in Redis`);
    if (sha256(b) !== h) throw new Error(`the contents of ${f} do not match their hash`);
    out.set(f, b);
  }
  return out;
}
