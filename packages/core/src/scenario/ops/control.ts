/** Control ops: drain (LRU add batches), phase (starts a named phase), repeat (runs its body n times), replay (expanded before the run). */
import { countSteps } from '../budget.js';
import type { Step } from '../schema.js';
import type { OpHandler } from './executor.js';
import { runKhugepaged } from '../../kernel/khugepaged-scan.js';

export const drain: OpHandler<'drain'> = (x, s, where) => {
  const k = x.k;
  if (s.cpu === undefined) k.lruAddDrainAll();
  else {
    x.checkCpu(s.cpu, where);
    k.cpu = s.cpu;
    k.lruAddDrain(s.cpu);
  }
};

/** The khugepaged thread's scan (kernel/khugepaged-scan.ts), on the step's CPU (default 0). */
export const khugepaged: OpHandler<'khugepaged'> = (x, s, where) => {
  if (s.fullScans !== undefined && s.passes !== undefined)
    x.fail(where, 'passes', 'give fullScans or passes, not both');
  const k = x.k;
  if (s.cpu !== undefined) x.checkCpu(s.cpu, where);
  k.cpu = s.cpu ?? 0;
  runKhugepaged(k, s);
};

export const phase: OpHandler<'phase'> = (x, s) => {
  x.observer.onPhase?.(s.name);
};

/** A `replay` step reaches the runner only when nobody expanded it (the scenario loader does). */
export const replay: OpHandler<'replay'> = (x, s, where) => {
  x.fail(
    where,
    'trace',
    `replay of ${JSON.stringify(s.trace)}: a replay step is expanded into the trace's steps when the scenario is loaded (the mmsim CLI does it; through the API, call expandReplaySteps() of @mmsim/program-trace first)`,
  );
};

/** Whether a step list runs no leaf step, computed once per list (not once per round of an outer repeat). */
const leafless = new WeakMap<readonly Step[], boolean>();

function isLeafless(steps: readonly Step[]): boolean {
  let v = leafless.get(steps);
  if (v === undefined) leafless.set(steps, (v = countSteps(steps) === 0));
  return v;
}

/** A body without leaf steps does the same every round: it runs once, so `times: 1e12` of it ends at once. */
export const repeat: OpHandler<'repeat'> = (x, s, where) => {
  const times = s.times > 0 && isLeafless(s.steps) ? 1 : s.times;
  for (let r = 0; r < times; r++) x.runSteps(s.steps, `${where}.steps`);
};
