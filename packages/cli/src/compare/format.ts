/** The compare table: on the terminal (hyperfine-style `mean ± σ`), as CSV and as Markdown. */
import { num, table } from '../table.js';
import type { Cell, Row } from './stats.js';

export interface TableMeta {
  file: string;
  configurations: number;
  seeds: number;
  baseline: string;
  /** configurations × seeds that did not finish (interrupted) */
  missing?: number;
}

function fixed(n: number): string {
  return Number.isInteger(n) ? num(n) : num(Math.round(n * 10) / 10);
}

/** `1,024` or `1,024.5 ± 3.2` */
export function valueText(c: Cell): string {
  return c.n > 1 && c.stddev > 0 ? `${fixed(c.mean)} ± ${fixed(c.stddev)}` : fixed(c.mean);
}

export function ratioText(c: Cell): string {
  return c.ratio === undefined ? '-' : `${c.ratio.toFixed(2)}x`;
}

export function diffText(c: Cell): string {
  const d = Math.round(c.diff * 10) / 10;
  return d === 0 ? '0' : `${d > 0 ? '+' : ''}${fixed(d)}`;
}

export function formatCompare(rows: Row[], counters: readonly string[], meta: TableMeta): string {
  const out: string[] = [];
  out.push(
    `${meta.file}: ${meta.configurations} configuration${meta.configurations === 1 ? '' : 's'}` +
      (meta.seeds > 1 ? ` × ${meta.seeds} seeds` : '') +
      `, baseline ${meta.baseline}`,
  );
  if (meta.missing) out.push(`interrupted: ${meta.missing} run${meta.missing === 1 ? '' : 's'} did not finish`);
  for (const k of counters) {
    out.push('', k);
    const lines: string[][] = [['  configuration', 'value', 'ratio', 'diff', '']];
    for (const r of rows) {
      const c = r.cells[k]!;
      lines.push([
        `  ${r.label}`,
        valueText(c),
        ratioText(c),
        r.baseline ? '' : diffText(c),
        r.baseline ? '(baseline)' : '',
      ]);
    }
    out.push(...table(lines, ['l', 'r', 'r', 'r', 'l']));
  }
  return out.join('\n') + '\n';
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per configuration: label, then per counter mean, stddev, ratio, diff. */
export function compareCsv(rows: Row[], counters: readonly string[]): string {
  const head = ['label', 'baseline', 'seeds'];
  for (const k of counters) head.push(k, `${k}_stddev`, `${k}_ratio`, `${k}_diff`);
  const lines = [head.map(csvField).join(',')];
  for (const r of rows) {
    const cells = [r.label, r.baseline ? 'yes' : '', String(r.cells[counters[0]!]?.n ?? 0)];
    for (const k of counters) {
      const c = r.cells[k]!;
      cells.push(String(c.mean), String(c.stddev), c.ratio === undefined ? '' : String(c.ratio), String(c.diff));
    }
    lines.push(cells.map(csvField).join(','));
  }
  return lines.join('\n') + '\n';
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** A Markdown table: one row per configuration, per counter `value (ratio)`. */
export function compareMarkdown(rows: Row[], counters: readonly string[], meta: TableMeta): string {
  const head = ['configuration', ...counters.flatMap((k) => [`${k}`, `${k} ratio`])];
  const lines = [
    `${mdCell(meta.file)}: baseline \`${mdCell(meta.baseline)}\`${meta.seeds > 1 ? `, mean ± σ over ${meta.seeds} seeds` : ''}`,
    '',
    `| ${head.map(mdCell).join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
  ];
  for (const r of rows) {
    const cells = [r.baseline ? `${r.label} (baseline)` : r.label];
    for (const k of counters) cells.push(valueText(r.cells[k]!), ratioText(r.cells[k]!));
    lines.push(`| ${cells.map(mdCell).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
