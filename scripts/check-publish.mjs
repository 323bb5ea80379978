#!/usr/bin/env node
// Checks what each publishable @mmsim package would publish (publint), after `pnpm build`.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

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
  console.log(`${pkg.name}: ${errs.length === 0 ? 'ok' : `${errs.length} problem(s)`}`);
}
process.exit(bad > 0 ? 1 : 0);
