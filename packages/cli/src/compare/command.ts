/**
 * `mmsim compare FILE [--kernel K]... [--hardware H]... [--policy SPEC]... [--set P=V]...
 * [--var NAME=V1,V2]... [--seeds N] [--baseline LABEL] [--max-steps N] [--jobs N] [--counters a,b] [--json]
 * [--export-csv F] [--export-markdown F]`: plan (every axis checked first), run on a worker
 * pool, print the table or the `{ baseline, configs }` document. SIGINT/SIGTERM stop the pool,
 * print what finished and exit 130.
 */
import { writeFile } from 'node:fs/promises';
import type { CompareDocument as ReportDocument } from '@mmsim/report';
import os from 'node:os';
import type { RunResult } from '@mmsim/core';
import type { CliIO } from '../cli.js';
import { FlagError } from '../flag-error.js';
import { createProgress } from '../progress.js';
import { compareCsv, compareMarkdown, formatCompare, type TableMeta } from './format.js';
import { planCompare, type PlanFlags } from './plan.js';
import { runJobs } from './pool.js';
import { defaultCounters, tableRows } from './stats.js';

export interface CompareFlags extends PlanFlags {
  jobs?: number;
  counters?: string;
  json?: boolean;
  exportCsv?: string;
  exportMarkdown?: string;
  report?: string;
  explain?: boolean;
  /** `--queue URL`: run on `mmsim worker`s through BullMQ/Redis (queue/) */
  queue?: string;
}

/** One entry of the `--json` document (contract v2). */
export interface CompareEntry {
  label: string;
  kernel: string;
  hardware: string;
  policies: string[];
  vars: Record<string, string>;
  seed: number;
  result: RunResult & Record<string, unknown>;
}

export interface CompareDocument {
  baseline: string;
  configs: CompareEntry[];
}

export function defaultJobs(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

export async function compareCommand(
  file: string,
  flags: CompareFlags,
  io: CliIO,
  report: (e: unknown) => number,
): Promise<number> {
  // from the start: a Ctrl-C while the configurations are checked exits 130 too
  let interrupted = false;
  let stopRuns: (() => void) | undefined;
  const onSignal = () => {
    interrupted = true;
    stopRuns?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await compare(file, flags, io, report, {
      interrupted: () => interrupted,
      onStop: (f) => (stopRuns = f),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

interface Interrupt {
  interrupted(): boolean;
  onStop(stop: () => void): void;
}

async function compare(
  file: string,
  flags: CompareFlags,
  io: CliIO,
  report: (e: unknown) => number,
  sig: Interrupt,
): Promise<number> {
  let plan;
  let counters: string[] | undefined;
  try {
    if (flags.counters !== undefined) {
      counters = flags.counters
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (counters.length === 0) throw new FlagError('--counters', flags.counters, 'no counter named');
    }
    plan = await planCompare(file, flags);
  } catch (e) {
    return report(e);
  }
  for (const n of plan.notes) io.stderr.write(`mmsim: ${n}\n`);
  if (sig.interrupted()) {
    io.stderr.write('mmsim: interrupted before the first run\n');
    return 130;
  }

  const total = plan.runs.length;
  const progress = createProgress(io.stderr as NodeJS.WritableStream, io.isTTY === true, {
    unit: 'runs',
    delayMs: 500,
    ...(flags.queue ? { status: true } : {}),
  });
  let finished = 0;
  const requests = plan.runs.map((r) => (flags.explain ? { ...r.request, explain: true } : r.request));
  let run;
  try {
    run = flags.queue
      ? await (await import('../queue/compare.js')).queueCompare(flags.queue, requests, {
          onResult: () => progress.onProgress(++finished, total),
          log: (line) => io.stderr.write(line),
          onStatus: (s) => {
            progress.onStatus?.(`${s.running} running, ${s.workers} workers alive`);
            progress.onProgress(finished, total);
          },
        })
      : runJobs(requests, {
          jobs: flags.jobs ?? defaultJobs(),
          onResult: () => progress.onProgress(++finished, total),
        });
  } catch (e) {
    progress.stop();
    return report(e);
  }
  const started = run;
  sig.onStop(() => void started.stop());
  if (sig.interrupted()) void run.stop();
  try {
    await run.done;
  } finally {
    progress.stop();
  }
  const interrupted = sig.interrupted();

  if (!interrupted) {
    const i = run.results.findIndex((r) => r?.error);
    if (i >= 0) {
      const err = run.results[i]!.error!;
      io.stderr.write(`mmsim: ${plan.configurations[plan.runs[i]!.config]!.label}: ${err.message}\n`);
      return err.exit;
    }
  }

  const entries: CompareEntry[] = [];
  const byConfig = plan.configurations.map(() => [] as RunResult[]);
  run.results.forEach((r, i) => {
    if (!r?.document) return;
    const c = plan.configurations[plan.runs[i]!.config]!;
    const result = JSON.parse(r.document) as CompareEntry['result'];
    byConfig[plan.runs[i]!.config]!.push(result);
    entries.push({
      label: c.label,
      kernel: c.kernel,
      hardware: c.hardware,
      policies: c.policies,
      vars: c.vars,
      seed: result.seed,
      result,
    });
  });
  const done = plan.configurations
    .map((c, i) => ({ label: c.label, results: byConfig[i]! }))
    .filter((c) => c.results.length > 0);
  const shown = counters ?? defaultCounters(done);
  const baseline = done.some((c) => c.label === plan.baseline) ? plan.baseline : (done[0]?.label ?? plan.baseline);
  const rows = tableRows(done, shown, baseline);
  const meta: TableMeta = {
    file,
    configurations: plan.configurations.length,
    seeds: plan.seeds,
    baseline,
    ...(entries.length < total ? { missing: total - entries.length } : {}),
  };

  const doc: CompareDocument = { baseline: plan.baseline, configs: entries };
  if (flags.json) {
    io.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  } else io.stdout.write(formatCompare(rows, shown, meta));
  try {
    if (flags.exportCsv) await writeOut('--export-csv', flags.exportCsv, compareCsv(rows, shown));
    if (flags.exportMarkdown)
      await writeOut('--export-markdown', flags.exportMarkdown, compareMarkdown(rows, shown, meta));
    if (flags.report) {
      // @mmsim/report (Vega-Lite) loads only for --report
      const { renderReport } = await import('@mmsim/report');
      await writeOut(
        '--report',
        flags.report,
        renderReport(doc as unknown as ReportDocument, { counters: shown.filter((c) => !c.includes(':')), baseline }),
      );
    }
  } catch (e) {
    return report(e);
  }
  if (interrupted) {
    io.stderr.write(`mmsim: interrupted: ${entries.length} of ${total} runs finished\n`);
    return 130;
  }
  return entries.some((e) => e.result.checks.failed > 0) ? 1 : 0;
}

async function writeOut(flag: string, file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text);
  } catch (e) {
    throw new FlagError(flag, file, `cannot write: ${(e as Error).message}`);
  }
}
