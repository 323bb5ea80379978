/**
 * Where each top-level `steps` item is in a JSON or YAML file's text, found by a linear scan
 * (no syntax tree), so that a large file can be parsed in pieces and an error in `steps[i]`
 * located by parsing only that item. Undefined when the text does not have the simple shape
 * (JSON: an object with a `"steps": [...]` member; YAML: a block mapping at column 0 with a
 * `steps:` key followed by a block sequence); callers then use the whole text.
 */

/** Offsets of the `steps` items: item i is `text.slice(starts[i], starts[i + 1])`. */
export interface StepSpans {
  /** n + 1 offsets; the last one is the end of the list */
  starts: Float64Array<ArrayBuffer>;
  /** where the sequence begins (YAML: the first item's line; JSON: after `[`) */
  listStart: number;
  /** where the text after the list begins (YAML: the next top-level key; JSON: at `]`) */
  listEnd: number;
}

export function stepSpans(text: string, kind: 'json' | 'yaml'): StepSpans | undefined {
  return kind === 'json' ? jsonSpans(text) : yamlSpans(text);
}

function grow(a: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> {
  if (n < a.length) return a;
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

const isWs = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** The `steps` member of the top-level object (the last one, as JSON.parse keeps). */
function jsonSpans(text: string): StepSpans | undefined {
  let found: StepSpans | undefined;
  let depth = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // a string: skip it; at depth 1 it may be the key "steps"
      const s = i;
      i++;
      while (i < n && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1;
      i++;
      if (depth === 1 && i - s === 7 && text.startsWith('"steps"', s)) {
        let j = i;
        while (j < n && isWs(text.charCodeAt(j))) j++;
        if (text.charCodeAt(j) !== 58) continue; // not a key
        j++;
        while (j < n && isWs(text.charCodeAt(j))) j++;
        if (text.charCodeAt(j) !== 91) continue; // not a list
        const list = scanJsonList(text, j);
        if (!list) return undefined;
        found = list;
        i = list.listEnd + 1;
      }
      continue;
    }
    if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
    i++;
  }
  return found;
}

/** The items of the JSON array whose `[` is at `open`. */
function scanJsonList(text: string, open: number): StepSpans | undefined {
  let starts = new Float64Array(1024);
  let count = 0;
  let depth = 0;
  let itemStart = -1;
  const n = text.length;
  for (let i = open + 1; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      if (itemStart < 0) itemStart = i;
      i++;
      while (i < n && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1;
      continue;
    }
    if (isWs(c)) continue;
    if (depth === 0 && (c === 44 || c === 93)) {
      if (itemStart >= 0) {
        starts = grow(starts, count + 1);
        starts[count++] = itemStart;
      }
      itemStart = -1;
      if (c === 93) {
        starts = grow(starts, count + 1);
        starts[count] = i;
        return { starts: starts.slice(0, count + 1), listStart: open + 1, listEnd: i };
      }
      continue;
    }
    if (itemStart < 0) itemStart = i;
    if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
  }
  return undefined;
}

const STEPS_KEY = /^steps:[ \t]*(?:#.*)?\r?$/;
const BLANK_OR_COMMENT = /^[ \t]*(?:#.*)?\r?$/;
const ITEM = /^( *)-(?:[ \t]|\r?$)/;
const DOC_MARKER = /^(?:---|\.\.\.)(?:[ \t]|\r?$)/;

/** What a line of a YAML file is to the `steps` list (StepListScanner.line). */
export const LineKind = Object.freeze({
  /** before the first item (the `steps:` key included) */
  head: 0,
  /** the first line of an item */
  item: 1,
  /** a later line of an item (or a blank/comment line inside the list) */
  cont: 2,
  /** after the list: the top-level keys that follow */
  tail: 3,
  /** the file does not have the simple shape */
  bad: 4,
} as const);
export type LineKind = (typeof LineKind)[keyof typeof LineKind];

/**
 * The rules of the block sequence under a column-0 `steps:` key, a line at a time (lines
 * without their `\n`), shared by yamlSpans (offsets in a text) and the YAML file reader
 * (parse-yaml.ts, which never holds the whole text).
 */
export class StepListScanner {
  private inList = false;
  private ended = false;
  /** the items' `-` column, once the first item is seen */
  indent = -1;

  line(line: string): LineKind {
    if (this.ended) return LineKind.tail;
    // directives and document markers: the pieces would not be one document
    if (line.startsWith('%') || (this.inList && DOC_MARKER.test(line))) return LineKind.bad;
    if (!this.inList) {
      if (STEPS_KEY.test(line)) this.inList = true;
      return LineKind.head;
    }
    if (this.indent < 0) {
      if (BLANK_OR_COMMENT.test(line)) return LineKind.head;
      const m = ITEM.exec(line);
      if (!m) return LineKind.bad; // not a block sequence (e.g. `steps:` then a flow list on the next line)
      this.indent = m[1]!.length;
      return LineKind.item;
    }
    if (BLANK_OR_COMMENT.test(line)) return LineKind.cont;
    let sp = 0;
    while (line.charCodeAt(sp) === 32) sp++;
    if (sp < this.indent || (sp === this.indent && !ITEM.test(line))) {
      // the list ends: the rest must be top-level keys
      if (sp !== 0) return LineKind.bad;
      this.ended = true;
      return LineKind.tail;
    }
    return sp === this.indent ? LineKind.item : LineKind.cont;
  }
}

/** The block sequence under a column-0 `steps:` key. */
function yamlSpans(text: string): StepSpans | undefined {
  let starts = new Float64Array(1024);
  let count = 0;
  let listStart = -1;
  const scan = new StepListScanner();
  for (let pos = 0; pos < text.length; ) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = text.length;
    const kind = scan.line(text.slice(pos, eol));
    if (kind === LineKind.bad) return undefined;
    if (kind === LineKind.item) {
      if (listStart < 0) listStart = pos;
      starts = grow(starts, count + 1);
      starts[count++] = pos;
    } else if (kind === LineKind.tail) {
      starts = grow(starts, count + 1);
      starts[count] = pos;
      return { starts: starts.slice(0, count + 1), listStart, listEnd: pos };
    }
    pos = eol + 1;
  }
  if (listStart < 0) return undefined;
  starts = grow(starts, count + 1);
  starts[count] = text.length;
  return { starts: starts.slice(0, count + 1), listStart, listEnd: text.length };
}
