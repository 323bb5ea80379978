import type { z } from 'zod';

/** A problem with a scenario: which file, which step (path like `steps[3].steps[0]`), which field. */
export class ScenarioError extends Error {
  /**
   * The run stopped because memory ran out and nothing could be reclaimed (the OOM killer
   * fired): the scenario ran but did not complete. The CLI exits 1 for it, not 2.
   */
  outOfMemory = false;
  constructor(
    readonly file: string,
    readonly where: string,
    readonly field: string | undefined,
    readonly detail: string,
    cause?: unknown,
  ) {
    super(
      `${file}: ${where}${field ? ` field "${field}"` : ''}: ${detail}`,
      cause === undefined ? undefined : { cause },
    );
    this.name = 'ScenarioError';
  }
}

/** `steps[3].steps[0]` from a path like ['steps', 3, 'steps', 0, 'size']; the field is the last key. */
export function describePath(path: ReadonlyArray<PropertyKey>): { where: string; field: string | undefined } {
  let where = '';
  let lastStep = -1;
  for (let i = 0; i < path.length; i++) {
    const p = path[i];
    if (p === 'steps' && typeof path[i + 1] === 'number') {
      where += `${where ? '.' : ''}steps[${String(path[i + 1])}]`;
      lastStep = i + 1;
      i++;
    }
  }
  const rest = path.slice(lastStep + 1).map(String);
  if (!where) return { where: rest.length ? rest.join('.') : 'scenario', field: undefined };
  return { where, field: rest.length ? rest.join('.') : undefined };
}

export function fromZod(file: string, err: z.ZodError, input: unknown): ScenarioError {
  const issue = err.issues[0]!;
  const { where, field } = describePath(issue.path);
  let detail = issue.message;
  // name the unknown op, or the unknown key, plainly
  if (
    field === 'op' ||
    (issue.code === 'invalid_union' && (issue as { note?: string }).note === 'No matching discriminator')
  ) {
    const v = pick(input, issue.path);
    detail = `unknown op ${JSON.stringify(v)}`;
  } else if (issue.code === 'unrecognized_keys') {
    detail = `unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return new ScenarioError(file, where, issue.keys[0], detail);
  }
  return new ScenarioError(file, where, field ?? (issue.code === 'invalid_union' ? 'op' : undefined), detail);
}

function pick(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  if (v && typeof v === 'object' && 'op' in v) return (v as { op: unknown }).op;
  return v;
}
