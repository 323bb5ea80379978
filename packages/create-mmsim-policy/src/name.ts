/**
 * npm package names, as the registry accepts new ones (the rules of validate-npm-package-name):
 * 1..214 characters of a-z 0-9 - . _ (URL-safe, lowercase, none of ~'!()*), not starting with "."
 * or "_", and not a Node.js core module name; `@scope/name` checks both parts the same way.
 */
import { builtinModules } from 'node:module';

export interface PackageName {
  /** the full name, `@scope/name` or `name` */
  full: string;
  scope: string | null;
  /** the part after the scope: the default directory and the plugin's name */
  base: string;
}

const PART = /^[a-z0-9._-]+$/;
const RESERVED = new Set(['node_modules', 'favicon.ico']);

function partProblem(part: string, what: string): string | null {
  if (part.length === 0) return `${what} is empty`;
  if (part.startsWith('.') || part.startsWith('_')) return `${what} "${part}" starts with "${part[0]}"`;
  if (part.trim() !== part) return `${what} "${part}" has leading or trailing spaces`;
  if (part !== part.toLowerCase()) return `${what} "${part}" has uppercase letters (new packages are lowercase)`;
  const bad = [...part].filter((c) => !PART.test(c));
  if (bad.length > 0)
    return `${what} "${part}" has characters npm does not allow: ${[...new Set(bad)].map((c) => JSON.stringify(c)).join(' ')}`;
  return null;
}

/** The parsed name, or a message saying why npm would refuse it. */
export function parsePackageName(name: string): PackageName | { error: string } {
  if (name.length === 0) return { error: 'the package name is empty' };
  if (name.length > 214) return { error: `"${name}" is longer than 214 characters` };
  let scope: string | null = null;
  let base = name;
  if (name.startsWith('@')) {
    const m = /^@([^/]*)\/([^/]*)$/.exec(name);
    if (!m) return { error: `"${name}" is not @scope/name` };
    scope = m[1]!;
    base = m[2]!;
    const s = partProblem(scope, 'the scope');
    if (s) return { error: s };
  }
  const p = partProblem(base, 'the name');
  if (p) return { error: p };
  if (scope === null && RESERVED.has(base)) return { error: `"${name}" is a reserved name` };
  if (scope === null && builtinModules.includes(base)) return { error: `"${name}" is a Node.js core module name` };
  return { full: name, scope, base };
}

// words that cannot name a function (`export default function delete()` does not parse)
const RESERVED_WORDS = new Set(
  (
    'await break case catch class const continue debugger default delete do else enum export extends false ' +
    'finally for function if implements import in instanceof interface let new null package private protected ' +
    'public return static super switch this throw true try typeof var void while with yield arguments eval'
  ).split(' '),
);

/**
 * `my-policy` → `myPolicy`: the factory's name. A leading digit gets a `policy` prefix, a
 * reserved word a `Policy` suffix.
 */
export function identifierOf(base: string): string {
  const words = base.split(/[^a-z0-9]+/).filter(Boolean);
  const id = words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
  if (id.length === 0) return 'policy';
  if (/^[0-9]/.test(id)) return `policy${id}`;
  return RESERVED_WORDS.has(id) ? `${id}Policy` : id;
}

/** `my-policy` → `my_policy`: the prefix of the policy's vmstat-style counters. */
export function counterPrefixOf(base: string): string {
  return (
    base
      .split(/[^a-z0-9]+/)
      .filter(Boolean)
      .join('_') || 'policy'
  );
}
