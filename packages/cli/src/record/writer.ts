/** The JSON Lines trace writer: a header line, one record per line; gzipped when the name ends in `.gz`. */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import type { TraceHeader, TraceRecord } from './records.js';

const CHUNK = 1 << 16;

export class JsonlTraceWriter {
  private buf: string[] = [];
  private size = 0;
  private readonly out: Writable;
  private readonly file: Writable;
  records = 0;

  constructor(
    readonly path: string,
    header: TraceHeader,
  ) {
    this.file = createWriteStream(path);
    if (path.endsWith('.gz')) {
      const gz = createGzip();
      gz.pipe(this.file);
      this.out = gz;
    } else this.out = this.file;
    this.out.write(`${JSON.stringify(header)}\n`);
  }

  write(r: TraceRecord): void {
    const s = JSON.stringify(r);
    this.buf.push(s);
    this.size += s.length + 1;
    this.records++;
  }

  /** Hand the buffered lines to the stream; resolves once it has room again (backpressure). */
  async drain(force = false): Promise<void> {
    if (this.size === 0 || (!force && this.size < CHUNK)) return;
    const ok = this.out.write(`${this.buf.join('\n')}\n`);
    this.buf = [];
    this.size = 0;
    if (!ok) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    await this.drain(true);
    const done = once(this.file, 'close');
    this.out.end();
    await done;
  }
}

/**
 * The binary form written as the records come (no JSON Lines staging file): the same
 * write / drain / close as JsonlTraceWriter over @mmsim/program-trace's BinaryTraceWriter.
 */
export class BinaryRecordWriter {
  private pending: TraceRecord[] = [];
  records = 0;
  constructor(private readonly w: { write(r: TraceRecord): Promise<void>; close(): Promise<void> }) {}

  write(r: TraceRecord): void {
    this.pending.push(r);
    this.records++;
  }

  async drain(force = false): Promise<void> {
    if (this.pending.length === 0 || (!force && this.pending.length < 4096)) return;
    const batch = this.pending;
    this.pending = [];
    for (const r of batch) await this.w.write(r);
  }

  async close(): Promise<void> {
    await this.drain(true);
    await this.w.close();
  }
}
