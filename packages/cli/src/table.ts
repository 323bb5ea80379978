/** Small text-layout helpers for the readable output. */

export type Align = 'l' | 'r';

/** Lay out rows as aligned columns separated by `gap` spaces; trailing spaces trimmed. */
export function table(
  rows: ReadonlyArray<ReadonlyArray<string>>,
  align: ReadonlyArray<Align>,
  gap = 2,
  indent = '',
): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => {
    const cells = r.map((c, i) => ((align[i] ?? 'l') === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)));
    return (indent + cells.join(' '.repeat(gap))).trimEnd();
  });
}

/** Width of the widest line. */
export function width(lines: ReadonlyArray<string>): number {
  return lines.reduce((w, l) => Math.max(w, l.length), 0);
}

/** `name value` pairs flowed into as many side-by-side columns as fit in `maxWidth`. */
export function pairs(items: ReadonlyArray<[string, string]>, maxWidth: number, indent = '  '): string[] {
  if (items.length === 0) return [];
  const nameW = Math.max(...items.map(([n]) => n.length));
  const valW = Math.max(...items.map(([, v]) => v.length));
  const cell = nameW + 2 + valW;
  const cols = Math.max(1, Math.min(items.length, Math.floor((maxWidth - indent.length + 4) / (cell + 4))));
  const rowsN = Math.ceil(items.length / cols);
  const out: string[] = [];
  for (let r = 0; r < rowsN; r++) {
    const cells: string[] = [];
    for (let c = 0; c < cols; c++) {
      const it = items[c * rowsN + r];
      if (it) cells.push(`${it[0].padEnd(nameW)}  ${it[1].padStart(valW)}`);
    }
    out.push((indent + cells.join('    ')).trimEnd());
  }
  return out;
}

/** Integers with thousands separators (fixed, locale-independent); fractions to 1 decimal. */
export function num(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const neg = n < 0;
  const a = Math.abs(n);
  const int = Number.isInteger(a) ? a : Math.round(a * 10) / 10;
  const [ip, fp] = String(int).split('.');
  const grouped = ip!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (neg ? '-' : '') + grouped + (fp ? `.${fp}` : '');
}

/** Wrap a comma-separated list to `maxWidth`, continuation lines indented. */
export function wrapList(label: string, items: ReadonlyArray<string>, maxWidth: number): string[] {
  const lines: string[] = [];
  let cur = label;
  const pad = ' '.repeat(label.length);
  items.forEach((it, i) => {
    const piece = it + (i < items.length - 1 ? ',' : '');
    if (cur.length > pad.length && cur.length + 1 + piece.length > maxWidth) {
      lines.push(cur);
      cur = pad + piece;
    } else cur += (cur.length > pad.length ? ' ' : '') + piece;
  });
  lines.push(cur);
  return lines;
}
