/**
 * Source positions of scenario paths (`steps[3].steps[0]`, field `size`) in JSON/YAML text, so
 * errors can point at a line. JSON is parsed as YAML for this (YAML 1.2 is a JSON superset).
 * Nothing is parsed until an error asks for a position, and then only the piece of the file
 * the path is in (one `steps` item, or the file without its `steps` list; step-spans.ts).
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { SourceLocation } from './errors.js';
import { stepSpans, type StepSpans } from './step-spans.js';

export type Locator = (path: ReadonlyArray<PropertyKey>) => SourceLocation | undefined;

/** The YAML parser, loaded on the first lookup (errors only): a sixth of `mmsim run`'s start.
 *  Synchronously, as lookups are: on Node, `yaml`'s import and require are the same CJS module. */
let yamlModule: typeof Yaml | undefined;
const yaml = (): typeof Yaml => (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml);

/**
 * A locator for the text `getText` returns (called on the first lookup; undefined: the text
 * is gone or changed, so no positions).
 */
export function createLocator(getText: () => string | undefined, kind: 'json' | 'yaml'): Locator {
  let text: string | undefined;
  let spans: StepSpans | undefined | null = null;
  const whole = new Map<string, Located | undefined>();
  return (path) => {
    if (text === undefined) {
      text = getText();
      if (text === undefined) return undefined;
    }
    if (spans === null) spans = stepSpans(text, kind);
    const keys = path.filter((k): k is string | number => typeof k !== 'symbol');
    if (spans && keys[0] === 'steps' && typeof keys[1] === 'number' && keys[1] < spans.starts.length - 1) {
      const i = keys[1];
      const loc = locateItem(text, kind, spans.starts[i]!, spans.starts[i + 1]!, keys.slice(2));
      if (loc) return loc;
    }
    // the rest of the file: without its steps list (same lines), unless the path is in it
    const key = spans && keys[0] !== 'steps' ? 'head' : 'all';
    if (!whole.has(key)) whole.set(key, parse(key === 'head' ? blankList(text, spans!) : text, 0));
    return whole.get(key)?.(keys);
  };
}

type Located = (keys: Array<string | number>) => SourceLocation | undefined;

/** A located tree of `text`, whose first line is line `lineBase + 1`; undefined on parse errors. */
function parse(text: string, lineBase: number): Located | undefined {
  const { LineCounter, isNode, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  let doc;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  } catch {
    return undefined;
  }
  if (doc.errors.length > 0) return undefined;
  return (keys) => {
    // the deepest existing node on the path (a missing field points at its step)
    for (let n = keys.length; n >= 0; n--) {
      const node = doc.getIn(keys.slice(0, n), true);
      if (isNode(node) && node.range) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { line: line + lineBase, column: col };
      }
    }
    return undefined;
  };
}

/** The position of `rest` inside the steps item at text[start, end). */
function locateItem(
  text: string,
  kind: 'json' | 'yaml',
  start: number,
  end: number,
  rest: Array<string | number>,
): SourceLocation | undefined {
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const lineBase = countLines(text, lineStart);
  // YAML: the item's lines are a one-item sequence; JSON: the value, indented as in the file
  const piece = kind === 'yaml' ? text.slice(start, end) : ' '.repeat(start - lineStart) + text.slice(start, end);
  return parse(piece, lineBase)?.(kind === 'yaml' ? [0, ...rest] : rest);
}

function countLines(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** `text` with the steps list's content replaced by its newlines (line numbers kept). */
function blankList(text: string, spans: StepSpans): string {
  const lines = countLines(text, spans.listEnd) - countLines(text, spans.listStart);
  return text.slice(0, spans.listStart) + '\n'.repeat(lines) + text.slice(spans.listEnd);
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
