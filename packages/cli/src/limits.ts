/**
 * Limits on what a scenario file may ask of the loader (docs/scenario-format.md, "Loader
 * limits"): how deep `repeat` steps and other values nest, and how much YAML aliases may
 * expand. Past them the file is bad input (exit 2), not a stack overflow or a hang.
 */
import { describePath, ScenarioError } from '@mmsim/core';

/** A `repeat` step may sit inside at most this many `repeat` steps. */
export const MAX_REPEAT_DEPTH = 200;
/** Lists and objects nest at most this deep (a `repeat` adds two levels: itself and its `steps`). */
export const MAX_NESTING = 512;
/** YAML aliases may stand for at most this many nodes in all (each use counted). */
export const MAX_ALIAS_NODES = 1_000_000;

/** A ScenarioError at `path` (a path of thousands of steps is shortened in the middle). */
export function errorAt(file: string, path: ReadonlyArray<PropertyKey>, detail: string): ScenarioError {
  let { where, field } = describePath(path);
  where = shorten(where);
  if (field) field = shorten(field);
  if (!field && !where.startsWith('steps[') && where !== 'scenario') {
    field = where;
    where = 'scenario';
  }
  return new ScenarioError(file, where, field, detail);
}

interface Frame {
  /** the list, or the object's keys */
  v: unknown[];
  obj: Record<string, unknown> | undefined;
  next: number;
  /** repeat steps around (and including) this value */
  repeats: number;
}

function shorten(dotted: string): string {
  const parts = dotted.split('.');
  return parts.length > 8 ? `${parts.slice(0, 3).join('.')}.….${parts.slice(-3).join('.')}` : dotted;
}

/** Throw when `input` (a parsed file or module value) nests past the limits. Iterative, O(depth) memory. */
export function checkNesting(file: string, input: unknown): void {
  const stack: Frame[] = [];
  const pathOf = (): PropertyKey[] => stack.map((f) => (f.obj ? f.v[f.next - 1]! : f.next - 1) as PropertyKey);
  const enter = (v: unknown, repeats: number): void => {
    if (v === null || typeof v !== 'object') return;
    if (stack.length >= MAX_NESTING)
      throw errorAt(file, pathOf(), `nested more than ${MAX_NESTING} levels deep (the loader's limit)`);
    if (Array.isArray(v)) {
      stack.push({ v, obj: undefined, next: 0, repeats });
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return; // a class instance from a module
    const obj = v as Record<string, unknown>;
    let r = repeats;
    if (obj.op === 'repeat') {
      if (repeats >= MAX_REPEAT_DEPTH)
        throw errorAt(file, pathOf(), `repeat nested more than ${MAX_REPEAT_DEPTH} deep (the loader's limit)`);
      r++;
    }
    stack.push({ v: Object.keys(obj), obj, next: 0, repeats: r });
  };
  enter(input, 0);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if (f.next >= f.v.length) {
      stack.pop();
      continue;
    }
    const i = f.next++;
    enter(f.obj ? f.obj[f.v[i] as string] : f.v[i], f.repeats);
  }
}
