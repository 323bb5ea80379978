/** A scenario that uses what its preset's kernel does not have yet is bad input (presets' era-rules.ts). */
import { ScenarioError } from '@mmsim/core';
import { DEFAULT_PRESET, eraProblems, getPreset } from '@mmsim/presets';
import type { LoadedScenario } from './load.js';

/** Throws (a ScenarioError) the first era problem of `loaded` on the preset it runs on (`--kernel` or the file's). */
export function checkEra(loaded: LoadedScenario, kernel: string | undefined): void {
  const name = kernel ?? loaded.scenario.system?.kernel ?? DEFAULT_PRESET;
  if (!getPreset(name)) return; // an unknown preset is reported by composition, with the known names
  const p = eraProblems(name, loaded.scenario)[0];
  if (!p) return;
  // run.ts's mapError adds the line
  throw new ScenarioError(loaded.file, p.where, p.field, p.detail);
}
