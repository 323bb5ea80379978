/** The tinypool worker of `mmsim compare`: one run per task (see job.ts). */
import 'reflect-metadata';
import type { RunRequest } from '../prepare.js';
import type { JobResult } from './job.js';

// everything else loads after reflect-metadata (tsyringe needs the polyfill at import time)
const { runJob } = await import('./job.js');

export default function run(req: RunRequest): Promise<JobResult> {
  return runJob(req);
}
