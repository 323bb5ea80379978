/** Word-wrapped two-column text for `mmsim list`. */

/** Words joined into lines of at most `w` columns, each starting with `indent`. */
export function wrap(words: readonly string[], w: number, indent: string): string[] {
  const out: string[] = [];
  let cur = indent;
  for (const word of words) {
    if (cur.length > indent.length && cur.length + word.length + 1 > w) {
      out.push(cur);
      cur = indent;
    }
    cur += (cur.length > indent.length ? ' ' : '') + word;
  }
  out.push(cur);
  return out;
}

/** `  name  description` rows, descriptions word-wrapped to 100 columns. */
export function described(rows: ReadonlyArray<readonly [string, string]>, maxWidth = 100): string[] {
  const nameW = Math.max(...rows.map(([n]) => n.length));
  const indent = ' '.repeat(2 + nameW + 2);
  const out: string[] = [];
  for (const [name, desc] of rows) {
    const wrapped = wrap(desc.split(' '), maxWidth, indent);
    wrapped[0] = `  ${name.padEnd(nameW)}  ${wrapped[0]!.slice(indent.length)}`;
    out.push(...wrapped);
  }
  return out;
}
