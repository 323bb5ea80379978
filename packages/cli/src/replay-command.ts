/**
 * `mmsim replay TRACE [run options]`: a program trace (@mmsim/program-trace) translated into
 * scenario steps, then run exactly as `mmsim run` runs a file (same options, same output).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CliIO } from './cli.js';
import { runCommand, type RunFlags } from './run-command.js';

export async function replayCommand(
  trace: string,
  flags: RunFlags,
  io: CliIO,
  report: (e: unknown) => number,
): Promise<number> {
  const { openTrace, traceToSteps, TraceFormatError, importTrace } = await import('@mmsim/program-trace');
  // `--from FORMAT`: a foreign trace through its importer (import-command.ts), streamed
  const { from, ...runFlags } = flags as RunFlags & { from?: string };
  const format =
    from === undefined ? undefined : await (await import('./import-command.js')).importFormat('replay', from, io);
  if (from !== undefined && format === undefined) return 2;
  let dir: string | undefined;
  try {
    let steps: Record<string, unknown>[];
    try {
      const reader = format ? await importTrace(format, trace) : await openTrace(trace);
      const out = await traceToSteps(reader);
      for (const w of out.warnings) io.stderr.write(`mmsim: ${trace}: warning: ${w}\n`);
      steps = out.steps;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (e instanceof TraceFormatError || err.code === 'ENOENT' || err.code === 'EISDIR') {
        io.stderr.write(
          `mmsim: ${e instanceof TraceFormatError ? e.message : `${trace}: cannot read the trace (${err.code})`}\n`,
        );
        return 2;
      }
      throw e;
    }
    // the translated scenario goes through the `mmsim run` path unchanged
    dir = await mkdtemp(path.join(tmpdir(), 'mmsim-replay-'));
    const file = path.join(dir, `${path.basename(trace).replace(/[^\w.-]/g, '_')}.json`);
    await writeFile(file, JSON.stringify({ name: path.basename(trace), steps }));
    // the output names the trace, not the temporary scenario file
    const fix = (t: string) => t.split(file).join(JSON.stringify(trace).slice(1, -1));
    const shown: CliIO = {
      ...io,
      stdout: { write: (t: string) => io.stdout.write(fix(t)) },
      // a terminal's progress bar needs the stream itself
      stderr: io.isTTY ? io.stderr : { write: (t: string) => io.stderr.write(fix(t)) },
    };
    return await runCommand(file, runFlags, shown, report);
  } catch (e) {
    return report(e);
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
