/**
 * ChampSim traces: the `input_instr` records of ChampSim's inc/trace_instruction.h, 64 bytes
 * little-endian each: ip u64, is_branch u8, branch_taken u8, destination_registers u8[2],
 * source_registers u8[4], destination_memory u64[2] (offset 16), source_memory u64[4]
 * (offset 32). A zero address is an unused slot. Accesses only: an instruction's source_memory
 * are reads, then its destination_memory writes, page-granular, a repeat of the last page and
 * kind folded into `n`; the mappings are synthesized (synth-mmap.ts). Plain, .gz or .xz.
 */
import path from 'node:path';
import { TraceFormatError } from '../errors.js';
import type { AccessRecord, TraceHeader, TraceRecord } from '../records.js';
import { inputError, openInput } from './input.js';
import type { ImportedTrace } from './reader.js';
import { ChunkMapper } from './synth-mmap.js';

export const CHAMPSIM_RECORD = 64;
const DEST = 16;
const NUM_DEST = 2;
const SRC = 32;
const NUM_SRC = 4;
const PID = 1;
/** addresses at or above 2^53 do not fit a trace address (schema.ts) */
const HI_LIMIT = 2 ** 21;

export const CHAMPSIM_NOTES = [
  'imported from a ChampSim trace: data accesses only (source_memory = reads, destination_memory = writes), no instruction fetches, no OS events',
  'mappings are synthesized: one anonymous private rw mmap per 2 MiB-aligned chunk, before its first access',
  'one process (pid 1), one thread; no CPU',
];

export function importChampSim(file: string): ImportedTrace {
  const header: TraceHeader = {
    mmtrace: 1,
    cmd: [path.basename(file)],
    pageSize: 4096,
    recorder: 'champsim-import',
    notes: CHAMPSIM_NOTES,
  };
  return { file, header, [Symbol.asyncIterator]: () => champsimRecords(file) };
}

async function* champsimRecords(file: string): AsyncGenerator<TraceRecord> {
  const input = await openInput(file);
  const maps = new ChunkMapper(PID);
  let runPage = -1;
  let runW = false;
  let runN = 0;
  let out: TraceRecord[] = [];
  const flush = () => {
    if (runN === 0) return;
    const r: AccessRecord = { t: 'access', pid: PID, page: runPage, w: runW };
    if (runN > 1) r.n = runN;
    out.push(r);
    runN = 0;
  };
  const touch = (page: number, w: boolean) => {
    if (page === runPage && w === runW && runN > 0) {
      runN++;
      return;
    }
    flush();
    const m = maps.first(page);
    if (m) out.push(m);
    runPage = page;
    runW = w;
    runN = 1;
  };
  let rest: Buffer | undefined;
  let offset = 0; // byte offset of the next record in the (decompressed) input
  /** one memory slot at `at` in v, at byte `fileAt` of the input */
  const slot = (v: DataView, at: number, w: boolean, fileAt: number) => {
    const lo = v.getUint32(at, true);
    const hi = v.getUint32(at + 4, true);
    if (lo === 0 && hi === 0) return;
    if (hi >= HI_LIMIT)
      throw new TraceFormatError(
        file,
        `byte ${fileAt}`,
        w ? 'destination_memory' : 'source_memory',
        `address 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')} is above 2^53`,
      );
    touch(hi * 2 ** 20 + (lo >>> 12), w);
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let buf = chunk;
      if (rest) {
        buf = Buffer.concat([rest, chunk]);
        rest = undefined;
      }
      const whole = buf.length - (buf.length % CHAMPSIM_RECORD);
      const v = new DataView(buf.buffer, buf.byteOffset, whole);
      for (let at = 0; at < whole; at += CHAMPSIM_RECORD) {
        for (let i = 0; i < NUM_SRC; i++) slot(v, at + SRC + 8 * i, false, offset + SRC + 8 * i);
        for (let i = 0; i < NUM_DEST; i++) slot(v, at + DEST + 8 * i, true, offset + DEST + 8 * i);
        offset += CHAMPSIM_RECORD;
      }
      if (whole < buf.length) rest = Buffer.from(buf.subarray(whole));
      if (out.length > 0) {
        const batch = out;
        out = [];
        yield* batch;
      }
    }
  } catch (e) {
    throw inputError(e, file);
  } finally {
    input.destroy();
  }
  if (rest)
    throw new TraceFormatError(
      file,
      `byte ${offset}`,
      undefined,
      `truncated instruction record: ${rest.length} of ${CHAMPSIM_RECORD} bytes (the file is not a whole number of ChampSim input_instr records)`,
    );
  flush();
  yield* out;
}
