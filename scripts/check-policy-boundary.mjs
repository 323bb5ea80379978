#!/usr/bin/env node
// Policy API boundary: policy code (packages/policy-*/src, examples/policy-*/src) uses the policy
// API only. Every name it takes from '@mmsim/core' (as a value or a type) must be on the allowlist:
// the exports of packages/core/src/api/*.ts plus the constants and config types listed in
// API_EXTRAS. Anything else (Kernel, FolioTable, PG, PTE, VmFault, isPmdFault, ...) is a violation,
// and so is any `.kernel` access (sys.kernel, ctx.kernel, ...).
//
// Usage: node scripts/check-policy-boundary.mjs [--report] [DIR ...]
//   default (strict): print violations as file:line and exit 1 if there are any
//   --report:         print them, exit 0
// Biome's noRestrictedImports works per import path, not per imported name, hence this script.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Public constants and configuration types policies may use besides the api/ folder's exports. */
export const API_EXTRAS = [
  // geometry (units.ts) and VMA flag bits
  'VM',
  'PAGE_SHIFT',
  'PAGE_SIZE',
  'PTRS_PER_TABLE',
  'PMD_ORDER',
  'HPAGE_PMD_NR',
  'MAX_FOLIO_ORDER',
  'LEVEL_SPAN',
  'pteIndex',
  'pmdIndex',
  'pmdStart',
  'tableIndex',
  'parseSize',
  'GUP_PIN_COUNTING_BIAS',
  // configuration and names
  'KernelConfig',
  'ThpMode',
  'Advice',
  'ADVICES',
  'CostKey',
  'CostProfile',
  'UNIT_COSTS',
  'TOKENS',
  // errors a policy may throw or test for
  'PluginError',
];

const API_DIR = fileURLToPath(new URL('../packages/core/src/api/', import.meta.url));

/** Names exported by packages/core/src/api/*.ts: the policy API. */
export function apiNames(dir = API_DIR) {
  const names = new Set(API_EXTRAS);
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.ts')) continue;
    const src = readFileSync(join(dir, f), 'utf8');
    const decl = /\bexport\s+(?:declare\s+)?(?:type|interface|class|function|const|let|enum)\s+([A-Za-z_$][\w$]*)/g;
    for (let m; (m = decl.exec(src)); ) names.add(m[1]);
  }
  return names;
}

let allowed;
const isAllowed = (name) => (allowed ??= apiNames()).has(name);
const CORE = /^@mmsim\/core(\/.*)?$/;

/** Blanks out comments (keeping newlines and offsets) so commented-out code and prose do not count. */
function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) => m.replace(/[^\n]/g, ' '));
}

function lineOf(src, offset) {
  let n = 1;
  for (let i = 0; i < offset; i++) if (src.charCodeAt(i) === 10) n++;
  return n;
}

/**
 * Scans one source text. Returns [{ file, line, message }].
 * @param {string} text
 * @param {string} file
 */
export function scanSource(text, file = '<input>') {
  const src = stripComments(text);
  const out = [];
  const add = (offset, message) => out.push({ file, line: lineOf(src, offset), message });

  // import { A, type B } from '@mmsim/core' / import type { A } ... / export { A } from ...
  const named = /\b(import|export)\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g;
  for (let m; (m = named.exec(src)); ) {
    if (!CORE.test(m[4])) continue;
    const listStart = m.index + m[0].indexOf('{') + 1;
    for (const part of m[3].split(',')) {
      // `type Kernel as K` / `Kernel as K`: the imported name is the first identifier after `type`
      const imported = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)[0]
        ?.trim();
      if (imported && !isAllowed(imported)) {
        const at = listStart + m[3].indexOf(part) + part.indexOf(imported);
        add(at, `imports ${imported} from '${m[4]}'`);
      }
    }
  }
  // import * as core from '@mmsim/core'  ->  core.Kernel
  const ns = /\bimport\s+(?:type\s+)?\*\s+as\s+([A-Za-z_$][\w$]*)\s+from\s*['"]([^'"]+)['"]/g;
  for (let m; (m = ns.exec(src)); ) {
    if (!CORE.test(m[2])) continue;
    const use = new RegExp(`\\b${m[1].replace(/\$/g, '\\$')}\\.([A-Za-z_$][\\w$]*)`, 'g');
    for (let u; (u = use.exec(src)); ) if (!isAllowed(u[1])) add(u.index, `uses ${m[1]}.${u[1]} from '${m[2]}'`);
  }
  // import('@mmsim/core').Kernel  (type position)
  const dyn = /\bimport\(\s*['"]([^'"]+)['"]\s*\)\s*\.\s*([A-Za-z_$][\w$]*)/g;
  for (let m; (m = dyn.exec(src)); ) {
    if (CORE.test(m[1]) && !isAllowed(m[2])) add(m.index, `imports ${m[2]} from '${m[1]}'`);
  }
  // .kernel member access (sys.kernel, ctx.kernel, this.kernel, obj?.kernel)
  const member = /\??\.\s*kernel\b/g;
  for (let m; (m = member.exec(src)); ) add(m.index, 'accesses .kernel');

  return out.sort((a, b) => a.line - b.line);
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'node_modules' && name !== 'dist') yield* walk(p);
    } else if (/\.(m|c)?[jt]sx?$/.test(name) && !name.endsWith('.d.ts')) yield p;
  }
}

/** The default roots: every policy package's and example policy's src folder. */
export function policyRoots(repo) {
  const roots = [];
  for (const parent of ['packages', 'examples']) {
    const base = join(repo, parent);
    if (!existsSync(base)) continue;
    for (const d of readdirSync(base)) {
      const src = join(base, d, 'src');
      if (d.startsWith('policy-') && existsSync(src)) roots.push(src);
    }
  }
  return roots;
}

export function scanDirs(dirs, repo = process.cwd()) {
  const out = [];
  for (const dir of dirs) {
    for (const file of walk(dir)) out.push(...scanSource(readFileSync(file, 'utf8'), relative(repo, file)));
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const report = args.includes('--report');
  const repo = join(fileURLToPath(new URL('.', import.meta.url)), '..');
  const dirs = args.filter((a) => !a.startsWith('--'));
  const found = scanDirs(dirs.length ? dirs : policyRoots(repo), dirs.length ? process.cwd() : repo);
  for (const v of found) console.log(`${v.file}:${v.line}: ${v.message}`);
  const summary = `policy boundary: ${found.length} violation(s)`;
  if (found.length && !report) {
    console.log(`${summary} (strict)`);
    process.exit(1);
  }
  console.log(found.length ? `${summary} (--report: not failing)` : `${summary}`);
}
