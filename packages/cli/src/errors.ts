import { ScenarioError } from '@mmsim/core';
import { errorText, systemError } from '@mmsim/check/compose';

/** `system.*` errors and one-line error text: the composer's, in @mmsim/check. */
export { errorText, systemError };

/** A 1-based position in a scenario file. */
export interface SourceLocation {
  line: number;
  column: number;
}

/** A ScenarioError that may also carry where in the file the offending step or field is. */
export type LocatedScenarioError = ScenarioError & { location?: SourceLocation };

/** Attach a source location (kept off the message, which stays `file: where field "x": detail`). */
export function withLocation<E extends ScenarioError>(
  err: E,
  loc: SourceLocation | undefined,
): E & { location?: SourceLocation } {
  if (loc && !(err as LocatedScenarioError).location) (err as LocatedScenarioError).location = loc;
  return err;
}

/**
 * A problem with the file as a whole (missing, unreadable, not parseable). `where` is
 * `line L, column C` when the parser knows it, else `file`; the message reads
 * `FILE: line 3, column 5: detail` or `FILE: detail`.
 */
export function fileError(file: string, detail: string, loc?: SourceLocation): ScenarioError {
  const where = loc ? `line ${loc.line}, column ${loc.column}` : 'file';
  const err = withLocation(new ScenarioError(file, where, undefined, detail), loc);
  if (!loc) err.message = `${file}: ${detail}`;
  return err;
}
