/**
 * Source positions of scenario paths (`steps[3].steps[0]`, field `size`) in JSON/YAML text, so
 * errors can point at a line. JSON is parsed as YAML for this (YAML 1.2 is a JSON superset).
 */
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { SourceLocation } from './errors.js';

export type Locator = (path: ReadonlyArray<PropertyKey>) => SourceLocation | undefined;

/** A locator for `text`, or undefined when the text does not parse cleanly. */
export function createLocator(text: string): Locator | undefined {
  const lineCounter = new LineCounter();
  let doc;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  } catch {
    return undefined;
  }
  if (doc.errors.length > 0) return undefined;
  return (path) => {
    // the deepest existing node on the path (a missing field points at its step)
    const keys = path.filter((k): k is string | number => typeof k !== 'symbol');
    for (let n = keys.length; n >= 0; n--) {
      const node = doc.getIn(keys.slice(0, n), true);
      if (isNode(node) && node.range) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { line, column: col };
      }
    }
    return undefined;
  };
}

/** `steps[3].steps[0]` and a field like `size` or `system.policies[1]` → a path for a Locator. */
export function parseWhere(where: string, field?: string): PropertyKey[] {
  const out: PropertyKey[] = [];
  const add = (s: string) => {
    for (const part of s.split('.')) {
      const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
      if (!m) return;
      if (m[1]) out.push(m[1]);
      for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
    }
  };
  if (where && where !== 'scenario' && where !== 'file' && !where.startsWith('line ')) add(where.split(' ')[0]!);
  if (field) add(field);
  return out;
}
