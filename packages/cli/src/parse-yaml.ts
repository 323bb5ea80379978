/**
 * YAML scenario text → a plain value. A large file of the usual shape (a `steps:` block
 * sequence at the top level) is parsed a batch of steps at a time, so no syntax tree of the
 * whole file is ever held (one of a million steps is ~1 KiB of tree); anything the pieces
 * cannot give exactly as the whole would (a parse error, an alias across pieces, a repeated
 * key) is parsed whole, which also gives the messages and positions.
 */
import { isMap, isScalar, LineCounter, parseDocument, type DocumentOptions, type ParseOptions } from 'yaml';
import { fileError } from './errors.js';
import { checkAliases } from './yaml-aliases.js';
import { LineKind, StepListScanner } from './step-spans.js';

import { PIECES_MIN_LENGTH } from './file-lines.js';

export { PIECES_MIN_LENGTH };
const BATCH = 2000;
const OPTIONS: ParseOptions & DocumentOptions = { prettyErrors: false };

export function parseYaml(file: string, text: string): unknown {
  if (text.length >= PIECES_MIN_LENGTH) {
    const v = parseYamlPieces(text);
    if (v !== undefined) return v.value;
  }
  return parseYamlWhole(file, text);
}

/** Parse the whole text: a file error (with line and column) for every problem. */
export function parseYamlWhole(file: string, text: string): unknown {
  const lineCounter = new LineCounter();
  try {
    const doc = parseDocument(text, { ...OPTIONS, lineCounter });
    const e = doc.errors[0];
    if (e) {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      // the parser turns its own stack overflow into an error at the node
      const msg = /call stack/i.test(e.message) ? 'nested too deeply to parse' : e.message.split('\n')[0];
      throw fileError(file, `invalid YAML: ${msg}`, { line, column: col });
    }
    if (text.includes('*')) checkAliases(file, doc);
    // the expansion is bounded by checkAliases
    return doc.toJS({ maxAliasCount: -1 });
  } catch (e) {
    if (e instanceof RangeError) throw fileError(file, 'invalid YAML: nested too deeply to parse');
    // the parser's own alias errors (checkAliases names the field for the ones it knows)
    if (e instanceof ReferenceError) throw fileError(file, `invalid YAML: ${e.message.split('\n')[0]}`);
    throw e;
  }
}

/**
 * The value of `text` parsed in pieces: the part before `steps:`, batches of steps, the part
 * after. Undefined when the text does not have that shape or a piece does not parse cleanly.
 */
export function parseYamlPieces(text: string): { value: unknown } | undefined {
  return parseYamlLines(textLines(text));
}

/** The lines of `text`, each with its `\n` (the last one without, if the text has none). */
function* textLines(text: string): Generator<string> {
  for (let pos = 0; pos < text.length; ) {
    let eol = text.indexOf('\n', pos);
    eol = eol < 0 ? text.length : eol + 1;
    yield text.slice(pos, eol);
    pos = eol;
  }
}

/**
 * parseYamlPieces over a file's lines as they are read (`lines` yields each line with its
 * `\n`): only the current batch of steps is ever held as text.
 */
export function parseYamlLines(lines: Iterable<string>): { value: unknown } | undefined {
  const scan = new StepListScanner();
  let head: Record<string, unknown> | undefined;
  let parts: string[] = []; // the head's lines, then the current batch's, then the tail's
  let count = 0; // items in the current batch
  const steps: unknown[] = [];
  const flush = (): boolean => {
    const slice = parts.join('');
    parts = [];
    const batch = simpleSteps(slice) ?? piece(slice);
    if (!Array.isArray(batch) || batch.length !== count) return false;
    for (const s of batch) steps.push(s);
    count = 0;
    return true;
  };
  try {
    for (const line of lines) {
      const kind = scan.line(line.endsWith('\n') ? line.slice(0, -1) : line);
      if (kind === LineKind.bad) return undefined;
      if (kind === LineKind.item) {
        if (!head) {
          const h = piece(parts.join(''));
          if (!isPlainObject(h)) return undefined;
          const keys = Object.keys(h);
          if (keys[keys.length - 1] !== 'steps' || h.steps !== null) return undefined;
          head = h;
          parts = [];
        } else if (count === BATCH && !flush()) return undefined;
        count++;
      } else if (kind === LineKind.tail && count > 0 && !flush()) return undefined;
      parts.push(line);
    }
    if (!head) return undefined;
    if (count > 0 && !flush()) return undefined;
    head.steps = steps;
    const tail = parts.length > 0 ? piece(parts.join('')) : null;
    if (tail !== null) {
      if (!isPlainObject(tail)) return undefined;
      for (const [k, v] of Object.entries(tail)) {
        if (Object.hasOwn(head, k)) return undefined; // a repeated key: the whole parse says so
        head[k] = v;
      }
    }
    return { value: head };
  } catch {
    return undefined;
  }
}

class PieceError extends Error {}

/** One piece's value; throws when it has errors or aliases (an anchor may be in another piece). */
function piece(text: string): unknown {
  const doc = parseDocument(text, OPTIONS);
  if (doc.errors.length > 0) throw new PieceError();
  return doc.toJS({ maxAliasCount: 0 });
}

const ITEM_LINE = /^( *)-( +)/;
const BLANK_OR_COMMENT = /^[ \t]*(?:#.*)?\r?$/;
const SCALAR = '-?[A-Za-z0-9_.][A-Za-z0-9_./+-]*';
const PAIR = new RegExp(`^([A-Za-z_][A-Za-z0-9_]*): +(${SCALAR})$`);
const LINE_PAIR = new RegExp(`^( *)([A-Za-z_][A-Za-z0-9_]*): +(${SCALAR}) *\\r?$`);

/**
 * A batch of steps that are all one-level mappings of plain words and numbers, in block
 * (`- op: touch` / `  pid: p`) or flow (`- { op: touch, pid: p }`) style, read without a
 * syntax tree; every word is resolved by the YAML parser itself (once per distinct word), so
 * `0x10`, `~`, `true` mean what they mean in YAML. Undefined for anything else (then the
 * batch is parsed by the YAML parser).
 */
export function simpleSteps(text: string): unknown[] | undefined {
  const out: Array<Record<string, unknown>> = [];
  let indent = -1;
  let keyCol = -1; // the column of the current item's keys (-1: no more lines for it)
  let cur: Record<string, unknown> | undefined;
  const add = (k: string, v: string): boolean => {
    const key = resolveKey(k);
    if (key === undefined || Object.hasOwn(cur!, key)) return false;
    cur![key] = resolveWord(v);
    return true;
  };
  for (const line of text.split('\n')) {
    if (BLANK_OR_COMMENT.test(line)) continue;
    const item = ITEM_LINE.exec(line);
    if (item && (indent < 0 || item[1]!.length === indent)) {
      indent = item[1]!.length;
      cur = {}; // keys are plain words, never `__proto__` (resolveKey)
      out.push(cur);
      const rest = line.slice(item[0].length).trimEnd();
      if (rest.startsWith('{')) {
        if (!rest.endsWith('}')) return undefined;
        const inner = rest.slice(1, -1).trim();
        if (inner !== '')
          for (const part of inner.split(',')) {
            const m = PAIR.exec(part.trim());
            if (!m || !add(m[1]!, m[2]!)) return undefined;
          }
        keyCol = -1;
      } else {
        const m = PAIR.exec(rest);
        if (!m || !add(m[1]!, m[2]!)) return undefined;
        keyCol = indent + 1 + item[2]!.length;
      }
      continue;
    }
    const m = LINE_PAIR.exec(line);
    if (!cur || keyCol < 0 || !m || m[1]!.length !== keyCol || !add(m[2]!, m[3]!)) return undefined;
  }
  return out.length > 0 ? out : undefined;
}

const words = new Map<string, unknown>();
const keys = new Map<string, string | undefined>();

/** What the YAML parser makes of a plain word as a mapping value. */
function resolveWord(w: string): unknown {
  if (words.has(w)) return words.get(w);
  const v = (parseDocument(`k: ${w}`).toJS() as { k: unknown }).k;
  if (words.size < 10_000) words.set(w, v);
  return v;
}

/** The JS key the YAML parser makes of a plain word as a key (undefined: not a plain string). */
function resolveKey(w: string): string | undefined {
  if (keys.has(w)) return keys.get(w);
  if (w.startsWith('__')) return undefined; // `__proto__` and friends: the YAML parser's way
  const v = parseDocument(`${w}: 0`).contents;
  const k = isMap(v) && isScalar(v.items[0]?.key) ? v.items[0].key.value : undefined;
  const key = typeof k === 'string' ? k : undefined;
  if (keys.size < 10_000) keys.set(w, key);
  return key;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
