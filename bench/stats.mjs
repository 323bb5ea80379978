// bench/ helpers: median / min / max over repeats, a child process's JSON line, the table.
import { spawnSync } from 'node:child_process';

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** { median, min, max, n } of the samples */
export function summary(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** Run `cmd args` and parse the last line of its stdout as JSON; throws with its stderr on failure. */
export function jsonOf(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

/** a figure with about 3 significant digits, thousands separated */
export function fmt(x) {
  if (x === undefined || Number.isNaN(x)) return '-';
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * Print rows like hyperfine / perf stat: name, unit, median, min – max, n, then extra columns.
 * rows: { name, unit, s: summary(...), extra: { [column]: string } }
 */
export function printTable(rows, extraColumns = []) {
  const cells = rows.map((r) => [
    r.name,
    r.unit,
    fmt(r.s.median),
    `${fmt(r.s.min)} – ${fmt(r.s.max)}`,
    String(r.s.n),
    ...extraColumns.map((c) => r.extra?.[c] ?? ''),
  ]);
  const head = ['figure', 'unit', 'median', 'min – max', 'n', ...extraColumns];
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((x, i) => (i < 2 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  ');
  console.log(line(head));
  for (const c of cells) console.log(line(c));
}
