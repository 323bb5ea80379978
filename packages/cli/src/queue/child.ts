/**
 * The job process of `mmsim worker` (one per `--jobs` slot, kept for many jobs): each IPC
 * message is a job, run with the job's directory tree as cwd (the producer's files under a
 * temporary root, cwd = the producer's cwd under it); the answer is the result as JSON text.
 * A compare configuration: compare's runJob (what its local pool runs); a check:
 * `mmsim check ARGS --kernel K --json [--out DIR]`.
 */
import 'reflect-metadata';
import type { JobPayload } from './payload.js';

export interface ChildJob {
  id: number;
  cwd: string;
  payload: JobPayload & { outDir?: string };
}

export type ChildAnswer = { id: number; text: string } | { id: number; error: string };

async function handle(payload: ChildJob['payload']): Promise<unknown> {
  if (payload.kind === 'run') {
    const { runJob } = await import('../compare/job.js');
    return runJob(payload.request);
  }
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
  return { code, stdout, stderr };
}

// one job at a time: the worker sends the next only after the answer
process.on('message', (m: ChildJob) => {
  void (async () => {
    let answer: ChildAnswer;
    try {
      process.chdir(m.cwd);
      answer = { id: m.id, text: JSON.stringify(await handle(m.payload)) };
    } catch (e) {
      answer = { id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    }
    process.send!(answer);
  })();
});
// the worker gone (SIGKILL): nothing to answer to
process.on('disconnect', () => process.exit(0));
