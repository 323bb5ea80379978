/**
 * Limits on what a scenario file may ask of the loader (docs/scenario-format.md, "Loader
 * limits"): how deep `repeat` steps and other values nest, and how much YAML aliases may
 * expand. Past them the file is bad input (exit 2), not a stack overflow or a hang.
 */
import { describePath, ScenarioError } from '@mmsim/core';
import { isAlias, isCollection, isPair, isScalar, type Document, type Node } from 'yaml';

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

/**
 * Throw when the YAML document's aliases would expand past MAX_ALIAS_NODES nodes (a "billion
 * laughs" file), or an alias refers to a node that contains it. Linear in the document size.
 */
export function checkAliases(file: string, doc: Document): void {
  const size = new Map<Node, number>();
  const busy = new Set<Node>();
  let total = 0;
  // the nodes an alias stands for: its anchor's subtree, aliases inside counted expanded
  const sizeOf = (n: unknown, path: PropertyKey[]): number => {
    if (isAlias(n)) {
      const target = n.resolve(doc);
      if (!target) throw errorAt(file, path, `YAML alias *${n.source} has no anchor &${n.source} before it`);
      if (busy.has(target)) throw errorAt(file, path, `YAML alias *${n.source} refers to a node that contains it`);
      const known = size.get(target);
      if (known !== undefined) return known;
      busy.add(target);
      const s = sizeOf(target, path);
      busy.delete(target);
      size.set(target, s);
      return s;
    }
    if (isPair(n)) return Math.min(MAX_ALIAS_NODES + 1, 1 + sizeOf(n.key, path) + sizeOf(n.value, path));
    if (isCollection(n)) {
      let s = 1;
      for (const item of n.items) {
        s += sizeOf(item, path);
        if (s > MAX_ALIAS_NODES) return MAX_ALIAS_NODES + 1;
      }
      return s;
    }
    return isScalar(n) ? 1 : 0;
  };
  // walk the document (not through aliases), keeping the key path for the message
  const walk = (n: unknown, path: PropertyKey[]): void => {
    const todo: Array<{ n: unknown; path: PropertyKey[] }> = [{ n, path }];
    while (todo.length > 0) {
      const { n: x, path: p } = todo.pop()!;
      if (isAlias(x)) {
        total += sizeOf(x, p);
        if (total > MAX_ALIAS_NODES)
          throw errorAt(
            file,
            p,
            `YAML aliases expand to more than ${MAX_ALIAS_NODES} nodes (the loader's limit; an "alias bomb"?)`,
          );
      } else if (isPair(x)) {
        const k = isScalar(x.key) ? x.key.value : x.key;
        todo.push({ n: x.value, path: [...p, typeof k === 'number' ? k : String(k)] });
        todo.push({ n: x.key, path: p });
      } else if (isCollection(x)) {
        const seq = !x.items.some(isPair);
        for (let i = x.items.length - 1; i >= 0; i--) todo.push({ n: x.items[i], path: seq ? [...p, i] : p });
      }
    }
  };
  walk(doc.contents, []);
}
