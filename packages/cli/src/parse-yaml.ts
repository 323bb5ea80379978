/**
 * YAML scenario text → a plain value. A large file of the usual shape (a `steps:` block
 * sequence at the top level) is parsed a batch of steps at a time, so no syntax tree of the
 * whole file is ever held (one of a million steps is ~1 KiB of tree); anything the pieces
 * cannot give exactly as the whole would (a parse error, an alias across pieces, a repeated
 * key) is parsed whole, which also gives the messages and positions.
 */
import { LineCounter, parseDocument, type DocumentOptions, type ParseOptions } from 'yaml';
import { fileError } from './errors.js';
import { checkAliases } from './limits.js';
import { stepSpans } from './step-spans.js';

/** Files shorter than this are parsed whole. */
export const PIECES_MIN_LENGTH = 256 * 1024;
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
      throw fileError(file, `invalid YAML: ${e.message.split('\n')[0]}`, { line, column: col });
    }
    if (text.includes('*')) checkAliases(file, doc);
    // the expansion is bounded by checkAliases
    return doc.toJS({ maxAliasCount: -1 });
  } catch (e) {
    if (e instanceof RangeError) throw fileError(file, 'invalid YAML: nested too deeply to parse');
    throw e;
  }
}

/**
 * The value of `text` parsed in pieces: the part before `steps:`, batches of steps, the part
 * after. Undefined when the text does not have that shape or a piece does not parse cleanly.
 */
export function parseYamlPieces(text: string): { value: unknown } | undefined {
  const spans = stepSpans(text, 'yaml');
  if (!spans) return undefined;
  try {
    const head = piece(text.slice(0, spans.listStart));
    if (!isPlainObject(head)) return undefined;
    const keys = Object.keys(head);
    if (keys[keys.length - 1] !== 'steps' || head.steps !== null) return undefined;
    const steps: unknown[] = [];
    const n = spans.starts.length - 1;
    for (let b = 0; b < n; b += BATCH) {
      const m = Math.min(BATCH, n - b);
      const batch = piece(text.slice(spans.starts[b]!, spans.starts[b + m]!));
      if (!Array.isArray(batch) || batch.length !== m) return undefined;
      for (const s of batch) steps.push(s);
    }
    head.steps = steps;
    const tail = piece(text.slice(spans.listEnd));
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

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
