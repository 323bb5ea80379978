import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { TraceFormatError } from './errors.js';
import { formatRecord, type TraceHeader, type TraceRecord } from './records.js';
import { parseHeader, parseRecord } from './schema.js';

/** The canonical header line: `mmtrace` first, then the header's other keys in their order. */
export function formatHeader(h: TraceHeader): string {
  const { mmtrace, ...rest } = h;
  return JSON.stringify({ mmtrace, ...rest });
}

/** Streaming JSON Lines writer (gzip when the path ends in `.gz` or `gzip` is set). */
export class JsonlTraceWriter {
  private readonly out: Writable;
  private readonly sink: Writable;
  private buf = '';
  constructor(path: string, header: TraceHeader, opts: { gzip?: boolean } = {}) {
    this.sink = createWriteStream(path);
    if (opts.gzip ?? path.endsWith('.gz')) {
      const gz = createGzip();
      gz.pipe(this.sink);
      this.out = gz;
    } else this.out = this.sink;
    this.buf = `${formatHeader(header)}\n`;
  }
  /** Append a record; resolves at once unless the stream asks to wait (backpressure). */
  async write(r: TraceRecord): Promise<void> {
    this.buf += `${formatRecord(r)}\n`;
    if (this.buf.length >= 1 << 16) {
      const ok = this.out.write(this.buf);
      this.buf = '';
      if (!ok) await once(this.out, 'drain');
    }
  }
  async close(): Promise<void> {
    if (this.buf) this.out.write(this.buf);
    this.buf = '';
    this.out.end();
    await finished(this.sink);
  }
}

/** Streaming JSON Lines reader: the header, then the records by async iteration. */
export class JsonlTraceReader implements AsyncIterable<TraceRecord> {
  private constructor(
    readonly file: string,
    readonly header: TraceHeader,
    private readonly lines: AsyncIterator<string>,
    private lineNo: number,
    private readonly source: Readable,
  ) {}

  static async open(file: string, opts: { gzip?: boolean } = {}): Promise<JsonlTraceReader> {
    const raw = createReadStream(file);
    let input: Readable = raw;
    if (opts.gzip) {
      const gz = createGunzip();
      raw.on('error', (e) => gz.destroy(e));
      input = raw.pipe(gz);
    }
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })[Symbol.asyncIterator]();
    let lineNo = 0;
    let first: IteratorResult<string>;
    try {
      do {
        first = await lines.next();
        lineNo++;
      } while (!first.done && first.value.trim() === '');
    } catch (e) {
      throw wrapIo(file, `line ${lineNo}`, e);
    }
    if (first.done) throw new TraceFormatError(file, 'line 1', undefined, 'empty trace (no header line)');
    const header = parseHeader(parseJson(first.value, file, lineNo), file, `line ${lineNo}`);
    return new JsonlTraceReader(file, header, lines, lineNo, input);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TraceRecord> {
    try {
      for (;;) {
        let next: IteratorResult<string>;
        try {
          next = await this.lines.next();
        } catch (e) {
          throw wrapIo(this.file, `line ${this.lineNo + 1}`, e);
        }
        if (next.done) return;
        this.lineNo++;
        const text = next.value;
        if (text.trim() === '') continue;
        yield parseRecord(parseJson(text, this.file, this.lineNo), this.file, `line ${this.lineNo}`);
      }
    } finally {
      this.source.destroy();
    }
  }
}

function parseJson(text: string, file: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TraceFormatError(file, `line ${line}`, undefined, `not JSON: ${(e as Error).message}`);
  }
}

function wrapIo(file: string, where: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'Z_BUF_ERROR' || err.code === 'Z_DATA_ERROR')
    return new TraceFormatError(file, where, undefined, `corrupt or truncated gzip stream (${err.message})`);
  return err;
}
