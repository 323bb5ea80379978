/**
 * @mmsim/program-trace: the mmsim program trace (a recorded program's mmap/munmap/.../access
 * stream) in JSON Lines (optionally gzip) and the compact binary `.mmtrace` form.
 * Spec: docs/trace-format.md.
 */
export { type BinaryReadOptions, BinaryTraceReader, BinaryTraceWriter, MAGIC, VERSION } from './binary.js';
export type { RecordSink } from './codec.js';
export { ACCESS, COLUMN_ROWS, RecordColumns } from './columns.js';
export { crc32 } from './crc32.js';
export { TraceFormatError } from './errors.js';
export { formatHeader, JsonlTraceReader, JsonlTraceWriter } from './jsonl.js';
export { mergeThreadStreams } from './merge.js';
export {
  convertTrace,
  createTraceWriter,
  formOfPath,
  openTrace,
  type TraceForm,
  type TraceReader,
  type TraceWriter,
} from './open.js';
export * from './records.js';
export { headerSchema, parseHeader, parseRecord, recordSchema } from './schema.js';
export { type ReplayOptions, type ReplaySteps, TraceReplayer, traceToSteps } from './replay.js';
