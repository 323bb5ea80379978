/**
 * The numbers of the compare table: a counter's value per run (`pgfault` from `total`,
 * `PHASE:counter` from one phase, `cycles` for the cost), its mean ± standard deviation over the
 * seeds, and its ratio and difference against the baseline.
 */
import type { AnswerSummary, Decisions, HolderKind, RunResult } from '@mmsim/core';

/** The counters shown when `--counters` is not given, in this order, when they differ. */
export const PREFERRED_COUNTERS = [
  'pgfault',
  'cow_copy',
  'pgreuse',
  'cycles',
  'nr_tlb_remote_flush',
  'tlbi_broadcast',
  'ipi_sent',
  'tlb_miss',
  'thp_fault_alloc',
  'pswpout',
  'pswpin',
  'pgmajfault',
] as const;
export const DEFAULT_COUNTER_LIMIT = 6;

/**
 * The value of `counter` in a result (0 when the run did not count it). A name with dots is a
 * `--explain` decision: `fault.wpReuse.copy` (its count), `fault.wpReuse.copy.lru_batch` (the
 * `by` count of a holder) or `fault.wpReuse.copy.avoidable_by_drain_local`.
 */
export function counterValue(r: RunResult, counter: string): number {
  const colon = counter.indexOf(':');
  const phase = colon >= 0 ? r.phases[counter.slice(0, colon)] : r.total;
  const name = colon >= 0 ? counter.slice(colon + 1) : counter;
  if (!phase) return 0;
  if (name === 'cycles') return phase.cycles;
  if (name.includes('.')) return decisionValue(colon >= 0 ? phase.decisions : r.decisions, name);
  return phase.counters[name] ?? 0;
}

function decisionValue(d: Decisions | undefined, name: string): number {
  const parts = name.split('.');
  // hook names are group.name (fault.wpReuse)
  const hook = d?.[`${parts[0]}.${parts[1]}`];
  const s = hook?.[parts[2] ?? ''];
  if (!s) return 0;
  const key = parts[3];
  if (key === undefined || key === 'count') return s.count;
  if (key.startsWith('avoidable_by_')) return (s[key as keyof AnswerSummary] as number | undefined) ?? 0;
  return s.by?.[key as HolderKind] ?? 0;
}

export interface Summary {
  n: number;
  mean: number;
  /** sample standard deviation (0 with one value) */
  stddev: number;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  const mean = n ? values.reduce((a, b) => a + b, 0) / n : 0;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { n, mean, stddev: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values) };
}

export interface Cell extends Summary {
  /** mean / baseline mean (undefined when the baseline is 0 and this is not) */
  ratio: number | undefined;
  /** mean - baseline mean */
  diff: number;
}

export interface Row {
  label: string;
  baseline: boolean;
  cells: Record<string, Cell>;
}

/** Rows of the table: per configuration (results of its seeds), per counter. */
export function tableRows(
  configs: ReadonlyArray<{ label: string; results: RunResult[] }>,
  counters: readonly string[],
  baseline: string,
): Row[] {
  const sums = configs.map((c) => ({
    label: c.label,
    sums: Object.fromEntries(counters.map((k) => [k, summarize(c.results.map((r) => counterValue(r, k)))])),
  }));
  const base = sums.find((s) => s.label === baseline) ?? sums[0];
  return sums.map((s) => ({
    label: s.label,
    baseline: s.label === base?.label,
    cells: Object.fromEntries(
      counters.map((k) => {
        const v = s.sums[k]!;
        const b = base?.sums[k]?.mean ?? 0;
        const ratio = b === 0 ? (v.mean === 0 ? 1 : undefined) : v.mean / b;
        return [k, { ...v, ratio, diff: v.mean - b }];
      }),
    ),
  }));
}

/** Counters that differ across configurations: the preferred ones first, then by name; at most `limit`. */
export function defaultCounters(
  configs: ReadonlyArray<{ results: RunResult[] }>,
  limit = DEFAULT_COUNTER_LIMIT,
): string[] {
  const names = new Set<string>(['cycles']);
  for (const c of configs) for (const r of c.results) for (const k of Object.keys(r.total.counters)) names.add(k);
  const means = (k: string) => configs.map((c) => summarize(c.results.map((r) => counterValue(r, k))).mean);
  const differs = [...names].filter((k) => new Set(means(k)).size > 1);
  const rank = (k: string) => {
    const i = (PREFERRED_COUNTERS as readonly string[]).indexOf(k);
    return i < 0 ? PREFERRED_COUNTERS.length : i;
  };
  differs.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  if (differs.length > 0) return differs.slice(0, limit);
  return ['pgfault', 'cycles'];
}
