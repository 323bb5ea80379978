/**
 * The range fast path (core's kernel/fault-range.ts, Kernel.rangeFaults) against the per-page
 * path on every example scenario, on flat, x86 and arm64: the whole run document, the progress
 * reports and a digest of the whole machine state must be equal.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runExample } from './range-equivalence.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples');

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    // real-programs replays traces recorded on demand (its traces/ is not in git)
    if (e === 'node_modules' || e === 'real-programs') continue;
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (e.endsWith('.yaml')) out.push(p);
  }
  return out;
}

/** the `${VAR}`s an example needs */
const VARS: Record<string, Record<string, string>> = { 'cowpte/fork-size.yaml': { SIZE: '64MiB' } };

const files = yamlFiles(root);
/** pages the range path completed, over the corpus (it must be exercised) */
let rangePages = 0;
let comparisons = 0;

describe('range fast path = per-page path on the examples', () => {
  it('finds the examples', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });
  for (const file of files) {
    const rel = path.relative(root, file).split(path.sep).join('/');
    for (const hw of ['flat', 'x86', 'arm64']) {
      it(`${rel} on ${hw}`, async () => {
        const on = await runExample(file, hw, true, VARS[rel]);
        const off = await runExample(file, hw, false, VARS[rel]);
        expect(on.error).toBe(off.error);
        expect(on.progress).toEqual(off.progress);
        expect(on.state).toEqual(off.state);
        expect(on.document).toEqual(off.document);
        expect(on.faults).toBe(off.faults);
        expect(off.rangePages).toBe(0);
        rangePages += on.rangePages;
        comparisons++;
      }, 120_000);
    }
  }
  it('the range path ran on the corpus', () => {
    expect(comparisons).toBe(files.length * 3);
    expect(rangePages).toBeGreaterThan(100_000);
  });
});
