/**
 * Planning `mmsim compare`: the configurations, their labels and the runs (configuration ×
 * seed). Every configuration is prepared and composed here, before any run starts, so a bad
 * axis (unknown preset or hardware, a `--set` path the file lacks, a `--var` it does not use, a
 * policy that does not load) is an exit-2 error naming the flag and the value.
 */
import { checkScenarioBudget } from '@mmsim/core';
import { DEFAULT_PRESET, getPreset, presetNames } from '@mmsim/presets';
import { FlagError } from '../flag-error.js';
import { DEFAULT_HARDWARE } from '../hardware.js';
import type { RunRequest } from '../prepare.js';
import { composeRequest } from '../run.js';
import { configLabel, crossProduct, requestOf, uniqueLabels, type CompareAxesFlags } from './axes.js';

export interface Configuration {
  label: string;
  kernel: string;
  hardware: string;
  policies: string[];
  vars: Record<string, string>;
}

export interface PlannedRun {
  /** index into `configurations` */
  config: number;
  request: RunRequest;
}

export interface ComparePlan {
  configurations: Configuration[];
  runs: PlannedRun[];
  baseline: string;
  seeds: number;
  /** lines for stderr (each once) */
  notes: string[];
}

export interface PlanFlags extends CompareAxesFlags {
  seeds?: number | undefined;
  baseline?: string | undefined;
  /** `--max-steps`: every run's step budget, checked for every configuration before any runs */
  maxSteps?: number | undefined;
}

export async function planCompare(file: string, flags: PlanFlags): Promise<ComparePlan> {
  for (const k of flags.kernel ?? [])
    if (!getPreset(k)) throw new FlagError('--kernel', k, `unknown kernel preset (known: ${presetNames().join(', ')})`);
  const planned = crossProduct(flags);
  const notes = new Set<string>();
  const names: Array<{ kernel: string; hardware: string }> = [];
  for (const c of planned) {
    const { prep } = await composeRequest(requestOf(file, c), { flagErrors: true });
    for (const n of prep.notes) notes.add(n);
    // a configuration over the budget (e.g. a --set or --var that makes a repeat longer) fails at once
    checkScenarioBudget(prep.loaded.scenario, prep.loaded.file, flags.maxSteps, '--max-steps');
    const sys = prep.loaded.scenario.system;
    names.push({
      kernel: c.kernel ?? sys?.kernel ?? DEFAULT_PRESET,
      hardware: c.hardware ?? sys?.hardware ?? DEFAULT_HARDWARE,
    });
  }
  const labels = uniqueLabels(planned.map((c, i) => configLabel(c, names[i]!.kernel, names[i]!.hardware)));
  const baseline = flags.baseline ?? labels[0]!;
  if (!labels.includes(baseline))
    throw new FlagError('--baseline', baseline, `no such configuration (labels: ${labels.join(', ')})`);
  const seeds = flags.seeds ?? 0;
  const configurations = planned.map((c, i) => ({
    label: labels[i]!,
    kernel: names[i]!.kernel,
    hardware: names[i]!.hardware,
    policies: c.policies,
    vars: c.vars,
  }));
  const runs: PlannedRun[] = [];
  planned.forEach((c, i) => {
    if (seeds === 0) runs.push({ config: i, request: requestOf(file, c, undefined, flags.maxSteps) });
    else for (let s = 1; s <= seeds; s++) runs.push({ config: i, request: requestOf(file, c, s, flags.maxSteps) });
  });
  return { configurations, runs, baseline, seeds: Math.max(1, seeds), notes: [...notes] };
}
