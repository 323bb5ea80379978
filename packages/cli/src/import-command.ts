/**
 * `mmsim import --from champsim|lackey|strace IN [-o OUT]`: a foreign trace (a ChampSim trace, a
 * valgrind lackey log, an strace log) into an mmsim trace, streamed (@mmsim/program-trace
 * importers; docs/trace-format.md "Importers"). The output form follows OUT's name: `.mmtrace`
 * binary, `.gz` gzipped JSON Lines, otherwise JSON Lines.
 * Exit codes: 0 imported, 2 bad input (unknown format, unreadable or malformed IN), 3 internal error.
 */
import { rm } from 'node:fs/promises';
import type { CliIO } from './cli.js';

export interface ImportFlags {
  from?: string;
  output?: string;
}

/** `--from FORMAT` checked: the format, or the usage error printed (exit 2). */
export async function importFormat(
  command: string,
  from: string | undefined,
  io: CliIO,
): Promise<import('@mmsim/program-trace').ImportFormat | undefined> {
  const { IMPORT_FORMATS, isImportFormat } = await import('@mmsim/program-trace');
  if (from !== undefined && isImportFormat(from)) return from;
  io.stderr.write(
    `mmsim: ${command}: ${from === undefined ? 'missing --from FORMAT' : `unknown format "${from}"`} (one of ${IMPORT_FORMATS.join(', ')})\n`,
  );
  return undefined;
}

/** A bad input (a TraceFormatError or an unreadable file) printed, exit 2; anything else rethrown. */
export async function reportBadTrace(e: unknown, file: string, io: CliIO): Promise<number> {
  const { TraceFormatError } = await import('@mmsim/program-trace');
  const err = e as NodeJS.ErrnoException;
  if (e instanceof TraceFormatError) io.stderr.write(`mmsim: ${e.message}\n`);
  else if (err?.code === 'ENOENT' || err?.code === 'EISDIR' || err?.code === 'EACCES')
    io.stderr.write(`mmsim: ${file}: cannot read the trace (${err.code})\n`);
  else throw e;
  return 2;
}

export async function importCommand(input: string, flags: ImportFlags, io: CliIO): Promise<number> {
  const format = await importFormat('import', flags.from, io);
  if (format === undefined) return 2;
  const { createTraceWriter, importTrace } = await import('@mmsim/program-trace');
  const out = flags.output ?? `${input}.mmtrace`;
  let writer: import('@mmsim/program-trace').TraceWriter | undefined;
  const counts = { records: 0, accesses: 0, mmaps: 0 };
  try {
    const trace = await importTrace(format, input);
    writer = createTraceWriter(out, trace.header);
    for await (const r of trace) {
      await writer.write(r);
      counts.records++;
      if (r.t === 'access') counts.accesses++;
      else if (r.t === 'mmap') counts.mmaps++;
    }
    await writer.close();
  } catch (e) {
    if (writer) await writer.close().catch(() => {});
    await rm(out, { force: true });
    return reportBadTrace(e, input, io);
  }
  io.stderr.write(
    `mmsim: import: ${counts.records} records (${counts.accesses} accesses, ${counts.mmaps} mmaps) from ${input} (${format}) in ${out}\n`,
  );
  return 0;
}
