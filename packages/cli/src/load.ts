/**
 * Reading a scenario file: `.json`, `.yaml`/`.yml`, or a `.ts`/`.mts`/`.js`/`.mjs`/`.cjs`
 * module whose default export is the scenario object (or a function returning it).
 * Validation uses core's ScenarioSchema; every problem is a ScenarioError naming the file,
 * the step and the field.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fromZod, ScenarioError, ScenarioSchema, StepSchema, type Scenario, type Step } from '@mmsim/core';
import { fileError, withLocation, type SourceLocation } from './errors.js';
import { checkNesting } from './limits.js';
import { createLocator, parseWhere, type Locator } from './locate.js';
import { importFile, ModuleLoadError } from './modules.js';
import { fileLines, PIECES_MIN_LENGTH } from './file-lines.js';

export const SCENARIO_EXTENSIONS = ['.json', '.yaml', '.yml', '.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'] as const;

/** A loaded, validated scenario and where it came from. */
export interface LoadedScenario {
  scenario: Scenario;
  /** the file as the user named it (used in messages) */
  file: string;
  /** absolute path */
  path: string;
  /** directory that relative plugin/hardware paths are resolved from */
  baseDir: string;
  /** source position of a step/field path (JSON and YAML files only) */
  locate: Locator;
}

/** Load and validate a scenario file. Throws ScenarioError. */
export async function loadScenarioFile(file: string): Promise<Scenario> {
  return (await readScenario(file)).scenario;
}

/**
 * Changes to a scenario before it is validated (the `--var`, `--set`, `--policy` and
 * `--hardware` flags of `mmsim run` / `mmsim compare`).
 */
export interface ScenarioPrepare {
  /** rewrite the file's text before parsing (JSON and YAML files only; `--var`) */
  text?: (text: string) => string;
  /**
   * `text` leaves every line for which this is false as it is (and then the file may be read
   * in pieces without calling `text`): e.g. no `--var` and no `${` in the line
   */
  textChanges?: (line: string) => boolean;
  /** the file's text is not available (a .ts/.js module) but `text` was given: throw */
  noText?: () => never;
  /** change the parsed object before validation (it is a fresh copy) */
  input?: (input: unknown) => unknown | Promise<unknown>;
}

/** Like loadScenarioFile, also returning the file's location helpers. */
export async function readScenario(file: string, prepare: ScenarioPrepare = {}): Promise<LoadedScenario> {
  const abs = path.resolve(file);
  const ext = path.extname(abs).toLowerCase();
  if (!(SCENARIO_EXTENSIONS as readonly string[]).includes(ext)) {
    throw fileError(file, `unsupported file type "${ext || '(none)'}" (use .json, .yaml, .yml, .ts or .js)`);
  }
  let input: unknown;
  let locate: Locator = () => undefined;
  if (ext === '.json' || ext === '.yaml' || ext === '.yml') {
    const kind = ext === '.json' ? 'json' : 'yaml';
    ({ input, locate } = await readFileInput(file, abs, kind, prepare));
  } else {
    if (prepare.text) prepare.noText?.();
    input = await importScenarioModule(file, abs);
  }
  checkNesting(file, input);
  // a module's own object is copied before it is changed
  const owned = ext === '.json' || ext === '.yaml' || ext === '.yml' || !!prepare.input;
  if (prepare.input) input = await prepare.input(owned ? input : structuredCloneSafe(input));
  const scenario = validateInput(file, input, locate, owned);
  return { scenario, file, path: abs, baseDir: path.dirname(abs), locate };
}

/**
 * The parsed value of a JSON/YAML file. Positions are looked up only for an error: then the
 * file is read again (if unchanged), so neither its bytes, its text nor a syntax tree stays
 * alive during validation and the run (a function of its own: nothing of it outlives the call).
 */
async function readFileInput(
  file: string,
  abs: string,
  kind: 'json' | 'yaml',
  prepare: ScenarioPrepare,
): Promise<{ input: unknown; locate: Locator }> {
  // the YAML parser loads only for YAML files (it is a sixth of `mmsim run`'s start)
  const yaml = kind === 'yaml' ? await import('./parse-yaml.js') : undefined;
  if (yaml && (!prepare.text || prepare.textChanges)) {
    const streamed = readYamlInPieces(file, abs, yaml, prepare.textChanges);
    if (streamed) return { input: streamed.value, locate: rereadLocator(abs, kind, prepare, streamed.sum) };
  }
  let bytes: Buffer | undefined = await readBytes(file, abs);
  const locate = rereadLocator(abs, kind, prepare, digest(bytes));
  const text = prepareText(bytes.toString('utf8'), prepare);
  bytes = undefined; // not held while parsing
  return { input: yaml ? yaml.parseYaml(file, text) : parseJson(file, text), locate };
}

/**
 * A large YAML file of the usual shape parsed in pieces as it is read, so that neither its
 * bytes nor its text is ever held whole (a 10^6-step file is ~60 MB of text). Undefined: the
 * file is small or has another shape, and is read and parsed whole.
 */
function readYamlInPieces(
  file: string,
  abs: string,
  yaml: typeof import('./parse-yaml.js'),
  textChanges?: (line: string) => boolean,
): { value: unknown; sum: string } | undefined {
  let fd: number;
  try {
    fd = openSync(abs, 'r');
  } catch (e) {
    throw readError(file, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size < PIECES_MIN_LENGTH) return undefined;
    const hash = createHash('sha256');
    const lines = fileLines(fd, hash);
    const v = yaml.parseYamlLines(textChanges ? unchangedLines(lines, textChanges) : lines);
    return v && { value: v.value, sum: hash.digest('base64') };
  } catch (e) {
    throw readError(file, e);
  } finally {
    closeSync(fd);
  }
}

class TextChanges extends Error {}

/** `lines`, as long as `text` would leave them as they are (parseYamlLines gives up otherwise). */
function* unchangedLines(lines: Iterable<string>, changes: (line: string) => boolean): Generator<string> {
  for (const line of lines) {
    if (changes(line)) throw new TextChanges();
    yield line;
  }
}

/** The text as parsed: without a UTF-8 byte order mark, `--var` placeholders filled. */
function prepareText(text: string, prepare: ScenarioPrepare): string {
  // a UTF-8 byte order mark (Windows editors): JSON.parse rejects it, and it shifts positions
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return prepare.text ? prepare.text(text) : text;
}

function digest(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** A locator that reads the file again (undefined once it changed). Holds no text until used. */
function rereadLocator(abs: string, kind: 'json' | 'yaml', prepare: ScenarioPrepare, sum: string): Locator {
  return createLocator(() => {
    try {
      const bytes = readFileSync(abs);
      return digest(bytes) === sum ? prepareText(bytes.toString('utf8'), prepare) : undefined;
    } catch {
      return undefined;
    }
  }, kind);
}

/** A deep copy of a module's scenario object (functions and class instances kept as they are). */
function structuredCloneSafe(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(structuredCloneSafe);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = structuredCloneSafe(x);
    return out;
  }
  return v;
}

/** Validate a plain object against ScenarioSchema. */
export function validateScenario(file: string, input: unknown, locate?: Locator): Scenario {
  return validateInput(file, input, locate, false);
}

/**
 * ScenarioSchema.safeParse, a step at a time when `steps` is a list (the first problem is the
 * one the whole parse reports first); `owned`: the input's steps list may be reused for the
 * output, so a large file is not held twice.
 */
function parseSteps(input: unknown, owned: boolean): ReturnType<typeof ScenarioSchema.safeParse> {
  const steps = (input as { steps?: unknown } | null)?.steps;
  if (!isPlainObject(input) || !Array.isArray(steps)) return ScenarioSchema.safeParse(input);
  const rest = ScenarioSchema.safeParse({ ...input, steps: [] });
  // zod reports the fields in schema order (steps last), then the unknown fields
  if (!rest.success && rest.error.issues[0]!.code !== 'unrecognized_keys') return rest;
  const out = owned ? steps : new Array<unknown>(steps.length);
  for (let i = 0; i < steps.length; i++) {
    const r = StepSchema.safeParse(steps[i]);
    if (!r.success) {
      const issue = { ...r.error.issues[0]!, path: ['steps', i, ...r.error.issues[0]!.path] };
      return { success: false, error: { issues: [issue] } } as unknown as ReturnType<typeof ScenarioSchema.safeParse>;
    }
    // the schemas only check (no defaults, no transforms): an owned flat step is kept as it is,
    // so the copy zod made dies young instead of a million steps being held twice
    out[i] = owned && sameFlat(r.data, steps[i]) ? steps[i] : r.data;
  }
  if (!rest.success) return rest;
  rest.data.steps = out as Step[];
  return rest;
}

/** `a` and `b` have the same keys with the same (identical) values. */
function sameFlat(a: object, b: unknown): boolean {
  if (!isPlainObject(b)) return false;
  let n = 0;
  for (const k in a) {
    if ((a as Record<string, unknown>)[k] !== b[k] || !Object.hasOwn(b, k)) return false;
    n++;
  }
  return n === Object.keys(b).length;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Longest message detail; the rest is cut (`…`). */
const MAX_DETAIL = 200;

function validateInput(file: string, input: unknown, locate: Locator | undefined, owned: boolean): Scenario {
  let r;
  try {
    r = parseSteps(input, owned);
  } catch (e) {
    // checkNesting keeps files well inside the stack; a module's value may still be cyclic
    if (e instanceof RangeError) throw fileError(file, 'the scenario is nested too deeply (or refers to itself)');
    throw e;
  }
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  let err = fromZod(file, r.error, input);
  if (!err.field && err.where !== 'scenario' && !err.where.startsWith('steps[')) {
    // outside the steps (e.g. `system.lruBatchSize`): name it as a field of the scenario
    err = new ScenarioError(file, 'scenario', err.where, err.detail);
  }
  if (issue && err.field && isMissing(input, issue.path)) {
    // zod says "Invalid input: expected string, received undefined"; say what is wrong
    const expected = err.detail.replace(/^Invalid (?:input|option): /, '').replace(/, received undefined$/, '');
    err = new ScenarioError(file, err.where, err.field, `required field is missing (${expected})`);
  }
  if (err.detail.length > MAX_DETAIL) {
    // a value quoted in the message (`unknown op [...]`, `not a size: "..."`) may be huge
    err = new ScenarioError(file, err.where, err.field, `${err.detail.slice(0, MAX_DETAIL)}…`);
  }
  return throwLocated(err, locate?.(issue?.path ?? []));
}

/** The last key of `path` is absent from its (existing) parent object. */
function isMissing(input: unknown, path: ReadonlyArray<PropertyKey>): boolean {
  if (path.length === 0) return false;
  let v: unknown = input;
  for (const k of path.slice(0, -1)) {
    if (v === null || typeof v !== 'object') return false;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(path[path.length - 1]! in (v as object));
}

function throwLocated(err: ScenarioError, loc: SourceLocation | undefined): never {
  throw withLocation(err, loc);
}

/** Add the source position of a ScenarioError's step/field, when the file is JSON/YAML. */
export function locateError(err: ScenarioError, loaded: Pick<LoadedScenario, 'locate'>): ScenarioError {
  return withLocation(err, loaded.locate(parseWhere(err.where, err.field)));
}

async function readBytes(file: string, abs: string): Promise<Buffer> {
  try {
    return await readFile(abs);
  } catch (e) {
    throw readError(file, e);
  }
}

function readError(file: string, e: unknown): Error {
  if (e instanceof ScenarioError) return e;
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return fileError(file, 'no such file');
  if (code === 'EISDIR') return fileError(file, 'is a directory, not a scenario file');
  if (code === 'EACCES') return fileError(file, 'permission denied');
  return fileError(file, `cannot read: ${(e as Error).message}`);
}

function lineCol(text: string, offset: number): SourceLocation {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: Math.min(offset, text.length) - lineStart + 1 };
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (e instanceof RangeError) throw fileError(file, 'invalid JSON: nested too deeply to parse');
    let msg = (e as Error).message;
    let loc: SourceLocation | undefined;
    const pos = /\bat position (\d+)/.exec(msg);
    const lc = /\(line (\d+) column (\d+)\)/.exec(msg);
    if (lc) loc = { line: Number(lc[1]), column: Number(lc[2]) };
    else if (pos) loc = lineCol(text, Number(pos[1]));
    else if (/end of JSON input/.test(msg)) loc = lineCol(text, text.length);
    msg = msg
      .replace(/\s*\(line \d+ column \d+\)/, '')
      .replace(/\s*in JSON at position \d+/, '')
      .replace(/^JSON\.parse: /, '')
      // V8 quotes the start of the text, newlines and all: keep the message on one line
      .replace(/\s*\n\s*/g, ' ');
    throw fileError(file, `invalid JSON: ${msg}`, loc);
  }
}

async function importScenarioModule(file: string, abs: string): Promise<unknown> {
  await readBytes(file, abs); // a clear "no such file" before the module loader's message
  let mod: Record<string, unknown>;
  try {
    mod = await importFile(abs);
  } catch (e) {
    const full = e instanceof ModuleLoadError && e.cause instanceof Error ? e.cause.message : (e as Error).message;
    const msg = full.split('\n')[0]!.trimEnd();
    // the TypeScript transform's syntax errors end in `PATH:LINE:COLUMN` (column from 0)
    const at = /^\s*(\S.*):(\d+):(\d+)\s*$/m.exec(full.slice(msg.length));
    if (at && path.resolve(at[1]!) === abs)
      throw fileError(file, `cannot load the module: ${msg}`, { line: Number(at[2]), column: Number(at[3]) + 1 });
    const where = at ? ` (at ${path.relative(process.cwd(), at[1]!) || at[1]}:${at[2]}:${Number(at[3]) + 1})` : '';
    throw fileError(file, `cannot load the module: ${msg}${where}`);
  }
  let value = 'default' in mod ? mod.default : mod.scenario;
  if (value === undefined)
    throw fileError(file, 'the module has no default export (export default defineScenario({...}))');
  if (typeof value === 'function') {
    try {
      value = await (value as () => unknown)();
    } catch (e) {
      throw fileError(file, `the default export threw: ${(e as Error)?.message ?? String(e)}`);
    }
  }
  return value;
}
