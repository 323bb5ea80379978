#!/usr/bin/env node
// Checks what each publishable @mmsim package would publish (publint), after `pnpm build`,
// and packs each one (`pnpm pack --dry-run --json`): no *.tsbuildinfo may ship, and every
// shipped *.map must only reference files that ship too. `--list` prints the packed files.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const list = process.argv.includes('--list');

/** Problems in a package's packed file list. */
function packProblems(pkgDir) {
  const out = execFileSync('pnpm', ['pack', '--dry-run', '--json'], { cwd: pkgDir, encoding: 'utf8' });
  const packed = JSON.parse(out.slice(out.indexOf('{')));
  const files = packed.files.map((f) => normalize(f.path));
  const shipped = new Set(files);
  const problems = [];
  for (const f of files) {
    if (f.endsWith('.tsbuildinfo')) problems.push(`packs ${f}`);
    if (!f.endsWith('.map')) continue;
    const map = JSON.parse(readFileSync(join(pkgDir, f), 'utf8'));
    const root = map.sourceRoot ?? '';
    for (const src of map.sources ?? []) {
      const target = normalize(join(dirname(f), root, src));
      if (!shipped.has(target)) problems.push(`${f} references ${target}, which is not packed`);
    }
  }
  return { files, problems };
}

let bad = 0;
for (const dir of readdirSync('packages')) {
  const pkgDir = join('packages', dir);
  if (!existsSync(join(pkgDir, 'package.json'))) continue;
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  const { messages } = await publint({ pkgDir, level: 'warning', strict: true, pack: 'pnpm' });
  const errs = messages.filter((m) => m.type === 'error' || m.type === 'warning');
  if (!existsSync(join(pkgDir, 'README.md'))) {
    console.log(`${pkg.name}: README.md missing`);
    bad++;
  }
  for (const m of errs) console.log(`${pkg.name}: ${m.type}: ${formatMessage(m, pkg) ?? m.code}`);
  bad += errs.length;
  const { files, problems } = packProblems(pkgDir);
  if (list) console.log(`${pkg.name}: packs ${files.length} files:\n  ${files.join('\n  ')}`);
  for (const p of problems.slice(0, 20)) console.log(`${pkg.name}: pack: ${p}`);
  if (problems.length > 20) console.log(`${pkg.name}: pack: ... ${problems.length - 20} more`);
  errs.push(...problems);
  bad += problems.length;
  console.log(`${pkg.name}: ${errs.length === 0 ? 'ok' : `${errs.length} problem(s)`}`);
}
process.exit(bad > 0 ? 1 : 0);
