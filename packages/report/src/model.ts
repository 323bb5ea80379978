/**
 * From a compare document to what the report shows: configurations grouped over seeds, the
 * counters and phases to plot, the swept variables, and the value / ratio / difference table.
 */
import type { CompareConfig, CompareDocument, PolicySpec, RunDocument } from './types.js';

/** Mean and range of one metric over the seeds of a group. */
export interface Stat {
  mean: number;
  min: number;
  max: number;
  /** number of seeds */
  n: number;
}

/** Configurations that differ only in their seed. */
export interface ConfigGroup {
  /** position in the document (first appearance) */
  index: number;
  /** the configurations' label (made unique within the report) */
  label: string;
  kernel: string;
  hardware: string;
  policies: PolicySpec[];
  vars: Record<string, string | number>;
  seeds: number[];
  runs: CompareConfig[];
}

/** A variable given to `--var`, with the values the document holds. */
export interface VarAxis {
  name: string;
  /** distinct values as strings, in order (numeric order when all are numbers) */
  values: string[];
  numeric: boolean;
}

export interface ReportModel {
  scenario: string;
  groups: ConfigGroup[];
  baseline: ConfigGroup;
  /** false when the document's baseline label matches no configuration (the first is used) */
  baselineFound: boolean;
  counters: string[];
  phases: string[];
  vars: VarAxis[];
  /** some group has more than one seed */
  multiSeed: boolean;
}

export interface ModelOptions {
  /** counters to show, in this order (default: every counter non-zero in some configuration's total) */
  counters?: readonly string[];
  /** overrides the document's baseline label */
  baseline?: string;
}

/** Checks the parts of the document the report relies on; throws a TypeError naming what is wrong. */
export function assertCompareDocument(doc: unknown): asserts doc is CompareDocument {
  const fail = (what: string) => {
    throw new TypeError(`renderReport: not a compare document: ${what}`);
  };
  if (!doc || typeof doc !== 'object') fail('not an object');
  const d = doc as Partial<CompareDocument>;
  if (!Array.isArray(d.configs) || d.configs.length === 0) fail('"configs" must be a non-empty array');
  d.configs!.forEach((c, i) => {
    if (!c || typeof c !== 'object') fail(`configs[${i}] is not an object`);
    if (typeof c.label !== 'string') fail(`configs[${i}].label must be a string`);
    const r = c.result as Partial<RunDocument> | undefined;
    if (!r || typeof r !== 'object') fail(`configs[${i}].result must be a run document`);
    if (!r!.phases || typeof r!.phases !== 'object') fail(`configs[${i}].result.phases must be an object`);
    if (!r!.total || typeof r!.total !== 'object') fail(`configs[${i}].result.total must be an object`);
  });
}

/** A policy as text: the string itself, else its name and options as JSON. */
export function policyText(p: PolicySpec): string {
  return typeof p === 'string' ? p : JSON.stringify(p);
}

const identity = (c: CompareConfig) =>
  JSON.stringify([
    c.kernel,
    c.hardware,
    (c.policies ?? []).map(policyText),
    Object.entries(c.vars ?? {})
      .map(([k, v]) => [k, String(v)])
      .sort(),
  ]);

/** `linux-5.9/x86 seed=2` → `linux-5.9/x86`: how a label that names its seed reads for the group. */
const withoutSeed = (label: string) => label.replace(/[\s/,;@#]*\bseeds?\s*[=:]?\s*\d+/gi, '').trim();

export function buildModel(doc: CompareDocument, opts: ModelOptions = {}): ReportModel {
  assertCompareDocument(doc);
  const byKey = new Map<string, ConfigGroup>();
  const groups: ConfigGroup[] = [];
  for (const c of doc.configs) {
    const key = identity(c);
    let g = byKey.get(key);
    if (!g) {
      g = {
        index: groups.length,
        label: c.label,
        kernel: String(c.kernel ?? c.result.system?.kernel ?? ''),
        hardware: String(c.hardware ?? c.result.system?.hardware ?? ''),
        policies: c.policies ?? [],
        vars: c.vars ?? {},
        seeds: [],
        runs: [],
      };
      byKey.set(key, g);
      groups.push(g);
    }
    g.seeds.push(c.seed);
    g.runs.push(c);
  }
  for (const g of groups) {
    const labels = new Set(g.runs.map((r) => r.label));
    if (labels.size > 1) {
      const stripped = new Set(g.runs.map((r) => withoutSeed(r.label)));
      g.label = stripped.size === 1 ? [...stripped][0]! || g.runs[0]!.label : g.runs[0]!.label;
    }
  }
  const seen = new Map<string, number>();
  for (const g of groups) {
    const n = (seen.get(g.label) ?? 0) + 1;
    seen.set(g.label, n);
    if (n > 1) g.label = `${g.label} (#${n})`;
  }

  const baselineLabel = opts.baseline ?? doc.baseline;
  const baseRun = doc.configs.find((c) => c.label === baselineLabel);
  const baseline = baseRun ? groups.find((g) => g.runs.includes(baseRun))! : groups[0]!;

  const counters = opts.counters ? [...opts.counters] : nonZeroCounters(doc.configs);
  const phases: string[] = [];
  for (const c of doc.configs) for (const p of Object.keys(c.result.phases)) if (!phases.includes(p)) phases.push(p);

  const varNames: string[] = [];
  for (const g of groups) for (const k of Object.keys(g.vars)) if (!varNames.includes(k)) varNames.push(k);
  const vars = varNames.map((name): VarAxis => {
    const values: string[] = [];
    for (const g of groups) {
      const v = g.vars[name];
      if (v !== undefined && !values.includes(String(v))) values.push(String(v));
    }
    const numeric = values.every((v) => v.trim() !== '' && Number.isFinite(Number(v)));
    if (numeric) values.sort((a, b) => Number(a) - Number(b));
    return { name, values, numeric };
  });

  return {
    scenario: String(doc.configs[0]!.result.scenario ?? ''),
    groups,
    baseline,
    baselineFound: baseRun !== undefined,
    counters,
    phases,
    vars,
    multiSeed: groups.some((g) => g.runs.length > 1),
  };
}

/** Counters non-zero in some configuration's total, in the simulator's order of first appearance. */
function nonZeroCounters(configs: readonly CompareConfig[]): string[] {
  const out: string[] = [];
  for (const c of configs)
    for (const [k, v] of Object.entries(c.result.total.counters ?? {})) if (v !== 0 && !out.includes(k)) out.push(k);
  return out;
}

/** Mean, min and max over the group's seeds of `get(run document)` (missing values count as 0). */
export function stat(g: ConfigGroup, get: (r: RunDocument) => number | undefined): Stat {
  const xs = g.runs.map((c) => {
    const v = get(c.result);
    return typeof v === 'number' && Number.isFinite(v) ? v : 0;
  });
  return {
    mean: xs.reduce((a, b) => a + b, 0) / xs.length,
    min: Math.min(...xs),
    max: Math.max(...xs),
    n: xs.length,
  };
}

export const totalCounter = (name: string) => (r: RunDocument) => r.total.counters?.[name];
export const totalCycles = (r: RunDocument) => r.total.cycles;
export const phaseCycles = (phase: string) => (r: RunDocument) => r.phases[phase]?.cycles;

/** One cell of the comparison table. */
export interface TableCell {
  value: Stat;
  /** value / baseline value; undefined when the baseline is 0 */
  ratio: number | undefined;
  /** value − baseline value */
  diff: number;
}

export interface TableRow {
  metric: string;
  kind: 'counter' | 'cycles' | 'phase-cycles';
  cells: TableCell[];
}

export interface CompareTable {
  /** group labels, in column order */
  columns: string[];
  /** column of the baseline */
  baseline: number;
  rows: TableRow[];
}

/**
 * The comparison table: counters of the total, total cycles, then cycles per phase; per
 * configuration (mean over seeds) its value, its ratio to the baseline and its difference.
 */
export function compareTable(model: ReportModel): CompareTable {
  const rows: TableRow[] = [];
  const row = (metric: string, kind: TableRow['kind'], get: (r: RunDocument) => number | undefined) => {
    const base = stat(model.baseline, get).mean;
    const cells = model.groups.map((g): TableCell => {
      const value = stat(g, get);
      return { value, ratio: base === 0 ? undefined : value.mean / base, diff: value.mean - base };
    });
    rows.push({ metric, kind, cells });
  };
  for (const c of model.counters) row(c, 'counter', totalCounter(c));
  row('cycles', 'cycles', totalCycles);
  for (const p of model.phases) row(`cycles: ${p}`, 'phase-cycles', phaseCycles(p));
  return { columns: model.groups.map((g) => g.label), baseline: model.baseline.index, rows };
}

/** Integers with thousands separators (locale-independent), fractions to 1 decimal: as the CLI prints. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const neg = n < 0;
  const a = Math.abs(n);
  const int = Number.isInteger(a) ? a : Math.round(a * 10) / 10;
  const [ip, fp] = String(int).split('.');
  const grouped = ip!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (neg && int !== 0 ? '-' : '') + grouped + (fp ? `.${fp}` : '');
}

/** `1.23×`; `–` when there is no ratio (baseline 0). */
export function formatRatio(r: number | undefined): string {
  if (r === undefined) return '–';
  if (r !== 0 && (Math.abs(r) < 0.01 || Math.abs(r) >= 1000)) return `${r.toExponential(2)}×`;
  return `${r.toFixed(2)}×`;
}

/** `+1,234`, `-56`, `0`. */
export function formatDiff(d: number): string {
  const s = formatNumber(d);
  return d > 0 && s !== '0' ? `+${s}` : s;
}
