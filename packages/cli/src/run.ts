/** Load a scenario file, compose its system and run it. */
import { runScenario, ScenarioError, type MmSystem, type RunOptions, type RunResult, type Step } from '@mmsim/core';
import { buildConfig, type RunConfig } from './config.js';
import { checkEra } from './era.js';
import { FlagError } from './flag-error.js';
import { locateError } from './load.js';
import { policyFlagText } from './overrides.js';
import { prepareScenario, type PreparedScenario, type RunRequest } from './prepare.js';
import { resolveSystem } from './resolve.js';
import type { ReplayExpansion } from '@mmsim/program-trace';

export interface RunFileOptions {
  /** overrides the file's system.kernel */
  kernel?: string | undefined;
  /** overrides the file's system.hardware */
  hardware?: string | undefined;
  /** overrides the file's seed */
  seed?: number | undefined;
  /** `--policy` values: more `system.policies` entries */
  policies?: readonly string[] | undefined;
  /** `--set PATH=VALUE` values */
  sets?: readonly string[] | undefined;
  /** `--var NAME=VALUE`: fills `${NAME}` in the file */
  vars?: Readonly<Record<string, string>> | undefined;
  /** progress in work units (leaf steps + pages touched): every 1024 steps, every 4096 pages of a touch, at the end */
  onProgress?: ((done: number, total: number) => void) | undefined;
  /** polled between leaf steps and every 4096 pages of a touch: true stops the run (the result is marked interrupted) */
  shouldStop?: (() => boolean) | undefined;
  /** `--explain`: record the decision hooks' answers (result.decisions); onRecord sees each */
  explain?: RunOptions['explain'] | undefined;
  /** `--max-steps`: the step budget (overrides the file's limits.maxSteps; default 10^9) */
  maxSteps?: number | undefined;
  /** called with the composed system before the run (e.g. @mmsim/trace's recordTrace) */
  instrument?: ((system: MmSystem) => Pick<RunOptions, 'onPhase'> | undefined) | undefined;
}

/** The `mmsim run --json` document: the RunResult plus `config`. */
export type RunDocument = RunResult & {
  config: RunConfig;
  replay?: ReplayExpansion[];
  /** with replay steps: getrusage()'s ru_maxrss of the run's processes */
  rusage?: { maxrssKb: number };
};

export interface RunOutput {
  document: RunDocument;
  /** lines for stderr (e.g. hardware options dropped for --hardware) */
  notes: string[];
}

/** Run a scenario file. Throws ScenarioError for bad input, bad plugins and failed steps. */
export async function runScenarioFile(file: string, opts: RunFileOptions = {}): Promise<RunResult> {
  const { config: _config, ...result } = (await runFile(file, opts)).document;
  return result;
}

/** Compose options: `flagErrors` names `--kernel` / `--hardware` in their errors (FlagError). */
export interface ComposeRequestOptions {
  flagErrors?: boolean;
}

/**
 * Prepare a request's scenario and compose its system, without running it (`mmsim compare`
 * checks every configuration this way before the first run). Throws FlagError or ScenarioError.
 */
export async function composeRequest(req: RunRequest, o: ComposeRequestOptions = {}) {
  const prep = await prepareScenario(req);
  const { loaded } = prep;
  try {
    const system = await resolveSystem(loaded.scenario.system, {
      baseDir: loaded.baseDir,
      file: req.file,
      kernel: req.kernel,
      hardware: req.hardware,
      policySource: (i) => (i >= prep.filePolicies ? `--policy ${req.policies?.[i - prep.filePolicies]}` : undefined),
      onWarning: (m) => prep.notes.push(`${req.file}: warning: ${m}`),
    });
    await expandReplays(prep, req.file, system.hardware.ncpus);
    checkEra(loaded, req.kernel);
    return { prep, system };
  } catch (e) {
    throw mapError(e, req, prep, o);
  }
}

/**
 * `replay` steps become the trace's steps (@mmsim/program-trace, loaded only for them) on this
 * system's CPUs; their warnings go to stderr and their translation counts into the document.
 */
async function expandReplays(prep: PreparedScenario, file: string, cpus: number): Promise<void> {
  const { loaded } = prep;
  const any = (steps: readonly Step[]): boolean =>
    steps.some((s) => s.op === 'replay' || (s.op === 'repeat' && any(s.steps)));
  if (!any(loaded.scenario.steps)) return;
  const { expandReplaySteps } = await import('@mmsim/program-trace');
  const out = await expandReplaySteps(loaded.scenario, { baseDir: loaded.baseDir, file, cpus });
  loaded.scenario = out.scenario;
  prep.replays = out.replays;
  for (const r of out.replays) for (const w of r.warnings) prep.notes.push(`${r.trace}: warning: ${w}`);
}

/** ru_maxrss in kB: the largest hiwater_rss of any process, exited (Kernel.maxRss) or live. */
function maxRssKb(system: MmSystem): number {
  const k = system.kernel;
  let pages = k.maxRss;
  for (const p of k.procs.values()) {
    if (!p.alive) continue;
    p.mm.updateHiwaterRss();
    if (p.mm.hiwaterRss > pages) pages = p.mm.hiwaterRss;
  }
  return pages * 4;
}

function mapError(e: unknown, req: RunRequest, prep: PreparedScenario, o: ComposeRequestOptions): unknown {
  if (!(e instanceof ScenarioError)) return e;
  // a policy given with --policy: name the flag
  const m = /^system\.policies\[(\d+)\]$/.exec(e.field ?? '');
  if (m && Number(m[1]) >= prep.filePolicies) {
    const i = Number(m[1]) - prep.filePolicies;
    const ref = prep.policyRefs[i];
    return new FlagError('--policy', req.policies?.[i] ?? (ref ? policyFlagText(ref) : '?'), e.detail);
  }
  const fromKernel = e.field === 'system.kernel' && req.kernel !== undefined;
  const fromHardware = e.field === 'system.hardware' && req.hardware !== undefined;
  if (o.flagErrors && fromKernel)
    return new FlagError('--kernel', req.kernel!, e.detail.replace(/ \(from --kernel\)/, ''));
  if (o.flagErrors && fromHardware)
    return new FlagError('--hardware', req.hardware!, e.detail.replace(/ \(from --hardware\)/, ''));
  // a name given on the command line is not in the file: no line to point at
  return fromKernel || fromHardware ? e : locateError(e, prep.loaded);
}

/** Run a scenario file with the `mmsim run` flags; the result carries its `config`. */
export async function runFile(file: string, opts: RunFileOptions = {}): Promise<RunOutput> {
  const req: RunRequest = { ...opts, file };
  const { prep, system } = await composeRequest(req);
  const { scenario } = prep.loaded;
  try {
    const systemOptions: Record<string, unknown> = {};
    if (scenario.system?.hardwareOptions) systemOptions.hardwareOptions = scenario.system.hardwareOptions;
    if (scenario.system?.kernelOptions) systemOptions.kernelOptions = scenario.system.kernelOptions;
    const extra = opts.instrument?.(system);
    const result = runScenario(system, scenario, {
      ...extra,
      file,
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.shouldStop ? { shouldStop: opts.shouldStop } : {}),
      ...(opts.explain ? { explain: opts.explain } : {}),
      ...(opts.maxSteps !== undefined ? { maxSteps: opts.maxSteps, maxStepsFrom: '--max-steps' } : {}),
      systemOptions,
    });
    // a replay's document also has the peak RSS of its processes, the figure getrusage()'s
    // ru_maxrss gives natively (RUSAGE_CHILDREN of what started the program)
    const replay = prep.replays ? { replay: prep.replays, rusage: { maxrssKb: maxRssKb(system) } } : {};
    return { document: { ...result, ...replay, config: buildConfig(req, prep, result) }, notes: prep.notes };
  } catch (e) {
    throw mapError(e, req, prep, {});
  }
}
