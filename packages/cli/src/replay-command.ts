/**
 * `mmsim replay TRACE [--from FORMAT] [run options]`: a scenario of one `replay` step (its expansion:
 * @mmsim/program-trace's expandReplaySteps()), run exactly as `mmsim run` runs a file (same
 * options, same output).
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
  // `--from FORMAT`: a foreign trace through its importer (the replay step's `from`)
  const { from, ...runFlags } = flags as RunFlags & { from?: string };
  if (
    from !== undefined &&
    (await (await import('./import-command.js')).importFormat('replay', from, io)) === undefined
  )
    return 2;
  let dir: string | undefined;
  try {
    const abs = path.resolve(trace);
    dir = await mkdtemp(path.join(tmpdir(), 'mmsim-replay-'));
    const file = path.join(dir, `${path.basename(trace).replace(/[^\w.-]/g, '_')}.json`);
    await writeFile(
      file,
      JSON.stringify({
        name: path.basename(trace),
        steps: [{ op: 'replay', trace: abs, ...(from !== undefined ? { from } : {}) }],
      }),
    );
    // the output names the trace, not the temporary scenario file
    const as = JSON.stringify(trace).slice(1, -1);
    const fix = (t: string) => t.split(file).join(as).split(abs).join(as);
    const shown: CliIO = {
      ...io,
      stdout: { write: (t: string) => io.stdout.write(fix(t)) },
      // a terminal's progress bar needs the stream itself
      stderr: io.isTTY ? io.stderr : { write: (t: string) => io.stderr.write(fix(t)) },
    };
    return await runCommand(file, runFlags, shown, (e) => {
      // an unreadable or malformed trace: its own message (file, line or byte offset, field)
      const cause = (e as { cause?: NodeJS.ErrnoException & { file?: string } }).cause;
      if (cause && (cause.name === 'TraceFormatError' || typeof cause.code === 'string')) {
        const msg = cause.name === 'TraceFormatError' ? cause.message : `${abs}: cannot read the trace (${cause.code})`;
        io.stderr.write(`mmsim: ${fix(msg)}\n`);
        return 2; // EXIT.badInput
      }
      return report(e);
    });
  } catch (e) {
    return report(e);
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
