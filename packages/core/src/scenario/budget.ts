/**
 * The step budget (docs/scenario-format.md "Limits"): the leaf steps of a scenario are known
 * from its step tree before it runs, so a `repeat` of 10^12 is refused at once instead of
 * running for days.
 */
import { ScenarioError } from './errors.js';
import type { Scenario, Step } from './schema.js';

/** The budget when neither RunOptions.maxSteps nor the scenario's `limits.maxSteps` sets one. */
export const DEFAULT_MAX_STEPS = 1_000_000_000;

/** Total number of leaf steps (repeat bodies multiplied out). */
export function countSteps(steps: readonly Step[]): number {
  let n = 0;
  for (const s of steps) n += s.op === 'repeat' ? s.times * countSteps(s.steps) : 1;
  return n;
}

/**
 * Where the count first passes `budget`: the leaf step, or the `repeat` whose `times` does it
 * (a repeat whose first round already passes it is searched inside).
 */
function overflowAt(
  steps: readonly Step[],
  path: string,
  budget: number,
  before: number,
): { where: string; field: string | undefined } | undefined {
  let cum = before;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const where = `${path}[${i}]`;
    if (s.op !== 'repeat') {
      if (++cum > budget) return { where, field: undefined };
      continue;
    }
    const body = countSteps(s.steps);
    if (cum + body * s.times > budget) {
      if (s.times > 0 && cum + body > budget) return overflowAt(s.steps, `${where}.steps`, budget, cum);
      return { where, field: 'times' };
    }
    cum += body * s.times;
  }
  return undefined;
}

/**
 * Throw a ScenarioError when `steps` has more leaf steps than `budget`; `from` says where the
 * budget came from (e.g. "limits.maxSteps", "--max-steps").
 */
export function checkStepBudget(steps: readonly Step[], budget: number, file: string, from: string): void {
  const total = countSteps(steps);
  if (total <= budget) return;
  const at = overflowAt(steps, 'steps', budget, 0) ?? { where: 'steps', field: undefined };
  throw new ScenarioError(
    file,
    at.where,
    at.field,
    `the scenario runs ${total} leaf steps (repeats multiplied out), more than the step budget of ${budget} (${from})`,
  );
}

/**
 * The scenario's step budget as a run applies it: `maxSteps` (from `from`, e.g. "--max-steps")
 * when given, else the file's `limits.maxSteps`, else DEFAULT_MAX_STEPS. Throws ScenarioError.
 */
export function checkScenarioBudget(scenario: Scenario, file: string, maxSteps?: number, from?: string): void {
  if (maxSteps !== undefined) {
    if (!Number.isSafeInteger(maxSteps) || maxSteps < 1)
      throw new RangeError(`RunOptions.maxSteps must be a positive integer, got ${maxSteps}`);
    checkStepBudget(scenario.steps, maxSteps, file, from ?? 'RunOptions.maxSteps');
  } else if (scenario.limits?.maxSteps !== undefined)
    checkStepBudget(scenario.steps, scenario.limits.maxSteps, file, 'limits.maxSteps');
  else checkStepBudget(scenario.steps, DEFAULT_MAX_STEPS, file, 'the default; raise it with limits.maxSteps');
}
