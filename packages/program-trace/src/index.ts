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
export { type ExpandOptions, expandReplaySteps, hasReplaySteps, type ReplayExpansion } from './expand.js';
export { CHAMPSIM_RECORD, importChampSim } from './import/champsim.js';
export { IMPORT_FORMATS, type ImportFormat, importTrace, isImportFormat } from './import/index.js';
export { importLackey } from './import/lackey.js';
export { type ConverterStats, LogConverter, PAGE_SHIFT } from './import/lackey-converter.js';
export { protName, type RecordEmit, SyscallDecoder } from './import/lackey-syscalls.js';
export type { ImportedTrace } from './import/reader.js';
export { importStrace, splitArgs } from './import/strace.js';
export { CHUNK_SIZE, ChunkMapper } from './import/synth-mmap.js';
