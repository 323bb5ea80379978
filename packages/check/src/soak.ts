/**
 * The soak: every preset that is not deliberately historical, on the strict TLB, for many
 * runs; prints runs, steps, violations and time per preset and in total. Exit code 1 on a
 * violation (the shrunk scenarios go to --out, default ./check-soak).
 *
 *   node packages/check/dist/soak.js [--runs N] [--seed S] [--max-steps N] [--out DIR] [--all]
 */
import { pathToFileURL } from 'node:url';
import { presetNames } from '@mmsim/presets';
import { checkComposition, formatCheckResult, type CheckResult } from './check.js';
import { isHistorical } from './known.js';

export interface SoakOptions {
  runs?: number;
  seed?: number;
  maxSteps?: number;
  outDir?: string;
  /** include the historical presets too */
  all?: boolean;
  kernels?: string[];
  log?: (line: string) => void;
}

export interface SoakResult {
  results: CheckResult[];
  runs: number;
  steps: number;
  violations: number;
  ms: number;
}

export function soak(o: SoakOptions = {}): SoakResult {
  const log = o.log ?? ((l: string) => console.log(l));
  const kernels = o.kernels ?? presetNames().filter((k) => o.all || !isHistorical(k));
  const t0 = performance.now();
  const results: CheckResult[] = [];
  for (const kernel of kernels) {
    const r = checkComposition({
      kernel,
      runs: o.runs ?? 5000,
      seed: o.seed ?? 1,
      maxSteps: o.maxSteps ?? 60,
      ...(o.outDir ? { outDir: o.outDir } : {}),
    });
    results.push(r);
    log(formatCheckResult(r));
  }
  const out: SoakResult = {
    results,
    runs: results.reduce((a, r) => a + r.runs, 0),
    steps: results.reduce((a, r) => a + r.steps, 0),
    violations: results.reduce((a, r) => a + r.violations.length, 0),
    ms: performance.now() - t0,
  };
  log(
    `soak: ${kernels.length} presets, ${out.runs} runs, ${out.steps} steps, ${out.violations} violation(s), ${(out.ms / 1000).toFixed(1)} s`,
  );
  return out;
}

function main(argv: string[]): number {
  const o: SoakOptions = { outDir: 'check-soak' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): number => Number(argv[++i]);
    if (a === '--runs') o.runs = next();
    else if (a === '--seed') o.seed = next();
    else if (a === '--max-steps') o.maxSteps = next();
    else if (a === '--out') o.outDir = argv[++i]!;
    else if (a === '--all') o.all = true;
    else {
      console.error(`soak: unknown option ${a}`);
      return 2;
    }
  }
  return soak(o).violations > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = main(process.argv.slice(2));
