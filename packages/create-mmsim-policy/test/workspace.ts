/**
 * What the end-to-end tests (scaffold.test.ts, guide.test.ts) share: running commands in a
 * user's environment, packing the workspace's @mmsim packages a scaffold installs
 * (`pnpm pack`), and pointing a scaffold's package.json at those tarballs (a user gets them
 * from the registry).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_DIR, PINNED } from '../src/versions.js';

/** The workspace root. */
export const ROOT = path.resolve(PACKAGE_DIR, '../..');
/** The built generator (`pnpm build`): what `npm create mmsim-policy` runs. */
export const BIN = path.join(PACKAGE_DIR, 'dist', 'bin.js');
/** `npm install`'s flags in these tests: the registry is only asked for what its cache lacks. */
export const INSTALL_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund'] as const;

export interface Ran {
  code: number | null;
  /** stdout and stderr, interleaved */
  out: string;
}

/** The environment of a user's shell: none of this test runner's or pnpm's variables. */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(VITEST|npm_|NODE_OPTIONS$|NODE_ENV$|TEST$|PNPM_)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: '1', FORCE_COLOR: '0', npm_config_update_notifier: 'false' };
}

export function run(cmd: string, args: readonly string[], cwd: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out }));
  });
}

export const json = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

/** Workspace package directories by package name. */
export function workspacePackages(): Map<string, string> {
  const m = new Map<string, string>();
  for (const d of readdirSync(path.join(ROOT, 'packages'))) {
    const f = path.join(ROOT, 'packages', d, 'package.json');
    if (existsSync(f)) m.set(json(f).name, path.dirname(f));
  }
  return m;
}

/** The @mmsim packages a scaffold installs: its pinned ones and their @mmsim dependencies. */
export function closure(ws: Map<string, string>): string[] {
  const todo: string[] = PINNED.filter((n) => n.startsWith('@mmsim/'));
  const seen = new Set<string>();
  while (todo.length > 0) {
    const n = todo.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    const pkg = json(path.join(ws.get(n)!, 'package.json'));
    for (const d of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }))
      if (d.startsWith('@mmsim/')) todo.push(d);
  }
  return [...seen].sort();
}

/**
 * `pnpm pack` the @mmsim packages a scaffold installs into `dir` (needs `pnpm build` first):
 * `@mmsim/core` → `file:DIR/mmsim-core-VERSION.tgz`, for useTarballs().
 */
export async function packTarballs(dir: string): Promise<Record<string, string>> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build first`);
  const ws = workspacePackages();
  const names = closure(ws);
  const packs = await Promise.all(
    names.map((n) => run('pnpm', ['pack', '--pack-destination', dir], ws.get(n)!).then((r) => [n, r] as const)),
  );
  for (const [n, r] of packs) if (r.code !== 0) throw new Error(`pnpm pack ${n} failed:\n${r.out}`);
  return Object.fromEntries(
    names.map((n) => {
      const v = json(path.join(ws.get(n)!, 'package.json')).version;
      return [n, `file:${path.join(dir, `${n.slice(1).replace('/', '-')}-${v}.tgz`)}`];
    }),
  );
}

/**
 * Point the scaffold in `dir` at the tarballs: its @mmsim devDependencies and, through
 * `overrides`, their own @mmsim dependencies.
 */
export function useTarballs(dir: string, tarballs: Readonly<Record<string, string>>): void {
  const f = path.join(dir, 'package.json');
  const pkg = json(f);
  for (const n of Object.keys(pkg.devDependencies)) if (tarballs[n]) pkg.devDependencies[n] = tarballs[n];
  pkg.overrides = { ...tarballs };
  writeFileSync(f, `${JSON.stringify(pkg, null, 2)}\n`);
}
