/**
 * `mmsim check ... --queue URL`: one job per kernel preset (the composition the local check runs
 * in turn, with its seed and its --runs: the same search, so the same findings), or with
 * `--seeds N` one per kernel and seed (a seed range spread over the workers); a worker runs
 * `mmsim check --kernel K ... --json` and sends back the results and, with --out, the shrunk
 * scenarios as files, which the producer writes into its --out directory. The output is the
 * local one: a block per kernel (and seed) in that order, or the `--json` array.
 * Local policy paths and hardware paths go with the job (payload.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CheckResult } from '@mmsim/check';
import type { CliIO } from '../cli.js';
import { isFlagError } from '../flag-error.js';
import { MMSIM_VERSION } from './compare.js';
import { parseQueueUrl } from './connection.js';
import { FileSet, type JobPayload } from './payload.js';
import { queueJobs } from './producer.js';
import { outDirOf, withoutFlags } from './args.js';

/** Split `--queue URL` off check's arguments. */
export function queueArg(args: readonly string[]): { url?: string; rest: string[] } {
  const rest: string[] = [];
  let url: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--queue') url = args[++i] ?? '';
    else if (a.startsWith('--queue=')) url = a.slice('--queue='.length);
    else rest.push(a);
  }
  return url === undefined ? { rest } : { url, rest };
}

export async function queueCheck(url: string, args: string[], io: CliIO): Promise<number> {
  const { parseCheckArgs, presetNames, eraProblems } = await loadCheck();
  let o;
  try {
    o = parseCheckArgs(args);
  } catch (e) {
    io.stderr.write(`mmsim check: ${(e as Error).message}\n`);
    return 2;
  }
  if (o.help) {
    const { CHECK_USAGE } = await import('@mmsim/check');
    io.stdout.write(`${CHECK_USAGE}\n`);
    return 0;
  }
  let kernels = o.kernel === undefined ? presetNames() : Array.isArray(o.kernel) ? o.kernel : [o.kernel];
  if (o.lruGen && o.kernel === undefined)
    kernels = kernels.filter((k) => !eraProblems(k, { system: { vm: { lruGen: true } } })[0]);
  const rest = withoutFlags(args, ['--kernel', '-k']);
  const cwd = process.cwd();
  const files = new FileSet();
  const policies = Array.isArray(o.policy) ? o.policy : o.policy ? [o.policy] : [];
  for (const p of policies) files.addReference(p.replace(/=.*$/s, ''), [cwd]);
  if (o.hardware) files.addReference(o.hardware, [cwd]);
  const hashes = files.hashes();
  // one job per kernel, or per kernel and seed with --seeds (a job is `--seed S --seeds 1`)
  const seed0 = o.seed ?? 1;
  const units = kernels.flatMap((kernel) =>
    o.seeds === undefined
      ? [{ kernel, args: rest, what: kernel }]
      : Array.from({ length: o.seeds }, (_, i) => ({
          kernel,
          args: [...withoutFlags(rest, ['--seed', '--seeds']), '--seed', String(seed0 + i), '--seeds', '1'],
          what: `${kernel} seed ${seed0 + i}`,
        })),
  );
  const payloads: JobPayload[] = units.map((u) => ({
    kind: 'check',
    version: MMSIM_VERSION,
    cwd,
    kernel: u.kernel,
    args: u.args,
    files: hashes,
  }));

  let interrupted = false;
  let stop: (() => Promise<void>) | undefined;
  const onSignal = () => {
    interrupted = true;
    void stop?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let run;
    try {
      run = await queueJobs(parseQueueUrl(url), payloads, files, { log: (line) => io.stderr.write(line) });
    } catch (e) {
      if (!isFlagError(e)) throw e;
      io.stderr.write(`mmsim check: ${e.message}\n`);
      return 2;
    }
    stop = () => run.stop();
    if (interrupted) void run.stop();
    await run.done;
    if (run.failure && !interrupted) {
      const refused = run.failure.reason.includes(' refused job ');
      io.stderr.write(
        `mmsim check: ${units[run.failure.index]!.what}: job failed on the queue: ${run.failure.reason}\n`,
      );
      return refused ? 2 : 3;
    }
    const out = outDirOf(rest);
    const results: CheckResult[] = [];
    let code = 0;
    for (let i = 0; i < units.length; i++) {
      const r = run.results[i];
      if (r?.kind !== 'check') continue;
      if (r.code !== 0 && r.code !== 1) {
        io.stderr.write(r.stderr);
        return r.code;
      }
      if (r.stderr) io.stderr.write(r.stderr);
      if (out !== undefined) {
        const dir = path.resolve(cwd, out);
        await mkdir(dir, { recursive: true });
        for (const [name, text] of Object.entries(r.findings)) {
          const f = path.join(dir, name);
          if (!existsSync(f)) await writeFile(f, text);
        }
      }
      const own = JSON.parse(r.stdout) as CheckResult[];
      results.push(...own);
      if (own.some((x) => x.violations.length > 0)) code = 1;
    }
    const { checkJson, formatCheckResult, interruptedLine } = await import('@mmsim/check');
    if (o.json) io.stdout.write(checkJson(results));
    else for (const r of results) io.stdout.write(`${formatCheckResult(r)}\n`);
    if (interrupted) {
      io.stderr.write(interruptedLine(results));
      return 130;
    }
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function loadCheck() {
  const { parseCheckArgs } = await import('@mmsim/check');
  const { presetNames, eraProblems } = await import('@mmsim/presets');
  return { parseCheckArgs, presetNames, eraProblems };
}
