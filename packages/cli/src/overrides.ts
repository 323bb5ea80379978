/**
 * `--set PATH=VALUE` (one field of the scenario by dot path, VALUE as JSON when it parses, else a
 * string) and `--policy NAME` / `--policy 'NAME={"opt":1}'` (one more `system.policies` entry).
 */
import { SystemSchema, type PluginRefSpec } from '@mmsim/core';
import { FlagError } from './flag-error.js';
import { parsePolicySpec, PolicySpecError } from '@mmsim/check/compose';

export interface SetFlag {
  /** as typed: `steps.3.times=10` */
  spec: string;
  /** `['steps', '3', 'times']` */
  path: string[];
  value: unknown;
}

/** Parse `PATH=VALUE`; `steps[3].times` is the same path as `steps.3.times`. */
export function parseSetFlag(spec: string): SetFlag {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new FlagError('--set', spec, 'expected PATH=VALUE (e.g. system.hardwareOptions.cpus=4)');
  const p = spec
    .slice(0, eq)
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.');
  if (p.some((k) => k === '')) throw new FlagError('--set', spec, `"${spec.slice(0, eq)}" is not a dot path`);
  const raw = spec.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // not JSON: a string
  }
  return { spec, path: p, value };
}

type Shape = Record<string, unknown>;

/** zod 4 schema kind ('object', 'record', 'optional', ...). */
function kind(s: unknown): string | undefined {
  return (s as { def?: { type?: string } } | undefined)?.def?.type;
}

function unwrap(s: unknown): unknown {
  while (kind(s) === 'optional') s = (s as { unwrap(): unknown }).unwrap();
  return s;
}

/**
 * Whether `keys` (a path the file does not have) names an optional `system.*` field of the
 * schema: `system`, `system.swap.size`, `system.hardwareOptions.<any>`, `system.kernelOptions.<any>...`.
 */
export function isOptionalSystemPath(keys: readonly string[]): boolean {
  if (keys[0] !== 'system') return false;
  let schema: unknown = SystemSchema;
  for (let i = 1; i < keys.length; i++) {
    const k = kind(schema);
    if (k === 'object') {
      const shape = (schema as { shape: Shape }).shape;
      if (!Object.hasOwn(shape, keys[i]!)) return false;
      schema = unwrap(shape[keys[i]!]);
    } else if (k === 'record') {
      schema = unwrap((schema as { def: { valueType: unknown } }).def.valueType);
    } else {
      // z.unknown(): free-form (hardwareOptions, kernelOptions values)
      return k === 'unknown' || k === 'any';
    }
  }
  return true;
}

function systemFields(): string[] {
  return Object.keys((SystemSchema as unknown as { shape: Shape }).shape);
}

/** Apply one `--set` to a parsed scenario object (in place). Throws FlagError naming the path. */
export function applySet(input: unknown, set: SetFlag, file: string): void {
  const keys = set.path;
  const shown = keys.join('.');
  const fail = (detail: string) => new FlagError('--set', set.spec, detail);
  let node: unknown = input;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const last = i === keys.length - 1;
    const at = keys.slice(0, i).join('.') || '(the scenario)';
    if (Array.isArray(node)) {
      const idx = /^\d+$/.test(key) ? Number(key) : NaN;
      if (!(idx < node.length))
        throw fail(`${file} has no ${shown}: ${at} is a list of ${node.length} entries (indices 0-${node.length - 1})`);
      if (last) node[idx] = set.value;
      else node = node[idx];
      continue;
    }
    if (node === null || typeof node !== 'object')
      throw fail(`${file} has no ${shown}: ${at} is ${JSON.stringify(node)}, not an object`);
    const obj = node as Record<string, unknown>;
    if (!Object.hasOwn(obj, key)) {
      if (!isOptionalSystemPath(keys.slice(0, i + 1))) {
        const hint =
          keys[0] === 'system' && i === 1
            ? ` (fields of system: ${systemFields().join(', ')})`
            : ` (${at} has: ${Object.keys(obj).join(', ') || 'nothing'})`;
        throw fail(`${file} has no ${shown}, and it is not an optional field of the scenario format${hint}`);
      }
      if (!last) obj[key] = {};
    }
    if (last) obj[key] = set.value;
    else node = obj[key];
  }
}

/** Parse `--policy NAME` or `--policy 'NAME={"opt":1}'`; a relative path is made absolute from `cwd`. */
export function parsePolicyFlag(spec: string, cwd = process.cwd()): PluginRefSpec {
  try {
    return parsePolicySpec(spec, cwd); // the same parser as `mmsim check --policy`
  } catch (e) {
    if (e instanceof PolicySpecError) throw new FlagError('--policy', spec, e.detail);
    throw e;
  }
}

/** `--policy` as it reads in a re-run (relative paths made absolute). */
export function policyFlagText(ref: PluginRefSpec): string {
  return typeof ref === 'string' ? ref : `${ref.name}=${JSON.stringify(ref.options ?? {})}`;
}
