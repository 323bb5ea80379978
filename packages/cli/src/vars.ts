/**
 * Scenario variables: `--var NAME=V1,V2,...` fills `${NAME}` placeholders anywhere in the text of
 * a JSON or YAML scenario file, before it is parsed. A `--var` the file does not use and a
 * placeholder left without a value are errors naming them.
 */
import { FlagError } from './flag-error.js';

export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** One `--var NAME=V1,V2` flag. */
export interface VarAxis {
  name: string;
  values: string[];
}

/** Parse `NAME=V1,V2,...` (`mmsim run` takes a single value: `multi` false). */
export function parseVarFlag(s: string, multi = true): VarAxis {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new FlagError('--var', s, 'expected NAME=VALUE' + (multi ? ' or NAME=V1,V2,...' : ''));
  const name = s.slice(0, eq);
  if (!VAR_NAME.test(name)) throw new FlagError('--var', s, `"${name}" is not a variable name (letters, digits, _)`);
  const rest = s.slice(eq + 1);
  const values = multi ? rest.split(',') : [rest];
  if (multi && values.some((v) => v === '')) throw new FlagError('--var', s, 'empty value in the list');
  return { name, values };
}

/** Placeholder names in `text`, in order of first appearance. */
export function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Check `names` against the file's placeholders (before any run). */
export function checkVars(text: string, file: string, names: readonly string[]): void {
  const used = new Set(placeholders(text));
  for (const n of names) {
    if (!used.has(n)) throw new FlagError('--var', n, `${file} has no \${${n}} placeholder`);
  }
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (!names.includes(m[1]!))
      throw new FlagError(
        '--var',
        m[1]!,
        `${file}:${lineOf(text, m.index)}: placeholder \${${m[1]}} has no value (pass --var ${m[1]}=...)`,
      );
  }
}

/** Fill the placeholders of `text` with `vars`. Throws FlagError (see checkVars). */
export function substituteVars(text: string, file: string, vars: Readonly<Record<string, string>>): string {
  checkVars(text, file, Object.keys(vars));
  return text.replace(PLACEHOLDER, (_, n: string) => vars[n]!);
}
