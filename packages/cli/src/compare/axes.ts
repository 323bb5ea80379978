/**
 * The configurations of `mmsim compare`: the cross product of `--kernel`, `--hardware`,
 * `--policy` (each one more configuration next to the one without extra policies), `--set`
 * (values of the same PATH are alternatives; different paths combine) and `--var NAME=V1,V2`.
 */
import { FlagError } from '../flag-error.js';
import { parseSetFlag } from '../overrides.js';
import type { RunRequest } from '../prepare.js';
import { parseVarFlag, type VarAxis } from '../vars.js';

export interface CompareAxesFlags {
  kernel?: string[] | undefined;
  hardware?: string[] | undefined;
  policy?: string[] | undefined;
  set?: string[] | undefined;
  var?: string[] | undefined;
}

/** One configuration (before its file defaults are known). */
export interface PlannedConfig {
  /** `--kernel` value, or undefined (the file's) */
  kernel: string | undefined;
  hardware: string | undefined;
  /** the extra `--policy` (0 or 1) */
  policies: string[];
  /** the `--set` values of this configuration (all paths) */
  sets: string[];
  /** the `--set` values that vary across configurations (for the label) */
  setParts: string[];
  vars: Record<string, string>;
  /** the var names whose value varies (for the label) */
  varParts: string[];
}

export interface SetAxis {
  path: string;
  specs: string[];
}

/** Group `--set` values by path: one axis per path. */
export function setAxes(sets: readonly string[]): SetAxis[] {
  const axes = new Map<string, string[]>();
  for (const s of sets) {
    const key = parseSetFlag(s).path.join('.');
    const list = axes.get(key) ?? [];
    if (list.includes(s)) throw new FlagError('--set', s, 'given twice');
    list.push(s);
    axes.set(key, list);
  }
  return [...axes].map(([path, specs]) => ({ path, specs }));
}

export function varAxes(vars: readonly string[]): VarAxis[] {
  const out: VarAxis[] = [];
  for (const v of vars) {
    const a = parseVarFlag(v);
    if (out.some((o) => o.name === a.name))
      throw new FlagError('--var', v, `${a.name} is given twice (list its values in one --var ${a.name}=V1,V2)`);
    if (new Set(a.values).size !== a.values.length) throw new FlagError('--var', v, 'a value is listed twice');
    out.push(a);
  }
  return out;
}

function product<T>(lists: T[][]): T[][] {
  let acc: T[][] = [[]];
  for (const l of lists) acc = acc.flatMap((a) => l.map((x) => [...a, x]));
  return acc;
}

/** The configurations, in order: kernel, then hardware, then policy, then sets, then vars. */
export function crossProduct(flags: CompareAxesFlags): PlannedConfig[] {
  const kernels = dedupe('--kernel', flags.kernel);
  const hardwares = dedupe('--hardware', flags.hardware);
  const policies = [undefined, ...(dedupe('--policy', flags.policy).filter((p) => p !== undefined) as string[])];
  const sAxes = setAxes(flags.set ?? []);
  const vAxes = varAxes(flags.var ?? []);
  const out: PlannedConfig[] = [];
  for (const kernel of kernels)
    for (const hardware of hardwares)
      for (const policy of policies)
        for (const sets of product(sAxes.map((a) => a.specs)))
          for (const values of product(vAxes.map((a) => a.values))) {
            const vars: Record<string, string> = {};
            vAxes.forEach((a, i) => (vars[a.name] = values[i]!));
            out.push({
              kernel,
              hardware,
              policies: policy === undefined ? [] : [policy],
              sets,
              setParts: sets.filter((_, i) => sAxes[i]!.specs.length > 1),
              vars,
              varParts: vAxes.filter((a) => a.values.length > 1).map((a) => a.name),
            });
          }
  return out;
}

function dedupe(flag: string, values: string[] | undefined): Array<string | undefined> {
  if (!values || values.length === 0) return [undefined];
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new FlagError(flag, v, 'given twice');
    seen.add(v);
  }
  return values;
}

/** A short name for a policy spec: `@scope/policy-x={...}` → `policy-x`, `./dir/my-policy.ts` → `my-policy`. */
export function policyShortName(spec: string): string {
  const name = /^([^=]+)=\{/.exec(spec)?.[1] ?? spec;
  const MODULE_EXT = /\.(?:[mc]?[jt]s|tsx)$/;
  const isPath = /^(\.{1,2}\/|\/|file:)/.test(name) || MODULE_EXT.test(name);
  if (!isPath) return name.replace(/^@[^/]+\//, '');
  const parts = name.replace(/\\/g, '/').split('/').filter(Boolean);
  let base = (parts.pop() ?? name).replace(MODULE_EXT, '');
  if (base === 'index' && parts.length > 0) base = parts.pop()!;
  return base;
}

/** `linux-5.8/x86/+policy-cowpte/profile=kvm-guest/N=4`: kernel and hardware always, the rest when they vary. */
export function configLabel(c: PlannedConfig, kernel: string, hardware: string): string {
  const parts = [kernel, hardware];
  for (const p of c.policies) parts.push(`+${policyShortName(p)}`);
  for (const s of c.setParts) {
    const eq = s.indexOf('=');
    const key = s.slice(0, eq).split('.').pop();
    parts.push(`${key}=${s.slice(eq + 1)}`);
  }
  for (const n of c.varParts) parts.push(`${n}=${c.vars[n]}`);
  return parts.join('/');
}

/** Make labels unique: a repeated label gets `#2`, `#3`, ... */
export function uniqueLabels(labels: string[]): string[] {
  const count = new Map<string, number>();
  for (const l of labels) count.set(l, (count.get(l) ?? 0) + 1);
  const seen = new Map<string, number>();
  return labels.map((l) => {
    if (count.get(l)! === 1) return l;
    const n = (seen.get(l) ?? 0) + 1;
    seen.set(l, n);
    return n === 1 ? l : `${l}#${n}`;
  });
}

/** The RunRequest of a configuration. */
export function requestOf(file: string, c: PlannedConfig, seed?: number, maxSteps?: number): RunRequest {
  return {
    file,
    ...(maxSteps !== undefined ? { maxSteps } : {}),
    ...(c.kernel !== undefined ? { kernel: c.kernel } : {}),
    ...(c.hardware !== undefined ? { hardware: c.hardware } : {}),
    ...(seed !== undefined ? { seed } : {}),
    policies: c.policies,
    sets: c.sets,
    vars: c.vars,
  };
}
