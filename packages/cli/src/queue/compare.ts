/**
 * `mmsim compare --queue URL`: the runs of the plan (one job per configuration × seed, compare's
 * local unit) go to the queue instead of the local pool; the results come back as the same
 * `mmsim run --json` text, so compare assembles the same output. The shape of pool.ts's PoolRun.
 */
import { createRequire } from 'node:module';
import type { JobResult } from '../compare/job.js';
import type { PoolRun } from '../compare/pool.js';
import { prepareScenario, type RunRequest } from '../prepare.js';
import { parseQueueUrl } from './connection.js';
import { FileSet, requestFiles, type JobPayload } from './payload.js';
import { queueJobs, type QueueStatus } from './producer.js';

export const MMSIM_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export interface QueueCompareOptions {
  onResult?: (index: number, r: JobResult) => void;
  onStatus?: (s: QueueStatus) => void;
  log?: (line: string) => void;
}

export async function queueCompare(url: string, requests: RunRequest[], o: QueueCompareOptions): Promise<PoolRun> {
  const addr = parseQueueUrl(url);
  const cwd = process.cwd();
  const files = new FileSet();
  const payloads: JobPayload[] = [];
  for (const request of requests) {
    const prep = await prepareScenario(request);
    const own = requestFiles(request, prep.loaded.scenario, cwd);
    for (const [f, b] of own.contents) files.contents.set(f, b);
    payloads.push({ kind: 'run', version: MMSIM_VERSION, cwd, request, files: own.hashes() });
  }
  const results: Array<JobResult | undefined> = new Array(requests.length).fill(undefined);
  let stopped = false;
  const q = await queueJobs(addr, payloads, files, {
    onResult: (i, r) => {
      if (r.kind !== 'run') return;
      results[i] = r.result;
      o.onResult?.(i, r.result);
    },
    ...(o.onStatus ? { onStatus: o.onStatus } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
  const done = q.done.then(() => {
    if (q.failure && !stopped) {
      // a worker refused the job (version, plugins) or it threw: reported with its configuration
      const refused = q.failure.reason.includes(' refused job ');
      results[q.failure.index] = {
        error: { message: `job failed on the queue: ${q.failure.reason}`, exit: refused ? 2 : 3 },
      };
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
      await q.stop();
      await done;
    },
  };
}
