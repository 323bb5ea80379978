/**
 * Write a policy package from templates/: every file is copied with its {{PLACEHOLDERS}}
 * filled in, `gitignore` becomes `.gitignore` and `changeset/` `.changeset/` (npm does not pack
 * dotfiles of a package reliably), and package.json is written from manifest.ts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SCAFFOLD_KERNEL, SCENARIO_CALLS } from './calls.js';
import { counterName, tapSource, type HookInfo } from './hooks.js';
import { policyManifest } from './manifest.js';
import { counterPrefixOf, identifierOf, type PackageName } from './name.js';
import { apiRange, PACKAGE_DIR, type Pinned } from './versions.js';

export const TEMPLATES_DIR = path.join(PACKAGE_DIR, 'templates');

/** Template file names that are renamed when written. */
const RENAMES: Readonly<Record<string, string>> = { gitignore: '.gitignore', changeset: '.changeset' };

export interface ScaffoldOptions {
  name: PackageName;
  hooks: readonly HookInfo[];
  dir: string;
  versions: Record<Pinned, string>;
  /** the policy API range (default: `^MAJOR.0.0` of core's POLICY_API_VERSION) */
  api?: string;
}

/** Why `dir` cannot take a scaffold (it exists and is not an empty directory), or null. */
export function targetProblem(dir: string): string | null {
  if (!existsSync(dir)) return null;
  if (!statSync(dir).isDirectory()) return `${dir} exists and is not a directory`;
  if (readdirSync(dir).length > 0) return `${dir} exists and is not empty`;
  return null;
}

/** Fill `{{KEY}}`s; a placeholder without a value is an error (a template and this file disagree). */
export function render(text: string, vars: Readonly<Record<string, string>>, file = 'template'): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new Error(`${file}: no value for {{${k}}}`);
    return v;
  });
}

/** The values of the templates' placeholders. */
export function templateVars(o: ScaffoldOptions): Record<string, string> {
  const plugin = o.name.base;
  const prefix = counterPrefixOf(o.name.base);
  const api = o.api ?? apiRange();
  const hookList = o.hooks.map((h) => h.name);
  const expects = o.hooks.map((h) => {
    const c = `'${counterName(prefix, h.name)}'`;
    const n = SCENARIO_CALLS[h.name];
    return n === undefined
      ? `    // ${h.name}: count its calls in test/scenario.yaml (npx mmsim run test/scenario.yaml) and expect them here`
      : `    expect(total[${c}] ?? 0).toBe(${n}); // ${h.name}`;
  });
  return {
    NAME: o.name.full,
    PLUGIN: plugin,
    FN: identifierOf(o.name.base),
    API: api,
    KERNEL: SCAFFOLD_KERNEL,
    HOOK_LIST: hookList.length === 1 ? hookList[0]! : `${hookList.slice(0, -1).join(', ')} and ${hookList.at(-1)}`,
    TAPS: o.hooks.map((h) => tapSource(h, plugin, prefix)).join('\n\n'),
    EXPECTS: expects.join('\n'),
    HOOK_ITEMS: o.hooks
      .map(
        (h) =>
          `- \`${h.name}\` (${h.kind}${h.kind === 'notify' ? '' : `: ${h.expected}`})${h.models ? ` — ${h.models}` : ''}; counter \`${counterName(prefix, h.name)}\``,
      )
      .join('\n'),
  };
}

/** Template files (relative paths), sorted. */
function templateFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...templateFiles(dir, r));
    else out.push(r);
  }
  return out.sort();
}

/** Where a template file goes. */
function targetPath(rel: string): string {
  return rel
    .split(path.sep)
    .map((p) => RENAMES[p] ?? p)
    .join(path.sep);
}

/** Write the scaffold into `o.dir` (created); returns the files written, relative to it. */
export function scaffold(o: ScaffoldOptions, templatesDir: string = TEMPLATES_DIR): string[] {
  const problem = targetProblem(o.dir);
  if (problem) throw new Error(problem);
  const vars = templateVars(o);
  const written: string[] = [];
  mkdirSync(o.dir, { recursive: true });
  for (const rel of templateFiles(templatesDir)) {
    const text = render(readFileSync(path.join(templatesDir, rel), 'utf8'), vars, rel);
    const to = targetPath(rel);
    mkdirSync(path.dirname(path.join(o.dir, to)), { recursive: true });
    writeFileSync(path.join(o.dir, to), text);
    written.push(to);
  }
  const manifest = policyManifest({
    name: o.name,
    hooks: o.hooks.map((h) => h.name),
    api: vars.API!,
    versions: o.versions,
    kernel: SCAFFOLD_KERNEL,
  });
  writeFileSync(path.join(o.dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  written.push('package.json');
  return written.sort();
}
