import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createDeflate, createInflate } from 'node:zlib';
import {
  BadRecord,
  decodeRecord,
  decodeVisit,
  encodeRecord,
  MAX_RECORD,
  type RecordSink,
  ThreadDeltas,
} from './codec.js';
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

/** Streaming reader of the binary form: header, then records by async iteration (or batches). */
export class BinaryTraceReader implements AsyncIterable<TraceRecord> {
  private constructor(
    readonly file: string,
    readonly header: TraceHeader,
    /** the record count the header announces */
    readonly count: number,
    private readonly crc: number,
    private readonly payloadStart: number,
  ) {}

  static async open(file: string): Promise<BinaryTraceReader> {
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
      return new BinaryTraceReader(file, header, count, crc, FIXED_HEADER + headerLen);
    } finally {
      await fh.close();
    }
  }

  /**
   * Decoded records in batches (one per inflated chunk): the pull API, cheaper than one
   * await per record. The checksum and the count are verified when the payload ends.
   */
  async *batches(): AsyncGenerator<TraceRecord[]> {
    let out: TraceRecord[] = [];
    for await (const _ of this.pump((src, deltas) => {
      out.push(decodeRecord(src, deltas));
    })) {
      if (out.length) yield out;
      out = [];
    }
  }

  /**
   * The fastest read: every access record goes to `sink.access` as numbers (no object per
   * record), the other kinds to `sink.record` as objects. Resolves with the record count once
   * the checksum and the count are verified.
   */
  async visit(sink: RecordSink): Promise<number> {
    let n = 0;
    for await (const count of this.pump((src, deltas) => decodeVisit(src, deltas, sink))) n = count;
    return n;
  }

  /** Stream, checksum and inflate the payload; decode each chunk with `one`; yield the count so far after each chunk. */
  private async *pump(one: (src: ByteSource, deltas: ThreadDeltas) => void): AsyncGenerator<number> {
    const raw: Readable = createReadStream(this.file, { start: this.payloadStart, highWaterMark: CHUNK });
    let crc = 0;
    raw.on('data', (c) => {
      crc = crc32(c as Buffer, crc);
    });
    const inflate = createInflate({ chunkSize: CHUNK });
    raw.on('error', (e) => inflate.destroy(e));
    raw.pipe(inflate);
    const src = new ByteSource();
    const deltas = new ThreadDeltas();
    let index = 0;
    let carry: Uint8Array | undefined;
    const decodeUpTo = (limit: number): void => {
      let at = src.pos;
      try {
        while (src.pos < limit) {
          at = src.pos;
          one(src, deltas);
          index++;
        }
      } catch (e) {
        if (e instanceof Truncated) {
          src.pos = at;
          return;
        }
        if (e instanceof BadRecord) throw new TraceFormatError(this.file, `record ${index}`, e.field, e.message);
        if (e instanceof RangeError) throw new TraceFormatError(this.file, `record ${index}`, undefined, e.message);
        throw e;
      }
    };
    try {
      for await (const chunk of inflate as AsyncIterable<Buffer>) {
        let buf: Uint8Array = chunk;
        if (carry?.length) {
          buf = new Uint8Array(carry.length + chunk.length);
          buf.set(carry, 0);
          buf.set(chunk, carry.length);
        }
        src.buf = buf;
        src.pos = 0;
        src.end = buf.length;
        // a record may straddle chunks: stop MAX_RECORD short of the end, carry the rest
        decodeUpTo(buf.length - MAX_RECORD);
        carry = buf.subarray(src.pos);
        yield index;
      }
    } catch (e) {
      if (e instanceof TraceFormatError) throw e;
      const err = e as NodeJS.ErrnoException;
      if (err.code?.startsWith('Z_'))
        throw new TraceFormatError(
          this.file,
          `record ${index}`,
          undefined,
          `corrupt or truncated payload (${err.message})`,
        );
      throw e;
    } finally {
      raw.destroy();
    }
    if (carry?.length) {
      src.buf = carry;
      src.pos = 0;
      src.end = carry.length;
      decodeUpTo(carry.length);
      yield index;
      if (src.pos < src.end)
        throw new TraceFormatError(
          this.file,
          `record ${index}`,
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
    if (index !== this.count)
      throw new TraceFormatError(
        this.file,
        'payload',
        'count',
        `truncated: ${index} records, the header says ${this.count}`,
      );
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TraceRecord> {
    for await (const batch of this.batches()) yield* batch;
  }
}

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
