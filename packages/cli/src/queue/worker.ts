/**
 * `mmsim worker --queue URL [--jobs N]`: serve compare and check jobs (BullMQ worker, N at a
 * time) until SIGINT/SIGTERM. Each job runs in a child process (child.ts) inside a temporary
 * tree holding the job's files at the producer's absolute paths under a random root, which is
 * cut from the result again (so the document is the producer's, byte for byte). A job of
 * another mmsim version is refused (UnrecoverableError: the producer reports it, exit 2).
 * The worker's heartbeat key (`mmsim:worker:NAME`, TTL 10 s) tells producers it is alive.
 * A worker runs the plugin code its queue gives it: point it only at a queue you trust.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job } from 'bullmq';
import type { CliIO } from '../cli.js';
import { newRedis, parseQueueUrl, probeRedis, QUEUE_NAME, stalledMs, WORKER_PREFIX } from './connection.js';
import type { ChildAnswer, ChildJob } from './child.js';
import type { RunRequest } from '../prepare.js';
import type { JobPayload } from './payload.js';
import { outDirOf, withoutFlags } from './args.js';
import { JobTrees, removeDeadTrees } from './trees.js';

export interface WorkerFlags {
  queue: string;
  jobs?: number;
}

/** What a job returns through the queue. */
export type QueueResult =
  | { kind: 'run'; worker: string; result: import('../compare/job.js').JobResult }
  | {
      kind: 'check';
      worker: string;
      code: number;
      stdout: string;
      stderr: string;
      /** finding files written with --out: base name → contents */
      findings: Record<string, string>;
    };

/** The job's child script: dist/queue/child.js next to this file. */
function childFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const own = path.join(here, 'child.js');
  if (existsSync(own)) return own;
  const built = path.resolve(here, '../../dist/queue/child.js');
  if (existsSync(built)) return built;
  throw new Error(`mmsim worker: no child script at ${own} (run \`pnpm build\`)`);
}

export async function workerCommand(flags: WorkerFlags, io: CliIO, version: string): Promise<number> {
  const addr = parseQueueUrl(flags.queue);
  await probeRedis(addr);
  const { Worker, UnrecoverableError } = await import('bullmq');
  const name = `${os.hostname()}:${process.pid}`;
  const jobs = flags.jobs ?? 1;
  const stall = stalledMs(io.env ?? process.env);
  await removeDeadTrees();
  const redis = await newRedis(addr);
  redis.on('error', () => {}); // ioredis reconnects (retryStrategy); BullMQ logs nothing either
  const trees = new JobTrees(redis);
  const children = new ChildPool();

  const beat = async () => {
    try {
      await redis.set(WORKER_PREFIX + name, JSON.stringify({ jobs, version }), 'EX', 10);
    } catch {}
  };
  await beat();
  const heartbeat = setInterval(beat, 3000);

  const run = async (job: Job<JobPayload>): Promise<QueueResult> => {
    const p = job.data;
    if (p.version !== version) {
      const why = `it runs mmsim ${version}, the job needs mmsim ${p.version}`;
      io.stderr.write(`mmsim worker: refused job ${job.id!.slice(0, 16)} ${label(p)}: ${why}\n`);
      throw new UnrecoverableError(`worker ${name} refused job ${job.id}: ${why}`);
    }
    const t0 = Date.now();
    // a run reads its tree, shared with the other runs of the same files; a check writes in its own
    const lease = await trees.acquire(p.files, p.cwd, p.kind === 'check').catch((e: Error) => {
      io.stderr.write(`mmsim worker: ${job.id!.slice(0, 16)} ${label(p)} failed: ${e.message}\n`);
      throw e;
    });
    const root = lease.root;
    try {
      const cwd = path.join(root, p.cwd);
      const outArg = p.kind === 'check' ? outDirOf(p.args) : undefined;
      const outDir = outArg !== undefined ? path.join(root, path.resolve(p.cwd, outArg)) : undefined;
      const child = {
        ...p,
        ...(p.kind === 'run' ? { request: inTree(p.request, root) } : {}),
        ...(p.kind === 'check' ? { args: withoutFlags(p.args, ['--out']) } : {}),
        ...(outDir ? { outDir } : {}),
      };
      const text = (await children.run(cwd, child)).split(root).join('');
      let out: QueueResult;
      if (p.kind === 'run') out = { kind: 'run', worker: name, result: JSON.parse(text) };
      else {
        const r = JSON.parse(text) as { code: number; stdout: string; stderr: string };
        const findings: Record<string, string> = {};
        if (outDir && existsSync(outDir))
          for (const f of (await readdir(outDir)).sort()) {
            const raw = await readFile(path.join(outDir, f), 'utf8');
            const moved = relocateFinding(raw, outDir, path.resolve(p.cwd, outArg!), root);
            findings[moved.name] = moved.text;
            r.stdout = r.stdout.split(f).join(moved.name);
          }
        out = { kind: 'check', worker: name, ...r, findings };
      }
      // a run that failed as `mmsim run` would (a plugin this machine cannot load, a ScenarioError)
      // goes back as its result, for the producer to report as locally; the worker says so too
      const failed =
        out.kind === 'run'
          ? out.result.error && `exit ${out.result.error.exit}: ${out.result.error.message.split('\n')[0]}`
          : out.code > 1 && `exit ${out.code}: ${out.stderr.split('\n')[0]}`;
      const s = ((Date.now() - t0) / 1000).toFixed(1);
      io.stderr.write(
        `mmsim worker: ${job.id!.slice(0, 16)} ${label(p)} ${failed ? `failed in ${s} s (${failed})` : `done in ${s} s`}\n`,
      );
      return out;
    } catch (e) {
      io.stderr.write(`mmsim worker: ${job.id!.slice(0, 16)} ${label(p)} failed: ${(e as Error).message}\n`);
      throw e;
    } finally {
      await lease.release();
    }
  };

  const wconn = await newRedis(addr);
  wconn.on('error', () => {});
  const worker = new Worker<JobPayload, QueueResult>(QUEUE_NAME, run, {
    connection: wconn,
    concurrency: jobs,
    // a job whose worker died is moved back to wait once its lock expired (checked every `stall` ms)
    lockDuration: 2 * stall,
    stalledInterval: stall,
    maxStalledCount: 3,
    autorun: false,
  });
  worker.on('error', () => {}); // connection errors: ioredis reconnects
  io.stderr.write(`mmsim worker: ${name} serving ${addr.shown} (${jobs} at a time)\n`);

  let signal: string | undefined;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (s: NodeJS.Signals) => {
      if (signal) {
        // a second signal: give the running jobs back at once (BullMQ moves them on as stalled)
        children.kill();
        process.exit(130);
      }
      signal = s;
      io.stderr.write(`mmsim worker: ${s}: finishing the running job(s)\n`);
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  const running = worker.run();
  await stopped;
  await worker.close(); // waits for the running jobs
  await running.catch(() => {});
  clearInterval(heartbeat);
  children.close();
  await trees.close();
  await redis.del(WORKER_PREFIX + name).catch(() => {});
  redis.disconnect();
  wconn.disconnect(); // a connection passed in is not BullMQ's to close
  io.stderr.write(`mmsim worker: ${name} stopped\n`);
  return signal === 'SIGINT' ? 130 : 0;
}

/**
 * The request's absolute paths (the scenario, a `--policy` or `--hardware` path) point into the
 * job's tree, where the producer's files are; relative ones already do (cwd is in the tree).
 */
export function inTree(r: RunRequest, root: string): RunRequest {
  const move = (s: string): string => {
    const m = /^(file:)?(\/[^=]*)(.*)$/s.exec(s);
    return m && existsSync(path.join(root, m[2]!)) ? `${m[1] ?? ''}${path.join(root, m[2]!)}${m[3]}` : s;
  };
  return {
    ...r,
    file: move(r.file),
    ...(r.hardware ? { hardware: move(r.hardware) } : {}),
    ...(r.policies ? { policies: r.policies.map(move) } : {}),
  };
}

function label(p: JobPayload): string {
  if (p.kind === 'check') {
    const seed = p.args.includes('--seeds') ? p.args[p.args.lastIndexOf('--seed') + 1] : undefined;
    return `check ${p.kernel}${seed ? ` seed ${seed}` : ''}`;
  }
  const r = p.request;
  return [
    r.file,
    r.kernel,
    r.hardware,
    ...(r.policies ?? []),
    ...(r.sets ?? []),
    ...Object.entries(r.vars ?? {}).map(([k, v]) => `${k}=${v}`),
    r.seed !== undefined ? `seed ${r.seed}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/**
 * A finding written in the job's tree names files relative to its directory (writeFinding):
 * the same paths relative to the producer's --out directory, and the file name (a hash of the
 * text) again.
 */
export function relocateFinding(
  raw: string,
  jobOut: string,
  out: string,
  root: string,
): { name: string; text: string } {
  const fix = (v: unknown): unknown => {
    if (typeof v === 'string' && (v.startsWith('./') || v.startsWith('../'))) {
      const abs = path.resolve(jobOut, v);
      if (!existsSync(abs)) return v;
      const there = abs.startsWith(root + path.sep) ? abs.slice(root.length) : abs;
      const rel = path.relative(out, there);
      return rel.startsWith('.') ? rel : `./${rel}`;
    }
    if (Array.isArray(v)) return v.map(fix);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fix(x)]));
    return v;
  };
  const text = `${JSON.stringify(fix(JSON.parse(raw)), null, 2)}\n`;
  return { name: `finding-${createHash('sha1').update(text).digest('hex').slice(0, 16)}.json`, text };
}

/** The job processes, one per slot, started on demand and kept; a dead one is replaced. */
class ChildPool {
  private idle: ChildProcess[] = [];
  readonly all = new Set<ChildProcess>();
  private next = 0;

  run(cwd: string, payload: ChildJob['payload']): Promise<string> {
    const c = this.idle.pop() ?? this.spawn();
    const id = ++this.next;
    return new Promise<string>((resolve, reject) => {
      const onMessage = (m: ChildAnswer) => {
        if (m.id !== id) return;
        done();
        this.idle.push(c);
        if ('text' in m) resolve(m.text);
        else reject(new Error(`the job threw: ${m.error.split('\n').slice(0, 3).join(' / ')}`));
      };
      const onExit = (code: number | null, sig: string | null) => {
        done();
        reject(new Error(`the job's process exited ${sig ?? code}`));
      };
      const done = () => {
        c.off('message', onMessage);
        c.off('exit', onExit);
      };
      c.on('message', onMessage);
      c.on('exit', onExit);
      c.send({ id, cwd, payload } satisfies ChildJob);
    });
  }

  private spawn(): ChildProcess {
    const c = fork(childFile(), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    this.all.add(c);
    c.on('exit', () => {
      this.all.delete(c);
      this.idle = this.idle.filter((x) => x !== c);
    });
    return c;
  }

  kill(): void {
    for (const c of this.all) c.kill('SIGKILL');
  }

  close(): void {
    for (const c of this.all) c.disconnect();
  }
}
