/**
 * checkComposition(): property-based fuzzing of one composition (kernel preset × hardware ×
 * extra policies). fast-check generates op sequences, every run is driven with the reference
 * model and the invariants, and the first failing sequence is shrunk to a minimal one and
 * written out as a scenario file.
 */
import path from 'node:path';
import fc from 'fast-check';
import type { Scenario } from '@mmsim/core';
import { fuzzInputArbitrary, type FuzzInput, type IntentWeights } from './fuzz/intents.js';
import { runFuzzInput, type ViolationFilter } from './fuzz/run.js';
import { failingScenario, writeFinding } from './scenario-file.js';
import {
  builtinHardware,
  builtinPolicy,
  checkKernel,
  type Composition,
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
   * also map regions of a whole PTE table (512 pages), so that COW PTE tables get shared.
   * Default: on for presets whose name contains "cowpte", and when a policy mentions cowpte.
   */
  tableRegions?: boolean;
  /** PMD-sized THP on (`thp: { top: always }`, with whole-table regions) */
  thp?: boolean;
  /** op mix */
  weights?: IntentWeights;
  /** only these violations fail a run (e.g. `(v) => v.kind === 'pin-leak'` to look for one class of bug) */
  failOn?: ViolationFilter;
  /** stop looking after this many distinct violations (default 1) */
  maxViolations?: number;
  /** scenario name prefix (default `check-<kernel>`) */
  name?: string;
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
}

export interface CheckResult {
  kernel: string;
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
}

export function resolveComposition(
  o: Pick<CheckOptions, 'kernel' | 'hardware' | 'cpus' | 'policies' | 'thp'>,
): Composition {
  checkKernel(o.kernel);
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
  return { kernel: o.kernel, hardware: hw, cpus: o.cpus ?? 2, policies, ...(o.thp ? { thp: true } : {}) };
}

export function checkComposition(o: CheckOptions): CheckResult {
  const t0 = performance.now();
  const c = resolveComposition(o);
  const maxViolations = o.maxViolations ?? 1;
  const result: CheckResult = {
    kernel: o.kernel,
    hardware: c.hardware.name,
    policies: c.policies.map((p) => (typeof p.ref === 'string' ? p.ref : p.ref.name)),
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
    ...(o.weights ? { weights: o.weights } : {}),
  });
  const seen = new Set<string>();
  let seed = o.seed;
  let remaining = o.runs;
  while (remaining > 0 && result.violations.length < maxViolations) {
    let failing = false;
    let firstLen = 0;
    const prop = fc.property(arb, (input: FuzzInput) => {
      const out = runFuzzInput(c, input, o.failOn);
      if (!failing) {
        result.runs++;
        result.steps += out.steps.length;
        for (const [k, v] of Object.entries(out.counters)) result.counters[k] = (result.counters[k] ?? 0) + v;
      } else result.shrinkRuns++;
      if (out.violations.length > 0 && !failing) {
        failing = true;
        firstLen = out.steps.length;
      }
      // a different class of violation than the one being shrunk still counts as a failure
      return out.violations.length === 0;
    });
    const r = fc.check(prop, { numRuns: remaining, seed });
    remaining -= r.numRuns;
    if (!r.failed || !r.counterexample) break;
    const input = r.counterexample[0] as FuzzInput;
    const out = runFuzzInput(c, input, o.failOn);
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
      ...(r.counterexamplePath ? { path: r.counterexamplePath } : {}),
      originalSteps: firstLen,
      shrunkSteps: out.steps.length,
    };
    if (dir) cv.file = writeFinding(dir, scenario);
    if (!seen.has(key)) {
      seen.add(key);
      result.violations.push(cv);
    }
    seed = (seed * 1103515245 + 12345) | 0; // look further with another seed
  }
  result.ms = performance.now() - t0;
  return result;
}

/** One line per violation plus the figures, for logs and the CLI. */
export function formatCheckResult(r: CheckResult): string {
  const head = `${r.kernel} on ${r.hardware}${r.policies.length ? ` + ${r.policies.map((p) => path.basename(p)).join(', ')}` : ''}: ${r.runs} runs, ${r.steps} steps, ${r.violations.length} violation(s) (${(r.ms / 1000).toFixed(1)} s${r.shrinkRuns ? `, ${r.shrinkRuns} shrink runs` : ''})`;
  const lines = [head];
  for (const v of r.violations) {
    lines.push(`  [${v.kind}] ${v.message}`);
    lines.push(
      `    shrunk ${v.originalSteps} → ${v.shrunkSteps} steps${v.file ? `, replay: mmsim run ${v.file}` : ''}`,
    );
  }
  return lines.join('\n');
}
