/**
 * For plugin authors: one call in a vitest (or any) test fuzzes a policy under a kernel preset
 * and throws with the shrunk failing scenario when a run breaks an invariant or the
 * reference model.
 *
 *   import { assertPolicySound } from '@mmsim/check';
 *   it('my policy keeps §6', () => { assertPolicySound(() => myPolicy({ ... }), { kernel: 'linux-6.18' }); });
 */
import type { AnyPlugin, PluginRefSpec } from '@mmsim/core';
import { checkComposition, type CheckOptions, type CheckResult } from './check.js';

export class CompositionUnsoundError extends Error {
  constructor(readonly result: CheckResult) {
    const v = result.violations[0]!;
    super(
      `${result.kernel} + ${result.policies.join(', ') || '(no extra policy)'}: [${v.kind}] ${v.message}\n` +
        `shrunk to ${v.shrunkSteps} steps (from ${v.originalSteps}) after ${result.runs} runs${v.file ? `; replay: mmsim run ${v.file}` : ''}\n` +
        JSON.stringify(v.scenario.steps),
    );
    this.name = 'CompositionUnsoundError';
  }
}

export type SoundnessOptions = Partial<Omit<CheckOptions, 'kernel'>> & { kernel: string };

/** Fuzz a composition (defaults: 300 runs, seed 1, 40 steps); throw on the first violation. */
export function assertCompositionSound(o: SoundnessOptions): CheckResult {
  const r = checkComposition({ runs: 300, seed: 1, maxSteps: 40, ...o });
  if (r.violations.length > 0) throw new CompositionUnsoundError(r);
  return r;
}

/**
 * Fuzz one policy (a factory of fresh plugins: each run gets its own system) on top of a preset.
 * `ref` is how a scenario file names the policy (package name or path), for the written repro.
 */
export function assertPolicySound(
  factory: () => AnyPlugin | AnyPlugin[],
  o: Partial<Omit<CheckOptions, 'policies'>> & { kernel?: string; ref?: PluginRefSpec } = {},
): CheckResult {
  const first = factory();
  const name = (Array.isArray(first) ? first[0]?.name : first.name) ?? 'policy';
  const { ref, ...rest } = o;
  return assertCompositionSound({ kernel: 'linux-6.18', ...rest, policies: [{ ref: ref ?? name, create: factory }] });
}
