#!/usr/bin/env node
// After tsc: bundle a package's emitted entry (PKG/dist/index.js) into one ES module
// (PKG/dist/bundle.js, the package's entry point). Dependencies, node: builtins and other
// @mmsim packages stay imports, so every package still loads one shared copy of each.
// Loading one file instead of one per source file is what `mmsim run` start time is made of.
//   node scripts/bundle.mjs PKG_DIR...   bundle these packages
//   node scripts/bundle.mjs --stale      bundle each package of BUNDLED whose tsc output is newer
//                                        than its bundle (every package's build runs this, so a
//                                        build of one package through tsc -b references never
//                                        leaves a dependency's bundle behind its code)
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

/** The packages whose entry point is dist/bundle.js (their package.json says so). */
const BUNDLED = ['core', 'hw-x86', 'hw-arm64'];
const packages = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'packages');

const mtime = (f) => (existsSync(f) ? statSync(f).mtimeMs : -1);
/** tsc -b rewrites dist/.tsbuildinfo whenever it emits */
const stale = (dir) => {
  const bundled = mtime(path.join(dir, 'dist', 'bundle.js'));
  return bundled < 0 || bundled < mtime(path.join(dir, 'dist', '.tsbuildinfo'));
};

const args = process.argv.slice(2);
const dirs = args.includes('--stale')
  ? BUNDLED.map((p) => path.join(packages, p)).filter((d) => existsSync(path.join(d, 'dist', 'index.js')) && stale(d))
  : args;

for (const dir of dirs) {
  const entry = path.resolve(dir, 'dist', 'index.js');
  try {
    const bundle = await rolldown({
      input: entry,
      // bare specifiers (npm packages, node: builtins, other workspace packages) are not inlined
      external: (id) => !id.startsWith('.') && !path.isAbsolute(id),
      platform: 'node',
      logLevel: 'warn',
    });
    // keepNames: class and function names stay as written (messages and tests read constructor.name)
    await bundle.write({ file: path.resolve(dir, 'dist', 'bundle.js'), format: 'esm', keepNames: true });
    await bundle.close();
  } catch (e) {
    console.error(`bundle ${entry}: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
