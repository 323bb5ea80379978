/**
 * `mmsim check`: fuzz a composition and report. The CLI registers it and passes its loaders:
 *
 *   mmsim check [--kernel P]... [--hardware H] [--cpus N] [--policy X]... [--runs N] [--seed S]
 *               [--max-steps N] [--out DIR] [--large-folios always|never|random] [--json]
 *
 * `--kernel` may repeat (default: every preset); `--policy NAME` or `--policy 'NAME={"opt":1}'`
 * (as `mmsim run` takes it) names a built-in demo policy (unsafe-large-cow, no-flush-cow,
 * large-folios) or, through `io.loadPolicy`, a package/path; one that cannot be loaded or
 * applied is bad input (exit 2).
 * Exit codes: 0 no violation, 1 violations found (scenarios written with --out), 2 bad usage or a
 * policy tap that did not return within --tap-timeout, 130 interrupted (SIGINT / SIGTERM: what
 * finished is printed, marked interrupted / incomplete).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import type { HardwareModel, AnyPlugin } from '@mmsim/core';
import { eraProblems, presetNames, resolvePreset } from '@mmsim/presets';
import { checkCompositionAsync, formatCheckResult, type CheckResult } from './check.js';
import { pluginProblem } from './compose/plugins.js';
import { dropDuplicates } from './compose/duplicates.js';
import { errorText } from './compose/errors.js';
import { isPathSpecifier } from './compose/modules.js';
import { parsePolicySpec, PolicySpecError } from './policy-spec.js';
import { ensureOutDir, OutDirError } from './scenario-file.js';
import { buildSystem, builtinHardware, builtinPolicy, type HardwareChoice, type PolicyChoice } from './system.js';
import { channelControl, type CheckChannel } from './watch/channel.js';
import { signalControl } from './watch/control.js';
import { startWatchdog } from './watch/watchdog.js';

/** Default `--tap-timeout`: a policy tap running this long (ms) is taken to be stuck. */
export const DEFAULT_TAP_TIMEOUT_MS = 1000;

export interface CheckCommandOptions {
  kernel?: string | string[];
  hardware?: string;
  cpus?: number;
  policy?: string | string[];
  runs?: number;
  seed?: number;
  /** --seeds N: check seeds seed..seed+N-1 (each --runs), a result per kernel and seed */
  seeds?: number;
  maxSteps?: number;
  out?: string;
  largeFolios?: 'always' | 'never' | 'random';
  /** memory pressure per run: always, never (default) or random */
  pressure?: 'always' | 'never' | 'random';
  /** PMD-sized THP on, with whole-table regions */
  thp?: boolean;
  /** the multi-gen LRU on (system.vm.lruGen) */
  lruGen?: boolean;
  /** KSM on (system.ksm) with MADV_(UN)MERGEABLE and ksmd steps */
  ksm?: boolean;
  json?: boolean;
  /** a policy tap running longer than this (ms) stops the check: exit 2 (default 1000) */
  tapTimeout?: number;
  /** run each finding again without the --policy policies: does the preset alone fail too? */
  baseline?: boolean;
  help?: boolean;
}

export interface CheckIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /**
   * Hardware the checker does not know (x86, arm64, a package or path): resolve the module once
   * and return its factory; the checker calls it for every run (a fresh model per system).
   */
  loadHardware?: (name: string) => Promise<(options: Record<string, unknown>) => HardwareModel>;
  /** Policies by package name or path: resolve once, return a factory of fresh plugins. */
  loadPolicy?: (ref: string, options: Record<string, unknown>) => Promise<() => AnyPlugin[]>;
  /**
   * The check runs in a worker thread and the main thread supervises it (watch/supervise.ts):
   * it owns the signals and the tap watchdog. Without it the check handles both itself.
   */
  channel?: CheckChannel;
}

export const CHECK_USAGE = `usage: mmsim check [--kernel P]... [--hardware strict|flat|x86|arm64|PKG] [--cpus N] [--policy X]...
                   [--runs N] [--seed S] [--seeds N] [--max-steps N] [--out DIR] [--large-folios always|never|random] [--thp] [--lru-gen] [--ksm] [--json]
                   [--pressure always|never|random] [--tap-timeout MS] [--baseline] [--queue URL]
  --policy X   NAME or 'NAME={"opt":1}': a built-in, a package or a ./path (as mmsim run takes it)
  --seeds N   seeds S..S+N-1, each --runs runs: a result per kernel and seed (one queue job each with --queue)
  --queue URL   run on \`mmsim worker\`s through Redis (redis://[user:password@]host:port, rediss://): a job per kernel (and seed)
  --thp   PMD-sized THP on (thp: { top: always }) with whole-table regions
  --lru-gen   the multi-gen LRU on (system.vm.lruGen: true; v6.1+ presets)
  --ksm   KSM on (system.ksm: run 1, use_zero_pages 1) with MADV_(UN)MERGEABLE and ksmd steps in the mix
  --pressure   4 MiB of RAM with raised watermarks (kswapd, direct reclaim, swap-out in small runs):
               always, never (default) or random per run; a run that ends out of memory stops there
  --baseline   run each finding again on the preset alone: "also fails without your policy" or "only with it"
  --tap-timeout MS   a policy's tap that does not return within MS ms (default 1000) is a plugin error (exit 2)`;

class UsageError extends Error {}

/** argv (after "check") → options. */
export function parseCheckArgs(argv: readonly string[]): CheckCommandOptions {
  const o: CheckCommandOptions = {};
  const kernels: string[] = [];
  const policies: string[] = [];
  const int = (flag: string, v: string | undefined): number => {
    if (v === undefined || !/^-?\d+$/.test(v)) throw new UsageError(`${flag} needs an integer`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    const val = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-k':
      case '--kernel':
        kernels.push(val());
        break;
      case '--hardware':
        o.hardware = val();
        break;
      case '--cpus':
        o.cpus = int(flag, val());
        break;
      case '--policy':
        policies.push(val());
        break;
      case '--runs':
        o.runs = int(flag, val());
        break;
      case '--seed':
        o.seed = int(flag, val());
        break;
      case '--seeds':
        o.seeds = int(flag, val());
        break;
      case '--max-steps':
        o.maxSteps = int(flag, val());
        break;
      case '--out':
        o.out = val();
        break;
      case '--large-folios': {
        const v = val();
        if (v !== 'always' && v !== 'never' && v !== 'random')
          throw new UsageError('--large-folios: always, never or random');
        o.largeFolios = v;
        break;
      }
      case '--pressure': {
        const v = val();
        if (v !== 'always' && v !== 'never' && v !== 'random')
          throw new UsageError('--pressure: always, never or random');
        o.pressure = v;
        break;
      }
      case '--json':
        o.json = true;
        break;
      case '--tap-timeout':
        o.tapTimeout = int(flag, val());
        break;
      case '--thp':
        o.thp = true;
        break;
      case '--lru-gen':
        o.lruGen = true;
        break;
      case '--ksm':
        o.ksm = true;
        break;
      case '--baseline':
        o.baseline = true;
        break;
      case '-h':
      case '--help':
        o.help = true;
        break;
      default:
        throw new UsageError(`unknown option ${a}`);
    }
  }
  if (kernels.length) o.kernel = kernels;
  if (policies.length) o.policy = policies;
  return o;
}

/** Run `mmsim check`. Resolves to the exit code. */
export async function checkCommand(args: readonly string[] | CheckCommandOptions, io: CheckIO): Promise<number> {
  let o: CheckCommandOptions;
  try {
    o = Array.isArray(args) ? parseCheckArgs(args) : (args as CheckCommandOptions);
  } catch (e) {
    io.stderr.write(`mmsim check: ${(e as Error).message}\n${CHECK_USAGE}\n`);
    return 2;
  }
  if (o.help) {
    io.stdout.write(`${CHECK_USAGE}\n`);
    return 0;
  }
  for (const [flag, v] of [
    ['--runs', o.runs],
    ['--seeds', o.seeds],
    ['--max-steps', o.maxSteps],
    ['--cpus', o.cpus],
    ['--tap-timeout', o.tapTimeout],
  ] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1)) {
      io.stderr.write(`mmsim check: ${flag} must be >= 1 (got ${v})\n${CHECK_USAGE}\n`);
      return 2;
    }
  }
  if (o.baseline && !o.policy?.length) {
    io.stderr.write(
      `mmsim check: --baseline compares a finding with the preset alone: give a --policy\n${CHECK_USAGE}\n`,
    );
    return 2;
  }
  const lruGenProblem = (k: string) => eraProblems(k, { system: { vm: { lruGen: true } } })[0];
  let kernels = o.kernel === undefined ? presetNames() : Array.isArray(o.kernel) ? o.kernel : [o.kernel];
  // --lru-gen without --kernel: the presets that have the multi-gen LRU (v6.1+)
  if (o.lruGen && o.kernel === undefined) kernels = kernels.filter((k) => !lruGenProblem(k));
  const known = new Set(presetNames());
  for (const k of kernels) {
    if (!known.has(k)) {
      io.stderr.write(`mmsim check: unknown kernel preset "${k}" (known: ${[...known].join(', ')})\n`);
      return 2;
    }
    const era = o.lruGen ? lruGenProblem(k) : undefined;
    if (era) {
      io.stderr.write(`mmsim check: --lru-gen: ${era.detail}\n`);
      return 2;
    }
  }
  let hardware: HardwareChoice;
  let policies: PolicyChoice[];
  const policyNames = Array.isArray(o.policy) ? o.policy : o.policy ? [o.policy] : [];
  try {
    hardware = await resolveHardware(o.hardware ?? 'strict', io);
    policies = await Promise.all(policyNames.map((p) => resolvePolicy(p, io)));
    for (const w of duplicateWarnings(kernels, policies, policyNames)) io.stderr.write(`mmsim check: warning: ${w}\n`);
  } catch (e) {
    io.stderr.write(`mmsim check: ${(e as Error).message}\n`);
    return 2;
  }
  if (o.out !== undefined) {
    // before fuzzing: a bad --out is bad input now, not an internal error once a finding is written
    try {
      ensureOutDir(o.out);
    } catch (e) {
      io.stderr.write(`mmsim check: ${(e as Error).message}\n`);
      return 2;
    }
  }
  const budget = o.tapTimeout ?? DEFAULT_TAP_TIMEOUT_MS;
  // the watchdog signals this process: only when the check owns it (not in a worker: tests, or
  // the CLI's, whose main thread watches the taps and the signals)
  const watchdog = isMainThread && !io.channel ? startWatchdog(budget) : undefined;
  const ctl = io.channel ? channelControl(io.channel, budget) : signalControl(watchdog);
  const results: CheckResult[] = [];
  try {
    try {
      // after signalControl(): a signal during these builds is already the check's to handle
      trialBuild(kernels, hardware, o.cpus ?? 2, policies);
      // a signal that came during the builds reaches its handler now: once the first run is
      // under breakOnSigint, a SIGINT still queued in the event loop was lost (the check ran on)
      await new Promise((r) => setImmediate(r));
    } catch (e) {
      io.stderr.write(`mmsim check: ${(e as Error).message}\n`);
      return 2;
    }
    const seed0 = o.seed ?? 1;
    // --seeds: each kernel's seeds in turn (a queue job each with --queue: the same results)
    const jobs = kernels.flatMap((kernel) =>
      o.seeds === undefined
        ? [{ kernel, seed: seed0, seeded: false }]
        : Array.from({ length: o.seeds }, (_, i) => ({ kernel, seed: seed0 + i, seeded: true })),
    );
    for (const { kernel, seed, seeded } of jobs) {
      let r: CheckResult;
      try {
        r = await checkCompositionAsync(
          {
            kernel,
            hardware,
            cpus: o.cpus ?? 2,
            policies,
            runs: o.runs ?? 200,
            seed,
            maxSteps: o.maxSteps ?? 40,
            largeFolios: o.largeFolios === 'always' ? true : o.largeFolios === 'never' ? false : 'random',
            ...(o.thp ? { thp: true } : {}),
            ...(o.lruGen ? { lruGen: true } : {}),
            ...(o.ksm ? { ksm: true } : {}),
            ...(o.pressure && o.pressure !== 'never'
              ? { pressure: o.pressure === 'always' ? true : ('random' as const) }
              : {}),
            ...(o.out ? { outDir: o.out } : {}),
            ...(o.baseline ? { baseline: true } : {}),
          },
          ctl,
        );
      } catch (e) {
        if (!(e instanceof OutDirError)) throw e;
        io.stderr.write(`mmsim check: ${e.message}\n`);
        return 2;
      }
      const stuck = watchdog ? watchdog.fired() : -1;
      if (stuck >= 0) {
        // a plugin that does not answer is a bad plugin (exit 2), like one that answers out of type
        io.stderr.write(stuckTapLine(ctl.taps.taps[stuck]!, budget, kernel, ctl.taps.where()));
        return 2;
      }
      if (seeded) r = withSeed(r, seed);
      results.push(r);
      if (!o.json) io.stdout.write(formatCheckResult(r) + '\n');
      io.channel?.post({ t: 'done', r });
      if (r.interrupted) break;
    }
  } finally {
    ctl.close();
    await watchdog?.close();
  }
  if (o.json) io.stdout.write(checkJson(results));
  if (ctl.signal() !== undefined) {
    io.stderr.write(interruptedLine(results));
    return 130;
  }
  return results.some((r) => r.violations.length > 0) ? 1 : 0;
}

/** A --seeds result: its seed after the kernel (in `--json` too). */
function withSeed(r: CheckResult, seed: number): CheckResult {
  const { kernel, ...rest } = r;
  return { kernel, seed, ...rest };
}

/** `--json`'s document: the results, a finding's scenario inline unless it was written to a file. */
export function checkJson(results: readonly CheckResult[]): string {
  const doc = results.map((r) => ({
    ...r,
    violations: r.violations.map(({ scenario, ...v }) => ({ ...v, scenario: v.file ? undefined : scenario })),
  }));
  return JSON.stringify(doc, null, 2) + '\n';
}

/** The line on stderr of an interrupted check (exit 130). */
export function interruptedLine(results: readonly CheckResult[]): string {
  const runs = results.reduce((a, r) => a + r.runs, 0);
  return `mmsim: interrupted: the output is incomplete (${runs} fuzzing runs finished)\n`;
}

/** A tap that did not return within the budget: the plugin error (exit 2). */
export function stuckTapLine(
  t: { plugin: string; hook: string },
  budget: number,
  kernel: string,
  where: string,
): string {
  return `mmsim check: plugin "${t.plugin}"'s tap on ${t.hook} did not return within ${budget} ms (${kernel}${where ? `, ${where} of a fuzzing run` : ''}; --tap-timeout MS allows more)\n`;
}

async function resolveHardware(name: string, io: CheckIO): Promise<HardwareChoice> {
  const b = builtinHardware(name);
  if (b) return b;
  if (!io.loadHardware) throw new Error(`hardware "${name}" needs the CLI's loader (built in here: strict, flat)`);
  const factory = await io.loadHardware(name);
  // hw-x86 / hw-arm64: turn their stale-TLB check on (a hit the page table disagrees with throws)
  const options = name === 'x86' || name === 'arm64' ? { coherenceCheck: true } : {};
  factory({ ...options, cpus: 2 }); // fail now on a bad name or option, not in the first run
  return { name, ref: name, options, create: (o) => factory({ ...options, ...o }) };
}

/**
 * A plugin composed twice (a preset's and a --policy, or a --policy twice; compose/duplicates.ts):
 * the same options → one warning each (every run composes it once); different options → throws.
 */
function duplicateWarnings(kernels: readonly string[], policies: readonly PolicyChoice[], names: readonly string[]) {
  const warnings = new Set<string>();
  for (const kernel of kernels) {
    const made = policies.flatMap((p, i) => {
      const m = p.create();
      return (Array.isArray(m) ? m : [m]).map((plugin) => ({ plugin, source: `--policy ${names[i]}` }));
    });
    const preset = resolvePreset(kernel).plugins.map((plugin) => ({ plugin, source: `--kernel ${kernel}` }));
    for (const d of dropDuplicates(preset, made).duplicates) {
      if (!d.same) throw new Error(d.detail);
      warnings.add(d.detail);
    }
  }
  return warnings;
}

/** A `--policy` value (`NAME` or `NAME={"opt":1}`, as `mmsim run` takes it) → a policy. Throws PolicySpecError. */
async function resolvePolicy(spec: string, io: CheckIO): Promise<PolicyChoice> {
  const ref = parsePolicySpec(spec);
  const name = typeof ref === 'string' ? ref : ref.name;
  const options = typeof ref === 'string' ? {} : (ref.options ?? {});
  const b = builtinPolicy(name, options);
  if (b) return { ...b, label: spec };
  if (!io.loadPolicy)
    throw new PolicySpecError(
      spec,
      `policy "${name}" needs the CLI's loader (built in here: unsafe-large-cow, no-flush-cow, large-folios)`,
    );
  let factory: () => AnyPlugin[];
  try {
    factory = await io.loadPolicy(name, options);
    // fail now on a factory that throws or a plugin that cannot load, not in every fuzzing run
    const why = pluginProblem(factory());
    if (why) throw new Error(why);
  } catch (e) {
    throw new PolicySpecError(spec, errorText(e));
  }
  // a path is written as `file:` + the absolute path: a finding names it relative to its own directory
  const file = isPathSpecifier(name)
    ? `file:${name.startsWith('file:') ? fileURLToPath(name) : path.resolve(name)}`
    : name;
  return { ref: Object.keys(options).length ? { name: file, options } : file, create: factory, label: spec };
}

/**
 * Build one system per kernel with each policy alone (setup variant: no extra large folios):
 * a plugin that cannot load there (no `api`, a factory returning no plugin, an apply() that
 * throws) is bad input naming its `--policy`, not a "setup" violation of every fuzzing run.
 */
function trialBuild(
  kernels: readonly string[],
  hardware: HardwareChoice,
  cpus: number,
  policies: PolicyChoice[],
): void {
  for (const p of policies) {
    for (const kernel of kernels) {
      try {
        buildSystem(
          { kernel, hardware, cpus, policies: [p] },
          { largeFolios: false, swapSync: true, smallBatches: false },
        );
      } catch (e) {
        throw new PolicySpecError(p.label ?? String(p.ref), `cannot build a ${kernel} system with it: ${errorText(e)}`);
      }
    }
  }
}
