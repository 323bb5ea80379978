/**
 * `invariantsPlugin()`: the invariants as a policy plugin, so any scenario run by `mmsim run`
 * can include them (`system.policies: ["…/invariants"]`) and fail at the first broken one.
 *
 * Core has no per-step hook yet, so it checks at the points where the kernel is between
 * operations: after every handled fault (`fault.handled`), after fork (`fork.done`), after
 * madvise (`madvise.for(advice)`), when an mm is created (`mm.created`, i.e. at the start of a
 * `spawn` step: the state the previous step left) and destroyed (`mm.destroyed`). A violation
 * throws and ends the run; `mmsim run` reports it as a failed check (exit 1) naming the step
 * and the invariants (invariantViolationOf()).
 * Pins are only known through the folios' pincount here (the driver of `checkComposition`
 * also compares them with the live pins).
 */
import { ADVICES, type KernelPlugin, type MmSystem } from '@mmsim/core';
import { checkInvariants } from '../invariants/index.js';

export interface InvariantsPluginOptions {
  /** check at most every n-th check point (default 1: all) */
  every?: number;
  /** throw on a violation (default true); with false, violations are collected in `violations` */
  throwOnViolation?: boolean;
}

export class InvariantViolationError extends Error {
  constructor(
    readonly where: string,
    readonly violations: Array<{ kind: string; message: string }>,
  ) {
    super(`invariant violated (${where}): ${violations.map((v) => `[${v.kind}] ${v.message}`).join('; ')}`);
    this.name = 'InvariantViolationError';
  }
}

/**
 * The InvariantViolationError behind an error (a failed step's ScenarioError ← PluginError ←
 * it), if any: `mmsim run` reports it as a failed check (exit 1), not a plugin error. By name,
 * since a scenario may load another copy of this module than the caller's.
 */
export function invariantViolationOf(e: unknown): InvariantViolationError | undefined {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 8; c = c.cause, depth++) {
    if (c.name === 'InvariantViolationError' && Array.isArray((c as InvariantViolationError).violations))
      return c as InvariantViolationError;
  }
  return undefined;
}

export interface InvariantsPlugin extends KernelPlugin {
  readonly violations: Array<{ where: string; kind: string; message: string }>;
  /** check now (e.g. at the end of a run) */
  check(where: string): void;
}

export function invariantsPlugin(options: InvariantsPluginOptions = {}): InvariantsPlugin {
  const every = Math.max(1, options.every ?? 1);
  const throwing = options.throwOnViolation ?? true;
  const violations: InvariantsPlugin['violations'] = [];
  let sys: MmSystem | null = null;
  let n = 0;
  const plugin: InvariantsPlugin = {
    name: 'check-invariants',
    internal: true,
    violations,
    check(where: string) {
      if (!sys) return;
      const vs = checkInvariants(sys.kernel);
      if (vs.length === 0) return;
      for (const v of vs) violations.push({ where, ...v });
      if (throwing) throw new InvariantViolationError(where, vs);
    },
    apply(system: MmSystem) {
      sys = system;
      const at = (where: string) => () => {
        if (++n % every === 0) plugin.check(where);
      };
      const opt = { name: 'check-invariants', stage: 10_000 };
      system.hooks.fault.handled.tap(opt, (e) => at(`after a ${e.kind} fault at page 0x${e.vpn.toString(16)}`)());
      system.hooks.fork.done.tap(opt, at('after fork'));
      system.hooks.mm.created.tap(opt, at('before a new mm'));
      system.hooks.mm.destroyed.tap(opt, at('after an exit'));
      for (const a of ADVICES) system.hooks.madvise.for(a).tap(opt, at(`after madvise(${a})`));
    },
  };
  return plugin;
}

export default invariantsPlugin;
