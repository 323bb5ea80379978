/**
 * The `config` of `mmsim run --json`: everything needed to re-run the document (in the spirit of
 * gem5's config.json): mmsim's version, the scenario file, the seed, the resolved kernel preset
 * with each plugin's name and options, the extra policies with theirs, the hardware and its
 * effective options, the kernel config overrides, package versions, and the `--set` / `--var`
 * values applied. `config.run` holds the invocation; `configToArgs()` turns it back into
 * `mmsim run` arguments (and `mmsim run --config FILE.json` runs them).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PluginRefSpec, RunResult, Scenario } from '@mmsim/core';
import { kernelConfig } from '@mmsim/check/compose';
import { DEFAULT_PRESET, resolvePreset } from '@mmsim/presets';
import { DEFAULT_CPUS, HARDWARE_PACKAGES } from './hardware.js';
import { isPathSpecifier } from './modules.js';
import { packageInfo, type PackageInfo } from './packages-info.js';
import { policyFlagText } from './overrides.js';
import type { PreparedScenario, RunRequest } from './prepare.js';

export const MMSIM_VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** The `mmsim run` invocation that re-runs a document. */
export interface RunInvocation {
  /** the scenario file, absolute */
  file: string;
  kernel?: string;
  hardware?: string;
  seed: number;
  policies: string[];
  sets: string[];
  vars: Record<string, string>;
}

export interface RunConfig {
  mmsim: { version: string };
  scenario: { name: string; file: string; path: string; sha256: string };
  seed: number;
  kernel: {
    preset: string;
    options: Record<string, unknown>;
    config: unknown;
    plugins: Array<{ name: string; options?: unknown }>;
  };
  policies: Array<{ name: string; options: Record<string, unknown>; from: 'file' | '--policy'; package?: PackageInfo }>;
  hardware: { name: string; options: Record<string, unknown>; package?: PackageInfo; dropped?: string[] };
  /** the KernelConfig overrides of the `system` block (thp, swap, memory, lruBatchSize) */
  kernelConfig: unknown;
  /** package name → version */
  packages: Record<string, string>;
  sets: Array<{ path: string; value: unknown }>;
  vars: Record<string, string>;
  run: RunInvocation;
}

function jsonSafe(v: unknown): unknown {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(v)) as unknown;
  } catch {
    return String(v);
  }
}

function refParts(ref: PluginRefSpec): { name: string; options: Record<string, unknown> } {
  return typeof ref === 'string' ? { name: ref, options: {} } : { name: ref.name, options: ref.options ?? {} };
}

export function buildConfig(req: RunRequest, prep: PreparedScenario, result: RunResult): RunConfig {
  const { loaded } = prep;
  const scenario: Scenario = loaded.scenario;
  const s = scenario.system ?? {};
  const packages: Record<string, string> = {};
  const note = (p: PackageInfo | undefined) => {
    if (p) packages[p.name] = p.version;
    return p;
  };
  for (const n of ['@mmsim/cli', '@mmsim/core', '@mmsim/check', '@mmsim/presets']) note(packageInfo(n));
  const presets = packageInfo('@mmsim/presets');
  if (presets) {
    const presetsDir = packageDir('@mmsim/presets');
    const deps = presetsDir ? dependencies(presetsDir) : [];
    for (const d of deps) if (d.startsWith('@mmsim/')) note(packageInfo(d, presetsDir));
  }
  const kernelName = req.kernel ?? s.kernel ?? DEFAULT_PRESET;
  const kernelOptions = s.kernelOptions ?? {};
  let preset: ReturnType<typeof resolvePreset> | undefined;
  try {
    preset = resolvePreset(kernelName, kernelOptions);
  } catch {
    preset = undefined; // a preset registered by a plugin package only inside the run
  }
  const hwName = req.hardware ?? s.hardware ?? 'flat';
  const hwPkg = HARDWARE_PACKAGES[hwName] ?? (isPathSpecifier(hwName) ? undefined : hwName);
  const policies = (s.policies ?? []).map((ref, i) => {
    const { name, options } = refParts(ref);
    const pkg = isPathSpecifier(name) || name.startsWith('/') ? undefined : note(packageInfo(name, loaded.baseDir));
    return {
      name,
      options,
      from: (i < prep.filePolicies ? 'file' : '--policy') as 'file' | '--policy',
      ...(pkg ? { package: pkg } : {}),
    };
  });
  const hwPackage = hwPkg
    ? note(packageInfo(hwPkg, req.hardware !== undefined ? process.cwd() : loaded.baseDir))
    : undefined;
  let sha256 = '';
  try {
    sha256 = createHash('sha256').update(readFileSync(loaded.path)).digest('hex');
  } catch {
    sha256 = '';
  }
  const run: RunInvocation = {
    file: loaded.path,
    ...(req.kernel !== undefined ? { kernel: req.kernel } : {}),
    ...(req.hardware !== undefined
      ? { hardware: isPathSpecifier(req.hardware) ? path.resolve(req.hardware) : req.hardware }
      : {}),
    seed: result.seed,
    policies: prep.policyRefs.map(policyFlagText),
    sets: prep.sets.map((x) => x.spec),
    vars: { ...(req.vars ?? {}) },
  };
  return {
    mmsim: { version: MMSIM_VERSION },
    scenario: { name: scenario.name, file: loaded.file, path: loaded.path, sha256 },
    seed: result.seed,
    kernel: {
      preset: kernelName,
      options: jsonSafe(kernelOptions) as Record<string, unknown>,
      config: jsonSafe(preset?.config ?? null),
      plugins: (preset?.plugins ?? []).map((p) => {
        const o = (p as { options?: unknown }).options;
        return o === undefined ? { name: p.name } : { name: p.name, options: jsonSafe(o) };
      }),
    },
    policies,
    hardware: {
      name: hwName,
      options: jsonSafe({ cpus: DEFAULT_CPUS, ...(s.hardwareOptions ?? {}) }) as Record<string, unknown>,
      ...(hwPackage ? { package: hwPackage } : {}),
      ...(prep.dropped.length > 0 ? { dropped: prep.dropped } : {}),
    },
    kernelConfig: jsonSafe(kernelConfig(s, loaded.file)),
    packages: Object.fromEntries(Object.entries(packages).sort(([a], [b]) => a.localeCompare(b))),
    sets: prep.sets.map((x) => ({ path: x.path.join('.'), value: x.value })),
    vars: { ...(req.vars ?? {}) },
    run,
  };
}

function packageDir(name: string): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const entry = req.resolve(name);
    // walk up to the package.json named `name`
    let dir = entry;
    for (let i = 0; i < 6; i++) {
      dir = path.dirname(dir);
      try {
        const j = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
        if (j.name === name) return dir;
      } catch {
        // keep looking
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function dependencies(dir: string): string[] {
  try {
    const j = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    return Object.keys(j.dependencies ?? {});
  } catch {
    return [];
  }
}

/** The `mmsim run` arguments that re-run a document with this `config` (or its `run` part). */
export function configToArgs(config: Pick<RunConfig, 'run'> | RunInvocation): string[] {
  const r: RunInvocation = 'run' in config ? config.run : config;
  const args = ['run', r.file];
  if (r.kernel !== undefined) args.push('--kernel', r.kernel);
  if (r.hardware !== undefined) args.push('--hardware', r.hardware);
  for (const p of r.policies ?? []) args.push('--policy', p);
  for (const s of r.sets ?? []) args.push('--set', s);
  for (const [k, v] of Object.entries(r.vars ?? {})) args.push('--var', `${k}=${v}`);
  args.push('--seed', String(r.seed));
  return args;
}

/** The RunRequest of a `config` (what `mmsim run --config` runs). */
export function configToRequest(config: Pick<RunConfig, 'run'> | RunInvocation): RunRequest & { seed: number } {
  const r: RunInvocation = 'run' in config ? config.run : config;
  return {
    file: r.file,
    kernel: r.kernel,
    hardware: r.hardware,
    seed: r.seed,
    policies: r.policies ?? [],
    sets: r.sets ?? [],
    vars: r.vars ?? {},
  };
}
