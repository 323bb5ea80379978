import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';

/** Write `trace` (anything with toJSON(), e.g. a TraceRecorder) to `file` atomically: a temp file beside it, then rename. */
export async function writeTraceFile(file: string, trace: { toJSON(): unknown }): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(trace.toJSON()));
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}
