import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createDeflate, createInflate } from 'node:zlib';
import { BadRecord, decodeRecord, encodeRecord, MAX_RECORD, type RecordSink, ThreadDeltas } from './codec.js';
import { ACCESS, COLUMN_ROWS, decodeColumns, RecordColumns } from './columns.js';
import { crc32 } from './crc32.js';
import { TraceFormatError } from './errors.js';
import { formatHeader } from './jsonl.js';
import type { TraceHeader, TraceRecord } from './records.js';
import { parseHeader } from './schema.js';
import { ByteSink, ByteSource, Truncated } from './varint.js';

/** `MMTR`: the first four bytes of a binary trace. */
export const MAGIC = Buffer.from('MMTR', 'latin1');
export const VERSION = 1;
/** magic 4, version u16, flags u16, crc32 u32, header length u32, record count u64 */
export const FIXED_HEADER = 24;
const CHUNK = 1 << 16;
/** inflated bytes per chunk the reader decodes (zlib `chunkSize`) */
const INFLATE_CHUNK = 1 << 20;
/** compressed bytes per file read */
const RAW_CHUNK = 1 << 18;

/**
 * Streaming writer of the binary form. The fixed header is written first with a zero
 * checksum and count, then patched in place by close() (so the trace is never held in memory).
 */
export class BinaryTraceWriter {
  private readonly sink: Writable;
  private readonly deflate = createDeflate({ level: 6 });
  private out = new ByteSink(CHUNK + MAX_RECORD);
  private readonly deltas = new ThreadDeltas();
  private crc = 0;
  private count = 0;
  private readonly headerBytes: Buffer;
  constructor(
    readonly path: string,
    header: TraceHeader,
  ) {
    this.headerBytes = Buffer.from(formatHeader(header), 'utf8');
    this.sink = createWriteStream(path);
    this.sink.write(fixedHeader(0, this.headerBytes.length, 0));
    this.sink.write(this.headerBytes);
    this.deflate.on('data', (c: Buffer) => {
      this.crc = crc32(c, this.crc);
    });
    this.deflate.pipe(this.sink);
  }
  async write(r: TraceRecord): Promise<void> {
    encodeRecord(this.out, this.deltas, r);
    this.count++;
    if (this.out.pos >= CHUNK) {
      const ok = this.deflate.write(this.out.buf.subarray(0, this.out.pos));
      this.out = new ByteSink(CHUNK + MAX_RECORD);
      if (!ok) await once(this.deflate, 'drain');
    }
  }
  async close(): Promise<void> {
    if (this.out.pos) this.deflate.write(this.out.buf.subarray(0, this.out.pos));
    this.deflate.end();
    await finished(this.sink);
    const fh = await open(this.path, 'r+');
    try {
      await fh.write(fixedHeader(this.crc, this.headerBytes.length, this.count), 0, FIXED_HEADER, 0);
    } finally {
      await fh.close();
    }
  }
}

function fixedHeader(crc: number, headerLen: number, count: number): Buffer {
  const b = Buffer.alloc(FIXED_HEADER);
  MAGIC.copy(b, 0);
  b.writeUInt16LE(VERSION, 4);
  b.writeUInt16LE(0, 6);
  b.writeUInt32LE(crc >>> 0, 8);
  b.writeUInt32LE(headerLen, 12);
  b.writeBigUInt64LE(BigInt(count), 16);
  return b;
}

export interface BinaryReadOptions {
  /** bytes of an inflated chunk (zlib `chunkSize`; default 1 MiB): the decoder's window */
  chunkSize?: number;
}

/** Cursor of one read of the payload: the window being decoded, the delta state, records so far. */
class PayloadCursor {
  readonly src = new ByteSource();
  readonly deltas = new ThreadDeltas();
  /** records decoded before the current batch */
  index = 0;
}

/** Streaming reader of the binary form: header, then records by async iteration (or batches, or columns). */
export class BinaryTraceReader implements AsyncIterable<TraceRecord> {
  private readonly chunkSize: number;
  private constructor(
    readonly file: string,
    readonly header: TraceHeader,
    /** the record count the header announces */
    readonly count: number,
    private readonly crc: number,
    private readonly payloadStart: number,
    options: BinaryReadOptions,
  ) {
    this.chunkSize = Math.max(64, options.chunkSize ?? INFLATE_CHUNK);
  }

  static async open(file: string, options: BinaryReadOptions = {}): Promise<BinaryTraceReader> {
    const fh = await open(file, 'r');
    try {
      const fixed = Buffer.alloc(FIXED_HEADER);
      const { bytesRead } = await fh.read(fixed, 0, FIXED_HEADER, 0);
      if (bytesRead < 4 || !fixed.subarray(0, 4).equals(MAGIC))
        throw new TraceFormatError(file, 'header', 'magic', 'bad magic (not an mmsim binary trace: expected "MMTR")');
      if (bytesRead < FIXED_HEADER) throw new TraceFormatError(file, 'header', undefined, 'truncated header');
      const version = fixed.readUInt16LE(4);
      if (version !== VERSION)
        throw new TraceFormatError(
          file,
          'header',
          'version',
          `unsupported version ${version} (this reader knows ${VERSION})`,
        );
      const crc = fixed.readUInt32LE(8);
      const headerLen = fixed.readUInt32LE(12);
      const count = Number(fixed.readBigUInt64LE(16));
      const hb = Buffer.alloc(headerLen);
      const got = (await fh.read(hb, 0, headerLen, FIXED_HEADER)).bytesRead;
      if (got < headerLen) throw new TraceFormatError(file, 'header', undefined, 'truncated header JSON');
      let json: unknown;
      try {
        json = JSON.parse(hb.toString('utf8'));
      } catch (e) {
        throw new TraceFormatError(file, 'header', undefined, `header is not JSON: ${(e as Error).message}`);
      }
      const header = parseHeader(json, file, 'header');
      return new BinaryTraceReader(file, header, count, crc, FIXED_HEADER + headerLen, options);
    } finally {
      await fh.close();
    }
  }

  /**
   * Decoded records in batches (about 64 KiB of record bytes each): the pull API, cheaper than one
   * await per record. The checksum and the count are verified when the payload ends.
   */
  async *batches(): AsyncGenerator<TraceRecord[]> {
    const cur = new PayloadCursor();
    const { src, deltas } = cur;
    for await (const limit of this.pump(cur)) {
      // batches of about CHUNK bytes of records: short-lived arrays the young generation takes
      while (src.pos < limit) {
        const stop = Math.min(limit, src.pos + CHUNK);
        const out: TraceRecord[] = [];
        let at = src.pos;
        try {
          while (src.pos < stop) {
            at = src.pos;
            out.push(decodeRecord(src, deltas));
          }
        } catch (e) {
          if (!(e instanceof Truncated)) throw this.recordError(e, cur.index + out.length);
          src.pos = at;
        }
        cur.index += out.length;
        if (!out.length) break;
        yield out;
      }
    }
  }

  /**
   * The fast read: records as columns of typed arrays (RecordColumns, `rows` a batch), accesses
   * decoded straight from the inflated bytes with no object each. The batch object and its
   * arrays are reused: read a batch before asking for the next. The checksum and the count are
   * verified when the payload ends.
   */
  async *columns(rows = COLUMN_ROWS): AsyncGenerator<RecordColumns> {
    const cur = new PayloadCursor();
    const { src, deltas } = cur;
    const cols = new RecordColumns(rows);
    for await (const limit of this.pump(cur)) {
      while (src.pos < limit) {
        cols.clear();
        try {
          decodeColumns(src, deltas, cols, limit);
        } catch (e) {
          // the records before the bad one are delivered, then the error
          if (cols.length) yield cols;
          throw this.recordError(e, cur.index + cols.length);
        }
        if (!cols.length) break; // a record cut by the end of the payload
        cur.index += cols.length;
        yield cols;
      }
    }
  }

  /**
   * Every access record goes to `sink.access` as numbers (no object per record), the other
   * kinds to `sink.record` as objects, in file order (through columns()). Resolves with the
   * record count once the checksum and the count are verified.
   */
  async visit(sink: RecordSink): Promise<number> {
    let count = 0;
    for await (const c of this.columns()) {
      const { kind, pid, tid, page, w, n, ref, others } = c;
      for (let i = 0; i < c.length; i++) {
        if (kind[i] === ACCESS)
          sink.access(pid[i] as number, tid[i] as number, page[i] as number, w[i] as number, n[i] as number);
        else sink.record(others[ref[i] as number] as TraceRecord);
      }
      count += c.length;
    }
    return count;
  }

  private recordError(e: unknown, index: number): unknown {
    if (e instanceof BadRecord) return new TraceFormatError(this.file, `record ${index}`, e.field, e.message);
    if (e instanceof RangeError) return new TraceFormatError(this.file, `record ${index}`, undefined, e.message);
    return e;
  }

  /**
   * Stream, checksum and inflate the payload into one reused window (`cur.src`: the bytes a
   * record left undecoded at the end of the last chunk, then the next chunk); yield, per
   * chunk, the limit up to which the caller decodes (MAX_RECORD short of the window's end, so
   * no record below it is cut; the window's end for the last). The caller leaves `src.pos` at
   * the first byte it did not decode and counts records in `cur.index`.
   */
  private async *pump(cur: PayloadCursor): AsyncGenerator<number> {
    const raw: Readable = createReadStream(this.file, { start: this.payloadStart, highWaterMark: RAW_CHUNK });
    let crc = 0;
    raw.on('data', (c) => {
      crc = crc32(c as Buffer, crc);
    });
    const inflate = createInflate({ chunkSize: this.chunkSize });
    raw.on('error', (e) => inflate.destroy(e));
    raw.pipe(inflate);
    const { src } = cur;
    let work = new Uint8Array(this.chunkSize + MAX_RECORD);
    src.buf = work;
    src.pos = 0;
    src.end = 0;
    try {
      for await (const chunk of inflate as AsyncIterable<Buffer>) {
        const carry = src.end - src.pos;
        if (carry + chunk.length > work.length) {
          const bigger = new Uint8Array(carry + chunk.length);
          bigger.set(work.subarray(src.pos, src.end), 0);
          work = bigger;
        } else if (carry) work.copyWithin(0, src.pos, src.end);
        work.set(chunk, carry);
        src.buf = work;
        src.pos = 0;
        src.end = carry + chunk.length;
        yield src.end - MAX_RECORD;
      }
    } catch (e) {
      if (e instanceof TraceFormatError) throw e;
      const err = e as NodeJS.ErrnoException;
      if (err.code?.startsWith('Z_'))
        throw new TraceFormatError(
          this.file,
          `record ${cur.index}`,
          undefined,
          `corrupt or truncated payload (${err.message})`,
        );
      throw e;
    } finally {
      raw.destroy();
    }
    if (src.pos < src.end) {
      yield src.end;
      if (src.pos < src.end)
        throw new TraceFormatError(
          this.file,
          `record ${cur.index}`,
          undefined,
          'truncated: the payload ends inside a record',
        );
    }
    if (crc !== this.crc)
      throw new TraceFormatError(
        this.file,
        'payload',
        'checksum',
        `checksum mismatch (header says ${hex(this.crc)}, payload has ${hex(crc)})`,
      );
    if (cur.index !== this.count)
      throw new TraceFormatError(
        this.file,
        'payload',
        'count',
        `truncated: ${cur.index} records, the header says ${this.count}`,
      );
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TraceRecord> {
    for await (const batch of this.batches()) yield* batch;
  }
}

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
