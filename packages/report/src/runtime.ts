/** The Vega runtime inlined in every report: the `vega` package's own minified browser build. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let cached: { js: string; version: string } | undefined;

/** `vega/build/vega.min.js` (self-contained UMD build, defines `window.vega`) and vega's version. */
export function vegaRuntime(): { js: string; version: string } {
  if (cached) return cached;
  // vega's "exports" only expose the ESM entry (build/vega.module.js); the browser build sits next to it.
  const build = dirname(createRequire(import.meta.url).resolve('vega'));
  const js = readFileSync(join(build, 'vega.min.js'), 'utf8');
  const pkg = JSON.parse(readFileSync(join(build, '..', 'package.json'), 'utf8')) as { version: string };
  cached = { js, version: pkg.version };
  return cached;
}
