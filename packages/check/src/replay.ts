/**
 * Replaying a scenario the way `mmsim run` does, without the CLI: compose the system its
 * `system` section names with composeSystem() (the CLI's composer), run it with core's
 * runScenario, and say whether it failed (a failed `expect`, or a step that threw, e.g. the
 * invariants plugin or a stale TLB hit).
 */
import {
  runScenario,
  ScenarioSchema,
  type HardwareModel,
  type MmSystem,
  type RunResult,
  type Scenario,
} from '@mmsim/core';
import { composeSystem } from './compose/compose.js';
import { FLAT_HARDWARE, type BuiltinHardware } from './compose/hardware.js';
import { isPathSpecifier } from './compose/modules.js';
import { invariantViolationOf } from './plugins/invariants.js';

export interface ReplayResult {
  failed: boolean;
  /** the failed checks, or the error of the step that threw */
  message: string;
  result?: RunResult;
  /** the invariants plugin stopped the run: where, and the broken invariants (kind, message) */
  invariant?: { where: string; violations: Array<{ kind: string; message: string }> };
}

/** Hardware by name that this package does not know (x86, arm64, a package): name, options → model. */
export type LoadHardware = (name: string, options: Record<string, unknown>) => HardwareModel | Promise<HardwareModel>;

/** Compose the system of a scenario (with composeSystem, as `mmsim run` does). */
export async function systemOf(sc: Scenario, baseDir: string, loadHardware?: LoadHardware): Promise<MmSystem> {
  const name = sc.system?.hardware;
  const builtins: Record<string, BuiltinHardware> = { flat: FLAT_HARDWARE };
  if (loadHardware && name !== undefined && name !== 'flat' && !isPathSpecifier(name)) {
    builtins[name] = {
      description: name,
      load: async () => ({ createHardware: (o: Record<string, unknown>) => loadHardware(name, o) }),
    };
  }
  return composeSystem(sc.system, { baseDir, file: sc.name, builtinHardware: builtins });
}

/** Run a scenario object (or the JSON of one); `baseDir` resolves relative plugin paths. */
export async function replayScenario(
  input: Scenario | unknown,
  baseDir: string,
  opts: { loadHardware?: LoadHardware } = {},
): Promise<ReplayResult> {
  const sc = ScenarioSchema.parse(input);
  let sys: MmSystem;
  try {
    sys = await systemOf(sc, baseDir, opts.loadHardware);
  } catch (e) {
    return { failed: true, message: `setting up the system failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  try {
    const result = runScenario(sys, sc, { file: sc.name });
    if (result.checks.failed > 0)
      return { failed: true, message: result.checks.failures.map((f) => `${f.step}: ${f.message}`).join('; '), result };
    return { failed: false, message: 'passed', result };
  } catch (e) {
    const broken = invariantViolationOf(e);
    return {
      failed: true,
      message: e instanceof Error ? e.message : String(e),
      ...(broken ? { invariant: { where: broken.where, violations: broken.violations } } : {}),
    };
  }
}
