import { open as openFile } from 'node:fs/promises';
import { BinaryTraceReader, BinaryTraceWriter, MAGIC } from './binary.js';
import { JsonlTraceReader, JsonlTraceWriter } from './jsonl.js';
import type { TraceHeader, TraceRecord } from './records.js';

export interface TraceReader extends AsyncIterable<TraceRecord> {
  readonly file: string;
  readonly header: TraceHeader;
}
export interface TraceWriter {
  write(r: TraceRecord): Promise<void>;
  close(): Promise<void>;
}
export type TraceForm = 'jsonl' | 'jsonl.gz' | 'binary';

/** The form a path names: `.mmtrace` binary, `.gz` gzipped JSON Lines, otherwise JSON Lines. */
export function formOfPath(path: string): TraceForm {
  if (path.endsWith('.mmtrace')) return 'binary';
  if (path.endsWith('.gz')) return 'jsonl.gz';
  return 'jsonl';
}

/** Open a trace for reading; the form is sniffed from the first bytes (MMTR, gzip 1f 8b, else text). */
export async function openTrace(path: string): Promise<TraceReader> {
  const fh = await openFile(path, 'r');
  const head = Buffer.alloc(4);
  let n: number;
  try {
    n = (await fh.read(head, 0, 4, 0)).bytesRead;
  } finally {
    await fh.close();
  }
  if (n >= 4 && head.equals(MAGIC)) return BinaryTraceReader.open(path);
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return JsonlTraceReader.open(path, { gzip: true });
  if (formOfPath(path) === 'binary') return BinaryTraceReader.open(path); // reports the bad magic
  return JsonlTraceReader.open(path);
}

export function createTraceWriter(path: string, header: TraceHeader, form: TraceForm = formOfPath(path)): TraceWriter {
  if (form === 'binary') return new BinaryTraceWriter(path, header);
  return new JsonlTraceWriter(path, header, { gzip: form === 'jsonl.gz' });
}

/** Copy a trace into another form (streaming); returns the number of records. */
export async function convertTrace(from: string, to: string, form: TraceForm = formOfPath(to)): Promise<number> {
  const reader = await openTrace(from);
  const writer = createTraceWriter(to, reader.header, form);
  let n = 0;
  for await (const r of reader) {
    await writer.write(r);
    n++;
  }
  await writer.close();
  return n;
}
