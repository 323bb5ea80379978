/** A failing run as a scenario file that `mmsim run` replays and that fails the same way. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Scenario, Step } from '@mmsim/core';
import type { Violation } from './invariants/index.js';
import { systemSpec, type Composition, type RunSystemOptions } from './system.js';

/** Violation kinds that only the invariants see (reads, pins and thrown errors fail by themselves). */
const SELF_FAILING = new Set(['read', 'read-leak', 'pin', 'pin-leak', 'error', 'tlb', 'setup']);

/** pid of the step appended so that the invariants plugin checks the final state */
export const CHECKPOINT_PID = 'check';

export function failingScenario(
  c: Composition,
  variant: RunSystemOptions,
  steps: readonly Step[],
  violation: Violation,
  opts: { name: string; dir?: string },
): Scenario {
  const out: Step[] = structuredClone(steps as Step[]);
  // a spawn triggers mm.created, where the invariants plugin checks the state the last step left
  if (!SELF_FAILING.has(violation.kind)) out.push({ op: 'spawn', pid: CHECKPOINT_PID, cpu: 0 });
  return {
    name: opts.name,
    description: `found by mmsim check (${violation.kind}): ${violation.message}`,
    system: systemSpec(c, variant, { ...(opts.dir ? { dir: opts.dir } : {}), withInvariants: true }),
    steps: out,
  };
}

export function writeScenario(dir: string, file: string, sc: Scenario): string {
  mkdirSync(dir, { recursive: true });
  const p = path.join(dir, file);
  writeFileSync(p, JSON.stringify(sc, null, 2) + '\n');
  return p;
}
