/** One fuzzing run: build the system, turn intents into steps, drive them, stop at the first violation. */
import type { Step } from '@mmsim/core';
import { StepDriver } from '../driver/driver.js';
import type { Violation } from '../invariants/index.js';
import { buildSystem, type Composition } from '../system.js';
import { Concretizer } from './concretize.js';
import { intentKind, type FuzzInput } from './intents.js';

export interface RunOutcome {
  /** the steps executed (with `expect` fields), up to and including the failing one */
  steps: Step[];
  /** the violations of the failing step (those `failOn` accepts) */
  violations: Violation[];
  /** violations `failOn` passed over (the run went on after them) */
  ignored: Violation[];
  /** the run's non-zero counters (what the run exercised) */
  counters: Record<string, number>;
}

/** Which violations fail a run (default: all). */
export type ViolationFilter = (v: Violation) => boolean;

export function runFuzzInput(c: Composition, input: FuzzInput, failOn?: ViolationFilter): RunOutcome {
  let sys;
  try {
    sys = buildSystem(c, input.variant);
  } catch (e) {
    return {
      steps: [],
      violations: [
        { kind: 'setup', message: `building the system failed: ${e instanceof Error ? e.message : String(e)}` },
      ],
      ignored: [],
      counters: {},
    };
  }
  const d = new StepDriver(sys, failOn ? { failOn } : {});
  const cz = new Concretizer(d, c.cpus);
  const swarm = input.variant.swarm ? new Set(input.variant.swarm) : null;
  for (const intent of input.intents) {
    if (swarm && !swarm.has(intentKind(intent))) continue;
    const s = cz.step(intent);
    if (!s) continue;
    const vs = d.exec(s);
    if (vs.length > 0) return { steps: d.steps, violations: vs, ignored: d.ignored, counters: sys.stats.toRecord() };
    // a thrown step or a broken invariant leaves a state not worth going on with
    if (d.ignored.some((v) => !/^(read|pin)/.test(v.kind))) break;
  }
  return { steps: d.steps, violations: [], ignored: d.ignored, counters: sys.stats.toRecord() };
}
