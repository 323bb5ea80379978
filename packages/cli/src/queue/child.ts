/**
 * One queue job in a child process of `mmsim worker`, in the job's directory tree (the
 * producer's files under a temporary root, cwd = the producer's cwd under it): reads the payload
 * on stdin, prints its result as JSON on stdout. A compare configuration: compare's runJob (the
 * same function its local pool runs); a check: `mmsim check ARGS --json --out DIR`.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { JobPayload } from './payload.js';

export interface CheckJobOutput {
  code: number;
  stdout: string;
  stderr: string;
}

const payload = JSON.parse(readFileSync(0, 'utf8')) as JobPayload & { outDir?: string };
let out: unknown;
if (payload.kind === 'run') {
  const { runJob } = await import('../compare/job.js');
  out = await runJob(payload.request);
} else {
  const { runCli } = await import('../cli.js');
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    [
      'check',
      ...payload.args,
      '--kernel',
      payload.kernel,
      '--json',
      ...(payload.outDir ? ['--out', payload.outDir] : []),
    ],
    { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, isTTY: false },
  );
  out = { code, stdout, stderr } satisfies CheckJobOutput;
}
process.stdout.write(JSON.stringify(out));
