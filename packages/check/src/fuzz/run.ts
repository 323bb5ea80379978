/** One fuzzing run: build the system, turn intents into steps, drive them, stop at the first violation. */
import { Explainer, setTapMonitor, type DecisionRecord, type MmSystem, type Step } from '@mmsim/core';
import { StepDriver } from '../driver/driver.js';
import type { Violation } from '../invariants/index.js';
import type { Composition } from '../system.js';
import { systemFor } from './reuse.js';
import { blameOf, type Decision, type TapWatch } from '../watch/taps.js';
import { Concretizer } from './concretize.js';
import { intentKind, PRESSURE_TOUCH_PAGES, type FuzzInput } from './intents.js';

export interface RunOutcome {
  /** the steps executed (with `expect` fields), up to and including the failing one */
  steps: Step[];
  /** the violations of the failing step (those `failOn` accepts) */
  violations: Violation[];
  /** violations `failOn` passed over (the run went on after them) */
  ignored: Violation[];
  /** the run's non-zero counters (what the run exercised) */
  counters: Record<string, number>;
  /** with a TapWatch and a violation: the policies' tap calls that preceded it */
  decisions?: Decision[];
  /** the policies whose taps ran in the failing step */
  blame?: string[];
  /** with `explain`: the last decision records (core's Explainer) before the violation */
  explained?: DecisionRecord[];
}

/** decision records kept for a finding */
const EXPLAINED = 16;

/** Which violations fail a run (default: all). */
export type ViolationFilter = (v: Violation) => boolean;

/** `taps`: watch the extra policies' taps of this run (their decisions, the watchdog's view). */
export function runFuzzInput(
  c: Composition,
  input: FuzzInput,
  failOn?: ViolationFilter,
  taps?: TapWatch,
  explain = false,
): RunOutcome {
  let sys: MmSystem;
  taps?.reset();
  const prev = taps ? setTapMonitor(taps) : null;
  try {
    sys = systemFor(c, input.variant, taps ?? null);
  } catch (e) {
    return {
      steps: [],
      violations: [
        { kind: 'setup', message: `building the system failed: ${e instanceof Error ? e.message : String(e)}` },
      ],
      ignored: [],
      counters: {},
    };
  } finally {
    if (taps) setTapMonitor(prev);
  }
  const d = new StepDriver(sys, { ...(failOn ? { failOn } : {}), ...(taps ? { taps } : {}) });
  const cz = new Concretizer(d, c.cpus, input.variant.pressure ? PRESSURE_TOUCH_PAGES : undefined);
  // `--explain` for the finding's run: every fault.wpReuse answer with the references behind it
  const ex = explain ? new Explainer(sys.kernel, { keep: EXPLAINED }) : null;
  sys.kernel.explain = ex;
  const swarm = input.variant.swarm ? new Set(input.variant.swarm) : null;
  for (const intent of input.intents) {
    if (swarm && !swarm.has(intentKind(intent))) continue;
    const s = cz.step(intent);
    if (!s) continue;
    const at = d.steps.length;
    if (ex) ex.step = `steps[${at}]`;
    const vs = d.exec(s);
    if (vs.length > 0) {
      const out: RunOutcome = { steps: d.steps, violations: vs, ignored: d.ignored, counters: sys.stats.toRecord() };
      if (taps) {
        out.decisions = taps.decisionsBefore(at);
        out.blame = blameOf(out.decisions, at);
      }
      if (ex) out.explained = ex.records();
      return out;
    }
    if (d.outOfMemory) break;
    // a thrown step or a broken invariant leaves a state not worth going on with
    if (d.ignored.some((v) => !/^(read|pin)/.test(v.kind))) break;
  }
  return { steps: d.steps, violations: [], ignored: d.ignored, counters: sys.stats.toRecord() };
}
