/**
 * One run of `mmsim compare`, the same in a worker thread and in-process: the request → the
 * `mmsim run --json` document as text (so both paths give byte-identical results).
 */
import { errorText } from '../errors.js';
import { isFlagError } from '../flag-error.js';
import type { RunRequest } from '../prepare.js';
import { runFile } from '../run.js';

export interface JobResult {
  /** the `mmsim run --json` document, JSON.stringify(doc, null, 2) */
  document?: string;
  /** a run that failed: what `mmsim run` would print, and its exit code */
  error?: { message: string; exit: number };
}

export async function runJob(req: RunRequest): Promise<JobResult> {
  try {
    const { document } = await runFile(req.file, req);
    return { document: JSON.stringify(document, null, 2) };
  } catch (e) {
    const bad = isFlagError(e) || (e instanceof Error && e.name === 'ScenarioError');
    return { error: { message: bad ? (e as Error).message : `internal error: ${errorText(e)}`, exit: bad ? 2 : 3 } };
  }
}
