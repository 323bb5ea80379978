/**
 * Running the jobs of `mmsim compare`: on worker threads with tinypool (`--jobs N`), or
 * in-process one after another (`--jobs 1`). stop() (on SIGINT/SIGTERM) ends the pool; what
 * finished is kept.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Tinypool from 'tinypool';
import type { RunRequest } from '../prepare.js';
import { runJob, type JobResult } from './job.js';

export interface PoolRun {
  /** resolves when every job finished, a job failed, or stop() was called */
  done: Promise<void>;
  /** results by job index (undefined: not finished) */
  results: Array<JobResult | undefined>;
  stop(): Promise<void>;
  readonly stopped: boolean;
}

/** The worker script: dist/compare/worker.js (from src under vitest: the built one). */
export function workerFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const own = path.join(here, 'worker.js');
  if (existsSync(own)) return own;
  const built = path.resolve(here, '../../dist/compare/worker.js');
  if (existsSync(built)) return built;
  throw new Error(`mmsim compare: no worker script at ${own} (run \`pnpm build\`)`);
}

/**
 * The parent's execArgv without the repository's `@mmsim/source` export condition (set by the
 * test runner: it points at TypeScript sources, which the worker, running the built files,
 * cannot load natively).
 */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '--conditions' || a === '-C') && argv[i + 1] === '@mmsim/source') {
      i++;
      continue;
    }
    if (a === '--conditions=@mmsim/source') continue;
    out.push(a);
  }
  return out;
}

export interface RunJobsOptions {
  jobs: number;
  /** after each finished job */
  onResult?: (index: number, r: JobResult) => void;
}

export function runJobs(requests: RunRequest[], o: RunJobsOptions): PoolRun {
  const results: Array<JobResult | undefined> = new Array(requests.length).fill(undefined);
  let stopped = false;
  let failed = false;
  let pool: Tinypool | undefined;
  let wake: () => void = () => {};
  const woken = new Promise<void>((r) => (wake = r));
  const finish = (i: number, r: JobResult) => {
    if (stopped || failed) return;
    results[i] = r;
    o.onResult?.(i, r);
    if (r.error) {
      failed = true;
      wake();
    }
  };
  let work: Promise<void>;
  if (o.jobs <= 1) {
    work = (async () => {
      for (let i = 0; i < requests.length && !stopped && !failed; i++) {
        // let a pending SIGINT handler run between runs
        await new Promise((r) => setImmediate(r));
        if (stopped) break;
        finish(i, await runJob(requests[i]!));
      }
    })();
  } else {
    const n = Math.min(o.jobs, requests.length);
    pool = new Tinypool({
      filename: workerFile(),
      minThreads: n,
      maxThreads: n,
      isolateWorkers: false,
      execArgv: workerExecArgv(),
    });
    const p = pool;
    work = Promise.all(
      requests.map((req, i) =>
        p.run(req).then(
          (r: JobResult) => finish(i, r),
          (e: unknown) => {
            if (!stopped) finish(i, { error: { message: `internal error: ${(e as Error)?.message ?? e}`, exit: 3 } });
          },
        ),
      ),
    ).then(() => undefined);
  }
  const done = Promise.race([work, woken]).then(async () => {
    if (pool) {
      const p = pool;
      pool = undefined;
      await p.destroy();
    }
  });
  return {
    done,
    results,
    get stopped() {
      return stopped;
    },
    async stop() {
      stopped = true;
      wake();
      await done;
    },
  };
}
