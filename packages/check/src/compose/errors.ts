/** Errors of composing a system: a ScenarioError naming the `system.*` field, and one line of any thrown value. */
import { ScenarioError } from '@mmsim/core';

/** A problem with the `system` part (hardware, kernel, policies): field is e.g. `system.policies[1]`. */
export function systemError(file: string, field: string, detail: string): ScenarioError {
  return new ScenarioError(file, 'scenario', field, detail);
}

/** One line describing any thrown value. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0]!.trim() || e.name;
  return String(e);
}
