/**
 * The readable output (default; `--json` prints the RunResult instead): a header, the
 * counters / cycles / meminfo of every phase, then checks and blocked threads. Phases are
 * columns when there are at most `maxPhaseColumns` of them and the table fits `width`;
 * otherwise one block per phase.
 */
import type { PhaseResult, RunResult } from '@mmsim/core';
import { num, pairs, table, width as widthOf, wrapList, type Align } from './table.js';
import { whySection } from './format-why.js';
import type { ReplayExpansion } from '@mmsim/program-trace';

export interface FormatOptions {
  /** line width to fit (default 100) */
  width?: number;
  /** the scenario file, shown in the header */
  file?: string;
  /** most phases shown side by side (default 6) */
  maxPhaseColumns?: number;
  /** print the why section (`--explain`; shown anyway when the result has decisions) */
  explain?: boolean;
}

const LABEL_W = 10;
const label = (s: string) => s.padEnd(LABEL_W);
const DASH = '-';

export function formatResult(r: RunResult, opts: FormatOptions = {}): string {
  const W = opts.width ?? 100;
  const out: string[] = [...header(r, opts.file, W), ''];
  const names = Object.keys(r.phases);
  const cols: Array<[string, PhaseResult]> = names.map((n) => [n, r.phases[n]!]);
  if (cols.length !== 1) cols.push(['total', r.total]);
  const columns =
    cols.length - (cols.length > 1 ? 1 : 0) <= (opts.maxPhaseColumns ?? 6) ? phaseColumns(cols) : undefined;
  if (columns && widthOf(columns) <= W) out.push(...columns);
  else for (const [name, p] of cols) out.push(...phaseBlock(name, p, W), '');
  if (out[out.length - 1] !== '') out.push('');
  out.push(...whySection(r, W));
  out.push(...checks(r));
  out.push(...blocked(r));
  out.push(...replays(r));
  return out.join('\n') + '\n';
}

function header(r: RunResult, file: string | undefined, W: number): string[] {
  const o = r.system.options ?? {};
  const cpus = typeof o.cpus === 'number' ? `, ${o.cpus} CPU${o.cpus === 1 ? '' : 's'}` : '';
  const lines = [
    `${label('scenario')}${r.scenario}${file ? `  (${file})` : ''}`,
    `${label('hardware')}${r.system.hardware}${cpus}`,
    `${label('kernel')}${r.system.kernel}`,
    ...wrapList(label('policies'), r.system.policies.length ? r.system.policies : ['none'], W),
  ];
  const flat: string[] = [];
  flatten(o, '', flat, new Set(['cpus', 'hardwareOptions.cpus']));
  if (flat.length) lines.push(...wrapList(label('options'), flat, W));
  lines.push(`${label('seed')}${r.seed}`);
  if (r.interrupted)
    lines.push(`${label('status')}INTERRUPTED: incomplete, the phases so far (${r.total.steps} steps done)`);
  return lines;
}

function flatten(v: unknown, prefix: string, out: string[], skip: Set<string>): void {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) if (!skip.has(prefix + k)) flatten(x, `${prefix}${k}.`, out, skip);
    return;
  }
  out.push(`${prefix.slice(0, -1)}=${Array.isArray(v) ? v.join('+') : String(v)}`);
}

/** Counter names with a non-zero value in any column, in the simulator's order. */
function counterNames(cols: ReadonlyArray<[string, PhaseResult]>): string[] {
  const seen = new Set<string>();
  for (const [, p] of [...cols].reverse()) for (const [k, v] of Object.entries(p.counters)) if (v !== 0) seen.add(k);
  return [...seen];
}

function processNames(cols: ReadonlyArray<[string, PhaseResult]>): string[] {
  const seen = new Set<string>();
  for (const [, p] of cols) for (const pid of Object.keys(p.meminfo.processes ?? {})) seen.add(pid);
  return [...seen];
}

interface MeminfoRow {
  label: string;
  get: (p: PhaseResult) => number | undefined;
}

/** AnonPages, PageTables, SwapCached always; AnonHugePages and VmSwap when non-zero somewhere. */
function meminfoRows(cols: ReadonlyArray<[string, PhaseResult]>): MeminfoRow[] {
  const any = (f: (p: PhaseResult) => number | undefined) => cols.some(([, p]) => (f(p) ?? 0) !== 0);
  const rows: MeminfoRow[] = [];
  // a bounded system.memory: free memory and the LRU lists first
  if (any((p) => p.meminfo.MemTotal)) {
    for (const key of ['MemFree', 'Active(anon)', 'Inactive(anon)'] as const)
      rows.push({ label: key, get: (p) => p.meminfo[key] });
  }
  // files or shared memory in the scenario: the page cache (and the file LRU lists when bounded)
  if (cols.some(([, p]) => p.meminfo.Cached !== undefined)) {
    if (any((p) => p.meminfo.MemTotal)) {
      for (const key of ['Active(file)', 'Inactive(file)'] as const)
        rows.push({ label: key, get: (p) => p.meminfo[key] });
    }
    for (const key of ['Cached', 'Shmem', 'Mapped', 'Dirty'] as const)
      rows.push({ label: key, get: (p) => p.meminfo[key] });
  }
  rows.push({ label: 'AnonPages', get: (p) => p.meminfo.AnonPages });
  if (any((p) => p.meminfo.AnonHugePages)) rows.push({ label: 'AnonHugePages', get: (p) => p.meminfo.AnonHugePages });
  rows.push(
    { label: 'PageTables', get: (p) => p.meminfo.PageTables },
    { label: 'SwapCached', get: (p) => p.meminfo.SwapCached },
  );
  // system.cgroups: each cgroup's memory.current and memory.swap.current (the files' bytes, in kB here)
  const cgroups = new Set<string>();
  for (const [, p] of cols) for (const name of Object.keys(p.meminfo.cgroups ?? {})) cgroups.add(name);
  for (const name of cgroups) {
    const cg = (p: PhaseResult) => p.meminfo.cgroups?.[name];
    const kb = (b: number | undefined) => (b === undefined ? undefined : b / 1024);
    rows.push(
      { label: `${name} memory.current`, get: (p) => kb(cg(p)?.['memory.current']) },
      { label: `${name} memory.swap.current`, get: (p) => kb(cg(p)?.['memory.swap.current']) },
    );
  }
  for (const pid of processNames(cols)) {
    const proc = (p: PhaseResult) => p.meminfo.processes?.[pid];
    rows.push(
      { label: `${pid} VmRSS`, get: (p) => proc(p)?.VmRSS },
      { label: `${pid} VmPTE`, get: (p) => proc(p)?.VmPTE },
    );
    if (any((p) => proc(p)?.VmSwap)) rows.push({ label: `${pid} VmSwap`, get: (p) => proc(p)?.VmSwap });
    if (any((p) => proc(p)?.RssFile)) rows.push({ label: `${pid} RssFile`, get: (p) => proc(p)?.RssFile });
    if (any((p) => proc(p)?.RssShmem)) rows.push({ label: `${pid} RssShmem`, get: (p) => proc(p)?.RssShmem });
  }
  return rows;
}

/** One table, phases as columns, counters / cycles / meminfo as rows. */
function phaseColumns(cols: ReadonlyArray<[string, PhaseResult]>): string[] {
  const n = cols.length;
  const blank = () => Array<string>(n).fill('');
  const rows: string[][] = [['phase', ...cols.map(([name]) => name)]];
  const counters = counterNames(cols);
  rows.push(['counters', ...blank()]);
  if (counters.length === 0) rows.push(['  (none)', ...blank()]);
  for (const c of counters) rows.push([`  ${c}`, ...cols.map(([, p]) => (p.counters[c] ? num(p.counters[c]) : DASH))]);
  rows.push(['cycles', ...cols.map(([, p]) => num(p.cycles))]);
  rows.push(['  cycles:u', ...cols.map(([, p]) => num(p.userCycles))]);
  rows.push(['  cycles:k', ...cols.map(([, p]) => num(p.kernelCycles))]);
  rows.push(['steps', ...cols.map(([, p]) => num(p.steps))]);
  rows.push(['meminfo kB', ...blank()]);
  for (const m of meminfoRows(cols)) rows.push([`  ${m.label}`, ...cols.map(([, p]) => fmtOpt(m.get(p)))]);
  const align: Align[] = ['l', ...Array<Align>(n).fill('r')];
  const lines = table(rows, align, 3);
  const rule = '-'.repeat(widthOf(lines));
  return [lines[0]!, rule, ...lines.slice(1)];
}

/** One phase as a block: counters and meminfo flowed into columns. */
function phaseBlock(name: string, p: PhaseResult, W: number): string[] {
  const title = `${name === 'total' ? 'total' : `phase ${name}`}: ${num(p.steps)} step${p.steps === 1 ? '' : 's'}, ${num(p.cycles)} cycles`;
  const counters = Object.entries(p.counters)
    .filter(([, v]) => v !== 0)
    .map(([k, v]): [string, string] => [k, num(v)]);
  const mem = meminfoRows([[name, p]])
    .map((m): [string, string] => [m.label, fmtOpt(m.get(p))])
    .filter(([, v]) => v !== DASH);
  return [
    title,
    ...pairs(
      [
        ['cycles:u', num(p.userCycles)],
        ['cycles:k', num(p.kernelCycles)],
      ],
      W,
    ),
    ...(counters.length ? pairs(counters, W) : ['  (no counters)']),
    '  meminfo kB',
    ...pairs(mem, W, '    '),
  ];
}

function fmtOpt(v: number | undefined): string {
  return v === undefined ? DASH : num(v);
}

function checks(r: RunResult): string[] {
  const c = r.checks;
  if (c.passed === 0 && c.failed === 0) return [`${label('checks')}none`];
  const lines = [`${label('checks')}${c.passed} passed, ${c.failed} failed`];
  for (const f of c.failures) lines.push(`  FAILED ${f.step}: ${f.message}`);
  if (c.failed > c.failures.length) lines.push(`  ... and ${c.failed - c.failures.length} more`);
  return lines;
}

/** What each `replay` step read (the document's `replay`, a `mmsim run` of a file with one). */
function replays(r: RunResult): string[] {
  const list = (r as { replay?: ReplayExpansion[] }).replay ?? [];
  const lines: string[] = [];
  for (const [i, x] of list.entries()) {
    lines.push(
      `${label(i === 0 ? 'replay' : '')}${x.step}: ${x.trace} as ${x.pid}: ${x.records} records, ${x.steps} steps`,
    );
    const c = Object.entries(x.counters).map(([k, v]) => `${k}=${v}`);
    if (c.length) lines.push(`${label('')}  ${c.join(', ')}`);
  }
  return lines;
}

function blocked(r: RunResult): string[] {
  const b = r.blocked ?? [];
  return b.map((t, i) => `${label(i === 0 ? 'blocked' : '')}${t.pid} on cpu ${t.cpu}: ${t.reason} at ${t.addr}`);
}
