#!/usr/bin/env node
// After tsc: bundle a package's emitted entry into one ES module (dependencies and other
// @mmsim packages stay imports, so every package still loads one shared copy of each).
// Loading one file instead of one per source file is what `mmsim run` start time is made of.
//   node ../../scripts/bundle.mjs [ENTRY] [OUT]   (run in the package; default dist/index.js → dist/bundle.js)
import path from 'node:path';
import { rolldown } from 'rolldown';

const [entry = 'dist/index.js', out = 'dist/bundle.js'] = process.argv.slice(2);
const input = path.resolve(entry);
try {
  const bundle = await rolldown({
    input,
    // bare specifiers (npm packages, node: builtins, other workspace packages) are not inlined
    external: (id) => !id.startsWith('.') && !path.isAbsolute(id),
    platform: 'node',
    logLevel: 'warn',
  });
  // keepNames: class and function names stay as written (messages and tests read constructor.name)
  await bundle.write({ file: path.resolve(out), format: 'esm', keepNames: true });
  await bundle.close();
} catch (e) {
  console.error(`bundle ${entry}: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
