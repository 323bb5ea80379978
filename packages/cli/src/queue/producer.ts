/**
 * The producer side of `--queue`: store the jobs' files in Redis, add one BullMQ job per payload
 * (job id = content hash: a job already there, even finished, is the same job), then poll the
 * jobs until each finished. Results are keyed by job id, so a job retried after a stalled worker
 * is counted once. stop() (Ctrl-C) removes the jobs still waiting; what finished is kept.
 * A job that failed (it threw, or a worker refused it) ends the wait with its reason.
 */
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { newRedis, probeRedis, QUEUE_NAME, WORKER_PREFIX, type QueueAddress } from './connection.js';
import { jobId, storeBlobs, type FileSet, type JobPayload } from './payload.js';
import type { QueueResult } from './worker.js';

export interface QueueRun {
  /** resolves when every job finished, one failed, or stop() was called */
  done: Promise<void>;
  /** by payload index (undefined: not finished) */
  results: Array<QueueResult | undefined>;
  /** the first failed job: its index and BullMQ's failedReason */
  failure?: { index: number; reason: string };
  stop(): Promise<void>;
}

export interface QueueStatus {
  done: number;
  running: number;
  workers: number;
}

export interface QueueJobsOptions {
  onResult?: (index: number, r: QueueResult) => void;
  /** about every poll (250 ms): for the progress bar */
  onStatus?: (s: QueueStatus) => void;
  pollMs?: number;
  /** a line for stderr: said once when no worker has been alive for NO_WORKER_MS */
  log?: (line: string) => void;
}

/** Job ids looked up per command in a poll. */
const POLL_BATCH = 500;

/** How long the producer waits with no worker alive before it says so. */
export const NO_WORKER_MS = 5000;

export async function queueJobs(
  addr: QueueAddress,
  payloads: JobPayload[],
  files: FileSet,
  o: QueueJobsOptions = {},
): Promise<QueueRun> {
  await probeRedis(addr);
  const { Queue } = await import('bullmq');
  const redis = await newRedis(addr);
  redis.on('error', () => {}); // ioredis reconnects
  const qconn = await newRedis(addr);
  qconn.on('error', () => {});
  const queue: Queue = new Queue(QUEUE_NAME, { connection: qconn });
  queue.on('error', () => {});
  await storeBlobs(redis, files);
  const ids = payloads.map(jobId);
  await queue.addBulk(
    payloads.map((data, i) => ({
      name: data.kind,
      data,
      opts: { jobId: ids[i]!, attempts: 1, removeOnComplete: false, removeOnFail: false },
    })),
  );
  const results: Array<QueueResult | undefined> = new Array(payloads.length).fill(undefined);
  // payloads that are the same are one job: its result goes to each of their places
  const byId = new Map<string, number[]>();
  ids.forEach((id, i) => byId.set(id, [...(byId.get(id) ?? []), i]));
  const pending = new Set(ids);
  let filled = 0;
  let stopped = false;
  const run: QueueRun = { done: Promise.resolve(), results, stop: async () => {} };
  let wake = () => {};
  const woken = new Promise<void>((r) => (wake = r));

  /**
   * One pass over the pending jobs: results taken, the first failure noted; the jobs running.
   * Which jobs finished comes from BullMQ's completed and failed sets (ZMSCORE, POLL_BATCH ids a
   * command), so a poll reads only the jobs that finished since the last one, however many wait.
   */
  const collect = async (): Promise<number> => {
    const ids = [...pending];
    const active = new Set(await redis.lrange(queue.keys.active!, 0, -1).catch(() => [] as string[]));
    let running = 0;
    for (let k = 0; k < ids.length; k += POLL_BATCH) {
      const batch = ids.slice(k, k + POLL_BATCH);
      for (const id of batch) if (active.has(id)) running++;
      let ended: string[];
      try {
        const [done, failed] = await Promise.all([
          redis.zmscore(queue.keys.completed!, ...batch),
          redis.zmscore(queue.keys.failed!, ...batch),
        ]);
        ended = batch.filter((_, j) => done[j] !== null || failed[j] !== null);
      } catch {
        ended = batch; // Redis restarting (or without ZMSCORE): read the jobs themselves
      }
      const jobs = await Promise.all(ended.map((id) => queue.getJob(id).catch(() => undefined)));
      for (let j = 0; j < ended.length; j++) {
        const job: Job | undefined = jobs[j];
        if (!job?.finishedOn) continue;
        const places = byId.get(ended[j]!)!;
        if (job.failedReason) {
          run.failure ??= { index: places[0]!, reason: job.failedReason };
          if (!stopped) return running;
        } else if (job.returnvalue) {
          pending.delete(ended[j]!);
          if (active.delete(ended[j]!)) running--;
          for (const i of places) {
            if (results[i] !== undefined) continue;
            results[i] = job.returnvalue as QueueResult;
            filled++;
            o.onResult?.(i, results[i]!);
          }
        }
      }
    }
    return running;
  };

  /** Ctrl-C: the jobs no worker took leave the queue (one taken meanwhile is left to finish) */
  const cancelWaiting = async () => {
    for (const id of pending) {
      try {
        const job = await queue.getJob(id);
        const state = job ? await job.getState() : 'unknown';
        if (job && (state === 'waiting' || state === 'delayed' || state === 'prioritized')) await job.remove();
      } catch {}
    }
  };

  let lastAlive = Date.now();
  let warned = false;
  const poll = async (): Promise<void> => {
    while (pending.size > 0 && !stopped && !run.failure) {
      const running = await collect();
      if (stopped) break;
      const workers = await workersAlive(redis);
      o.onStatus?.({ done: filled, running, workers });
      if (workers > 0) lastAlive = Date.now();
      else if (!warned && Date.now() - lastAlive >= NO_WORKER_MS) {
        warned = true;
        o.log?.(
          `mmsim: no mmsim worker is serving ${addr.shown} (none for ${NO_WORKER_MS / 1000} s): waiting; start one with \`mmsim worker --queue URL\`, or Ctrl-C\n`,
        );
      }
      if (pending.size === 0 || run.failure) break;
      await Promise.race([new Promise((r) => setTimeout(r, o.pollMs ?? 250)), woken]);
    }
    if (stopped) {
      // what finished before the jobs were cancelled is printed
      await cancelWaiting();
      await collect();
    }
  };

  const cleanup = async () => {
    // the producer's jobs leave the queue: the waiting ones (Ctrl-C) and the finished ones
    for (const id of ids) {
      try {
        const job = await queue.getJob(id);
        if (job && (await job.getState()) !== 'active') await job.remove();
      } catch {}
    }
    await queue.close().catch(() => {});
    qconn.disconnect(); // a connection passed in is not BullMQ's to close
    redis.disconnect();
  };
  run.done = poll().finally(cleanup);
  run.stop = async () => {
    stopped = true;
    wake();
    await run.done;
  };
  return run;
}

/** Workers whose heartbeat key is alive. */
async function workersAlive(redis: Redis): Promise<number> {
  try {
    let n = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${WORKER_PREFIX}*`, 'COUNT', 100);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
    return n;
  } catch {
    return 0;
  }
}

export { QUEUE_NAME };
