/** `mmsim run`: flags → runFile → the table or the JSON document. */
import { readFile } from 'node:fs/promises';
import { configToRequest, type RunConfig } from './config.js';
import { FlagError } from './flag-error.js';
import { formatResult } from './format.js';
import { createProgress } from './progress.js';
import { runFile } from './run.js';
import { parseVarFlag } from './vars.js';
import { interruptCheck } from './interrupt.js';
import type { CliIO } from './cli.js';
import type { TraceRecorder } from '@mmsim/trace';

export interface RunFlags {
  kernel?: string;
  hardware?: string;
  json?: boolean;
  seed?: number;
  policy?: string[];
  set?: string[];
  var?: string[];
  config?: string;
  traceOut?: string;
  explain?: boolean;
  maxSteps?: number;
}

/** `--var NAME=VALUE` flags (one value each) → a record. */
export function varsOf(flags: readonly string[] | undefined): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const f of flags ?? []) {
    const { name, values } = parseVarFlag(f, false);
    if (Object.hasOwn(vars, name)) throw new FlagError('--var', f, `${name} is given twice`);
    vars[name] = values[0]!;
  }
  return vars;
}

/** Read `--config FILE.json`: a `mmsim run --json` document, a compare entry, or its `config`. */
export async function readRunConfig(file: string): Promise<RunConfig> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new FlagError('--config', file, `cannot read a JSON document: ${(e as Error).message.split('\n')[0]}`);
  }
  const d = doc as { config?: unknown; result?: { config?: unknown }; run?: unknown };
  const config = (d?.run ? d : (d?.config ?? d?.result?.config)) as RunConfig | undefined;
  if (!config || typeof config !== 'object' || !config.run || typeof config.run.file !== 'string')
    throw new FlagError('--config', file, 'not a run config (the "config" of `mmsim run --json`)');
  return config;
}

export async function runCommand(
  file: string | undefined,
  flags: RunFlags,
  io: CliIO,
  report: (e: unknown) => number,
): Promise<number> {
  // work units: leaf steps plus the pages touches visit (a single big touch moves the bar too)
  const progress = createProgress(io.stderr as NodeJS.WritableStream, io.isTTY === true, { unit: 'steps+pages' });
  let out;
  let opts;
  try {
    if (flags.config !== undefined) {
      const extra = ['kernel', 'hardware', 'seed', 'policy', 'set', 'var'].filter((k) => {
        const v = (flags as Record<string, unknown>)[k];
        return v !== undefined && !(Array.isArray(v) && v.length === 0);
      });
      if (file !== undefined || extra.length > 0)
        throw new FlagError(
          '--config',
          flags.config,
          `re-runs exactly what the config says: leave out ${file !== undefined ? 'FILE' : `--${extra[0]}`}`,
        );
      const config = await readRunConfig(flags.config);
      opts = configToRequest(config);
      if (config.mmsim?.version && config.scenario?.sha256) {
        const { createHash } = await import('node:crypto');
        const now = createHash('sha256')
          .update(await readFile(opts.file).catch(() => Buffer.alloc(0)))
          .digest('hex');
        if (now !== config.scenario.sha256)
          io.stderr.write(`mmsim: warning: ${opts.file} changed since the config was written\n`);
      }
    } else {
      if (file === undefined)
        throw new FlagError('', '', 'mmsim run: missing the scenario FILE (or --config FILE.json)');
      opts = {
        file,
        kernel: flags.kernel,
        hardware: flags.hardware,
        seed: flags.seed,
        policies: flags.policy ?? [],
        sets: flags.set ?? [],
        vars: varsOf(flags.var),
      };
    }
    let trace: TraceRecorder | undefined;
    // @mmsim/trace loads only for --trace-out
    const traceMod = flags.traceOut ? await import('@mmsim/trace') : undefined;
    out = await runFile(opts.file, {
      ...opts,
      onProgress: progress.onProgress,
      shouldStop: interruptCheck(),
      // the timeline's fault slices carry each decision's explanation (recorder.onDecision)
      explain: flags.explain ? { onRecord: (r) => trace?.onDecision(r) } : undefined,
      maxSteps: flags.maxSteps,
      instrument: traceMod ? (s) => (trace = traceMod.recordTrace(s)).runOptions : undefined,
    });
    if (flags.traceOut && trace) await traceMod!.writeTraceFile(flags.traceOut, trace);
  } catch (e) {
    progress.stop();
    const { invariantViolationOf } = await import('@mmsim/check/invariants');
    const broken = invariantViolationOf(e);
    if (!broken) return report(e);
    // @mmsim/check's invariants plugin stopped the run: a failed check (exit 1), not a bad plugin
    const at = e as { file?: string; where?: string };
    io.stderr.write(`mmsim: check failed: ${at.file ?? file}: ${at.where ?? 'a step'}: ${broken.message}\n`);
    return 1; // EXIT.checksFailed
  }
  progress.stop();
  for (const n of out.notes) io.stderr.write(`mmsim: ${n}\n`);
  const { document } = out;
  io.stdout.write(
    flags.json
      ? JSON.stringify(document, null, 2) + '\n'
      : formatResult(document, { file: opts.file, explain: flags.explain === true }),
  );
  if (document.interrupted) {
    io.stderr.write('mmsim: interrupted: the output is incomplete (the phases finished so far)\n');
    return 130; // EXIT.interrupted
  }
  return document.checks.failed > 0 ? 1 : 0;
}
