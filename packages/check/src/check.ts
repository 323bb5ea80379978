/**
 * checkComposition(): property-based fuzzing of one composition (kernel preset × hardware ×
 * extra policies). fast-check generates op sequences, every run is driven with the reference
 * model and the invariants, and the first failing sequence is shrunk to a minimal one and
 * written out as a scenario file.
 */
import path from 'node:path';
import fc from 'fast-check';
import { eraProblems } from '@mmsim/presets';
import { describeHolders, type DecisionRecord, type Scenario, type Step } from '@mmsim/core';
import { errorText } from './compose/errors.js';
import { StepDriver } from './driver/driver.js';
import { fuzzInputArbitrary, KSM_WEIGHTS, type FuzzInput, type IntentWeights } from './fuzz/intents.js';
import { runFuzzInput, type ViolationFilter } from './fuzz/run.js';
import { failingScenario, writeFinding } from './scenario-file.js';
import { formatDecision, TapWatch, type Decision } from './watch/taps.js';
import {
  buildSystem,
  builtinHardware,
  builtinPolicy,
  checkKernel,
  type Composition,
  type RunSystemOptions,
  type HardwareChoice,
  type PolicyChoice,
} from './system.js';

export interface CheckOptions {
  /** kernel preset name (`presetNames()`) */
  kernel: string;
  /** 'strict' (default: the checker's coherence-checking TLB), 'flat', or a hardware choice */
  hardware?: string | HardwareChoice;
  /** CPUs of the hardware (default 2) */
  cpus?: number;
  /** extra policies: built-in names ('unsafe-large-cow', 'no-flush-cow', 'large-folios') or choices */
  policies?: Array<string | PolicyChoice>;
  /** fuzzing runs (fast-check numRuns) */
  runs: number;
  seed: number;
  /** most ops per run */
  maxSteps: number;
  /** write each failing scenario here (as `finding-<sha1 prefix>.json`, never overwriting a file) */
  outDir?: string;
  /** large-folio setups (a policy tapping fault.anonOrders): always, never, or per run (default) */
  largeFolios?: boolean | 'random';
  /**
   * memory pressure (4 MiB of RAM, raised watermarks: kswapd, direct reclaim and swap-out run in
   * small runs): always, never (default) or per run. A run that ends out of memory is not a
   * violation: it stops there.
   */
  pressure?: boolean | 'random';
  /**
   * also map regions of a whole PTE table (512 pages), so that COW PTE tables get shared.
   * Default: on for presets whose name contains "cowpte", and when a policy mentions cowpte.
   */
  tableRegions?: boolean;
  /** PMD-sized THP on (`thp: { top: always }`, with whole-table regions) */
  thp?: boolean;
  /** the multi-gen LRU on (`vm: { lruGen: true }`; a v6.1+ preset) */
  lruGen?: boolean;
  /** KSM on (`ksm: { run: 1, use_zero_pages: 1 }`) and MADV_(UN)MERGEABLE / ksmd steps in the mix (KSM_WEIGHTS) */
  ksm?: boolean;
  /** op mix */
  weights?: IntentWeights;
  /** only these violations fail a run (e.g. `(v) => v.kind === 'pin-leak'` to look for one class of bug) */
  failOn?: ViolationFilter;
  /** stop looking after this many distinct violations (default 1) */
  maxViolations?: number;
  /** scenario name prefix (default `check-<kernel>`) */
  name?: string;
  /** also run each finding's steps on the preset alone (without `policies`): CheckViolation.baseline */
  baseline?: boolean;
}

/** A finding's steps run without the extra policies (same preset, hardware, setup, steps). */
export interface Baseline {
  /** true: the preset alone fails too ("also fails without your policy"); false: "only with it" */
  fails: boolean;
  /** the first violation of the preset alone */
  kind?: string;
  message?: string;
}

export interface CheckViolation {
  kind: string;
  message: string;
  /** the shrunk failing run as a scenario (`mmsim run` replays it and fails) */
  scenario: Scenario;
  /** where it was written, with outDir */
  file?: string;
  /** fast-check's seed and path, to reproduce the run */
  seed: number;
  path?: string;
  /** ops in the first failing run and after shrinking */
  originalSteps: number;
  shrunkSteps: number;
  /** the extra policies' tap calls that preceded the violation in the shrunk run (watch/taps.ts) */
  decisions?: Decision[];
  /** the policies whose taps ran in the step that broke the invariant */
  blame?: string[];
  /** the last fault.wpReuse decisions of the shrunk run, with the references behind each (--explain) */
  explained?: DecisionRecord[];
  /** with `baseline`: the same steps on the preset alone */
  baseline?: Baseline;
}

export interface CheckResult {
  kernel: string;
  /** the fuzzing seed, with `mmsim check --seeds` */
  seed?: number;
  hardware: string;
  policies: string[];
  /** fuzzing runs executed (shrinking runs not included) */
  runs: number;
  /** ops executed in those runs */
  steps: number;
  /** property evaluations spent shrinking */
  shrinkRuns: number;
  /** counters summed over the fuzzing runs (what was exercised, e.g. cow_pte_share) */
  counters: Record<string, number>;
  violations: CheckViolation[];
  ms: number;
  /** set when a signal stopped this composition's check: runs and findings are what finished */
  interrupted?: true;
  incomplete?: true;
}

export function resolveComposition(
  o: Pick<CheckOptions, 'kernel' | 'hardware' | 'cpus' | 'policies' | 'thp' | 'lruGen' | 'ksm'>,
): Composition {
  checkKernel(o.kernel);
  // the multi-gen LRU needs a v6.1+ preset (the era rule `lru-gen`)
  const era = o.lruGen ? eraProblems(o.kernel, { system: { vm: { lruGen: true } } })[0] : undefined;
  if (era) throw new Error(`--lru-gen: ${era.detail}`);
  const hw = typeof o.hardware === 'object' ? o.hardware : builtinHardware(o.hardware ?? 'strict');
  if (!hw)
    throw new Error(
      `unknown hardware "${String(o.hardware)}" (built in: strict, flat; pass { name, create } for others)`,
    );
  const policies = (o.policies ?? []).map((p) => {
    if (typeof p !== 'string') return p;
    const b = builtinPolicy(p);
    if (!b)
      throw new Error(
        `unknown built-in policy "${p}" (built in: unsafe-large-cow, no-flush-cow, large-folios; pass { ref, create } for others)`,
      );
    return b;
  });
  return {
    kernel: o.kernel,
    hardware: hw,
    cpus: o.cpus ?? 2,
    policies,
    ...(o.thp ? { thp: true } : {}),
    ...(o.lruGen ? { lruGen: true } : {}),
    ...(o.ksm ? { ksm: true } : {}),
  };
}

/** How the CLI stops a check: a signal, or the watchdog of a tap that does not return. */
export interface CheckControl {
  /** true once the check should stop (checked before every fuzzing run) */
  stopped(): boolean;
  /** run one fuzzing run; may throw when the run is broken off (then stopped() is true) */
  guard<T>(run: () => T): T;
  /** watches the policies' taps (with the watchdog's shared flags); default: a fresh one */
  taps?: TapWatch;
  /** what finished so far: called when the composition starts and after every run */
  progress?(r: Readonly<CheckResult>): void;
}

interface Search {
  o: CheckOptions;
  c: Composition;
  result: CheckResult;
  arb: fc.Arbitrary<FuzzInput>;
  taps: TapWatch;
  seen: Set<string>;
  t0: number;
}

function startSearch(o: CheckOptions, taps?: TapWatch): Search {
  const t0 = performance.now();
  const c = resolveComposition(o);
  const result: CheckResult = {
    kernel: o.kernel,
    hardware: c.hardware.name,
    policies: c.policies.map((p) => p.label ?? (typeof p.ref === 'string' ? p.ref : p.ref.name)),
    runs: 0,
    steps: 0,
    shrinkRuns: 0,
    counters: {},
    violations: [],
    ms: 0,
  };
  const tableRegions =
    o.tableRegions ??
    (o.thp === true ||
      o.kernel.includes('cowpte') ||
      (o.policies ?? []).some((p) => JSON.stringify(p).includes('cowpte')));
  const arb = fuzzInputArbitrary(o.maxSteps, {
    largeFolios: o.largeFolios ?? 'random',
    tableRegions,
    ...(o.pressure !== undefined ? { pressure: o.pressure } : {}),
    ...(o.weights ? { weights: o.weights } : o.ksm ? { weights: KSM_WEIGHTS } : {}),
    collapse: eraProblems(o.kernel, { steps: [{ op: 'madvise', advice: 'collapse' }] }).length === 0,
  });
  return { o, c, result, arb, taps: taps ?? new TapWatch(), seen: new Set(), t0 };
}

/** The property's body: one run, counted as fuzzing or shrinking. */
function evaluate(s: Search, input: FuzzInput, phase: { failing: boolean; firstLen: number }): boolean {
  const { result } = s;
  const out = runFuzzInput(s.c, input, s.o.failOn, s.taps);
  if (!phase.failing) {
    result.runs++;
    result.steps += out.steps.length;
    for (const [k, v] of Object.entries(out.counters)) result.counters[k] = (result.counters[k] ?? 0) + v;
  } else result.shrinkRuns++;
  if (out.violations.length > 0 && !phase.failing) {
    phase.failing = true;
    phase.firstLen = out.steps.length;
  }
  // a different class of violation than the one being shrunk still counts as a failure
  return out.violations.length === 0;
}

/** The shrunk counterexample → a finding (written with outDir). */
function record(s: Search, input: FuzzInput, seed: number, firstLen: number, cpath: string | undefined): void {
  const { o, c, result } = s;
  const out = runFuzzInput(c, input, o.failOn, s.taps, true);
  const v = out.violations[0]!;
  const key = `${v.kind}:${v.message.replace(/\d+/g, 'N')}`;
  const pol = c.policies
    .map((p) => path.basename(typeof p.ref === 'string' ? p.ref : p.ref.name).replace(/\.[cm]?[jt]s$/, ''))
    .join('+');
  const name = `${o.name ?? `check-${o.kernel}${pol ? `+${pol}` : ''}`}-${seed}-${result.violations.length + 1}`;
  const dir = o.outDir ? path.resolve(o.outDir) : undefined;
  const scenario = failingScenario(c, input.variant, out.steps, v, { name, ...(dir ? { dir } : {}) });
  const cv: CheckViolation = {
    kind: v.kind,
    message: v.message,
    scenario,
    seed,
    ...(cpath ? { path: cpath } : {}),
    originalSteps: firstLen,
    shrunkSteps: out.steps.length,
  };
  if (out.decisions?.length) cv.decisions = out.decisions;
  if (out.blame?.length) cv.blame = out.blame;
  if (out.explained?.length) cv.explained = out.explained;
  if (o.baseline) cv.baseline = baselineOf(c, input.variant, out.steps, o.failOn);
  if (dir) cv.file = writeFinding(dir, scenario);
  if (!s.seen.has(key)) {
    s.seen.add(key);
    result.violations.push(cv);
  }
}

/** Drive `steps` (the shrunk run, witness steps included) on the composition without its extra policies. */
export function baselineOf(
  c: Composition,
  variant: RunSystemOptions,
  steps: readonly Step[],
  failOn?: ViolationFilter,
): Baseline {
  let d: StepDriver;
  try {
    d = new StepDriver(buildSystem({ ...c, policies: [] }, variant), failOn ? { failOn } : {});
  } catch (e) {
    return { fails: true, kind: 'setup', message: `building the system failed: ${errorText(e)}` };
  }
  for (const s of steps) {
    const vs = d.exec(structuredClone(s)); // the driver fills in `expect` fields: keep the finding's
    if (vs.length > 0) return { fails: true, kind: vs[0]!.kind, message: vs[0]!.message };
  }
  return { fails: false };
}

const nextSeed = (seed: number): number => (seed * 1103515245 + 12345) | 0; // look further with another seed

export function checkComposition(o: CheckOptions): CheckResult {
  const s = startSearch(o);
  const maxViolations = o.maxViolations ?? 1;
  let seed = o.seed;
  let remaining = o.runs;
  while (remaining > 0 && s.result.violations.length < maxViolations) {
    const phase = { failing: false, firstLen: 0 };
    const prop = fc.property(s.arb, (input: FuzzInput) => evaluate(s, input, phase));
    const r = fc.check(prop, { numRuns: remaining, seed });
    remaining -= r.numRuns;
    if (!r.failed || !r.counterexample) break;
    record(s, r.counterexample[0] as FuzzInput, seed, phase.firstLen, r.counterexamplePath ?? undefined);
    seed = nextSeed(seed);
  }
  s.result.ms = performance.now() - s.t0;
  return s.result;
}

/**
 * checkComposition() for the CLI: yields to the event loop before every run (so a signal
 * handler runs) and stops when `ctl.stopped()`; the result then says `interrupted` and
 * `incomplete` and holds what finished (runs, findings so far).
 */
export async function checkCompositionAsync(o: CheckOptions, ctl: CheckControl): Promise<CheckResult> {
  const s = startSearch(o, ctl.taps);
  const maxViolations = o.maxViolations ?? 1;
  let seed = o.seed;
  let remaining = o.runs;
  const stop = () => new fc.PreconditionFailure(true); // fast-check: end the check, not a failure
  ctl.progress?.(s.result);
  while (remaining > 0 && s.result.violations.length < maxViolations && !ctl.stopped()) {
    const phase = { failing: false, firstLen: 0 };
    const prop = fc.asyncProperty(s.arb, async (input: FuzzInput) => {
      await new Promise((r) => setImmediate(r));
      if (ctl.stopped()) throw stop();
      try {
        return ctl.guard(() => evaluate(s, input, phase));
      } catch (e) {
        if (ctl.stopped()) throw stop();
        throw e;
      } finally {
        if (ctl.progress) {
          s.result.ms = performance.now() - s.t0;
          ctl.progress(s.result);
        }
      }
    });
    const r = await fc.check(prop, { numRuns: remaining, seed });
    remaining -= r.numRuns;
    if (ctl.stopped()) break;
    if (!r.failed || !r.counterexample) break;
    record(s, r.counterexample[0] as FuzzInput, seed, phase.firstLen, r.counterexamplePath ?? undefined);
    ctl.progress?.(s.result);
    seed = nextSeed(seed);
  }
  if (ctl.stopped()) {
    s.result.interrupted = true;
    s.result.incomplete = true;
  }
  s.result.ms = performance.now() - s.t0;
  return s.result;
}

/** "steps[3] cpu0 p 0x1000: fault.wpReuse → reuse (by x), refcount 2 = 1 mapped + 1 lru_batch(cpu0 add)" */
export function formatRecord(d: DecisionRecord): string {
  return `${d.step} cpu${d.cpu} ${d.pid} ${d.addr}: ${d.hook} → ${d.answer} (by ${d.tap}), refcount ${describeHolders(d.holders)}${d.avoidable.length ? `; ${d.avoidable.join(', ')}` : ''}`;
}

/** One line per violation plus the figures, for logs and the CLI. */
export function formatCheckResult(r: CheckResult): string {
  const head = `${r.kernel}${r.seed !== undefined ? ` seed ${r.seed}` : ''} on ${r.hardware}${r.policies.length ? ` + ${r.policies.map((p) => path.basename(p)).join(', ')}` : ''}: ${r.runs} runs, ${r.steps} steps, ${r.violations.length} violation(s) (${(r.ms / 1000).toFixed(1)} s${r.shrinkRuns ? `, ${r.shrinkRuns} shrink runs` : ''})`;
  const lines = [head];
  for (const v of r.violations) {
    lines.push(`  [${v.kind}] ${v.message}`);
    if (v.decisions?.length) {
      lines.push('    decisions before it:');
      for (const d of v.decisions) lines.push(`      ${formatDecision(d)}`);
    }
    if (v.blame?.length) lines.push(`    blame: ${v.blame.join(', ')} (its tap ran in the step that broke it)`);
    if (v.explained?.length) {
      lines.push('    write-fault decisions of the shrunk run (last ones, --explain):');
      for (const d of v.explained) lines.push(`      ${formatRecord(d)}`);
    }
    if (v.baseline)
      lines.push(
        v.baseline.fails
          ? `    baseline: also fails without your policy (${r.kernel} alone: [${v.baseline.kind}] ${v.baseline.message})`
          : `    baseline: only with it (${r.kernel} alone passes the same ${v.shrunkSteps} steps)`,
      );
    lines.push(
      `    shrunk ${v.originalSteps} → ${v.shrunkSteps} steps${v.file ? `, replay: mmsim run ${v.file}` : ''}`,
    );
  }
  if (r.interrupted) lines.push(`status INTERRUPTED: incomplete, ${r.runs} runs finished`);
  return lines.join('\n');
}
