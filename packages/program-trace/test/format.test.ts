import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BinaryTraceReader,
  convertTrace,
  createTraceWriter,
  formatRecord,
  mergeThreadStreams,
  openTrace,
  PROTS,
  type TraceHeader,
  type TraceRecord,
} from '../src/index.js';
import { crc32Fallback } from '../src/crc32.js';
import { crc32 } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, 'fixtures', 'small.mmtrace.jsonl');
const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-program-trace-'));
let seq = 0;
const tmp = (ext: string) => path.join(dir, `t${seq++}${ext}`);

async function readAll(file: string): Promise<{ header: TraceHeader; records: TraceRecord[] }> {
  const r = await openTrace(file);
  const records: TraceRecord[] = [];
  for await (const rec of r) records.push(rec);
  return { header: r.header, records };
}
async function writeAll(file: string, header: TraceHeader, records: TraceRecord[]): Promise<void> {
  const w = createTraceWriter(file, header);
  for (const r of records) await w.write(r);
  await w.close();
}
async function failure(file: string): Promise<string> {
  try {
    await readAll(file);
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

describe('program trace: JSON Lines', () => {
  it('reads the fixture: the header and every record, defaults left absent', async () => {
    const { header, records } = await readAll(fixture);
    expect(header.cmd).toEqual(['./prog', 'arg']);
    expect(records).toHaveLength(15);
    expect(records[2]).toEqual({ t: 'access', pid: 1, page: 256, w: true });
    expect(records[3]).toEqual({ t: 'access', pid: 1, page: 257, n: 3 });
    expect(records[12]).toEqual({ t: 'access', pid: 1, tid: 5, page: 8192 });
  });
  it('writes the canonical text: the fixture reads back byte for byte (plain and gzip)', async () => {
    const text = readFileSync(fixture, 'utf8');
    const { header, records } = await readAll(fixture);
    for (const ext of ['.jsonl', '.jsonl.gz']) {
      const out = tmp(ext);
      await writeAll(out, header, records);
      const back = tmp('.jsonl');
      await convertTrace(out, back);
      expect(readFileSync(back, 'utf8')).toBe(text);
    }
  });
  it('names the file, the line and the field of a bad record', async () => {
    const f = tmp('.jsonl');
    writeFileSync(f, '{"mmtrace":1}\n{"t":"access","pid":1,"page":3}\n{"t":"access","pid":1,"page":-1}\n');
    expect(await failure(f)).toBe(`${f}: line 3 field "page": Too small: expected number to be >=0`);
  });
  it('rejects an unknown record kind, an unknown field, bad JSON and a missing header', async () => {
    const f = tmp('.jsonl');
    writeFileSync(f, '{"mmtrace":1}\n{"t":"mlock","pid":1}\n');
    expect(await failure(f)).toMatch(/line 2 field "t": unknown record kind "mlock"/);
    writeFileSync(f, '{"mmtrace":1}\n{"t":"exit","pid":1,"code":3}\n');
    expect(await failure(f)).toMatch(/line 2 field "code": unknown field/);
    writeFileSync(f, '{"mmtrace":1}\n{"t":"exit",\n');
    expect(await failure(f)).toMatch(/line 2: not JSON/);
    writeFileSync(f, '{"t":"exit","pid":1}\n');
    expect(await failure(f)).toMatch(/line 1 field "mmtrace"/);
  });
});

describe('program trace: binary form', () => {
  it('starts with MMTR, is smaller than the text, and converts back to the same text', async () => {
    const text = readFileSync(fixture, 'utf8');
    const bin = tmp('.mmtrace');
    expect(await convertTrace(fixture, bin)).toBe(15);
    const bytes = readFileSync(bin);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('MMTR');
    expect(bytes.readUInt16LE(4)).toBe(1);
    expect(Number(bytes.readBigUInt64LE(16))).toBe(15);
    const back = tmp('.jsonl');
    await convertTrace(bin, back);
    expect(readFileSync(back, 'utf8')).toBe(text);
  });
  it('streams a trace larger than one chunk (records straddle inflated chunks)', async () => {
    const bin = tmp('.mmtrace');
    const records: TraceRecord[] = [];
    for (let i = 0; i < 200_000; i++) {
      const pid = 1 + (i % 3);
      records.push({ t: 'access', pid, page: (i * 7919) % 1_000_003, w: i % 5 === 0, n: 1 + (i % 4) });
      if (i % 1000 === 0)
        records.push({ t: 'mmap', pid, addr: i * 4096, len: 4096, prot: 'rw', path: `/lib/${'x'.repeat(i % 3000)}` });
    }
    await writeAll(bin, { mmtrace: 1 }, records);
    const { records: back } = await readAll(bin);
    expect(back.length).toBe(records.length);
    expect(back).toEqual(records);
    // visit(): the same records, accesses as numbers
    const seen: TraceRecord[] = [];
    const n = await (await BinaryTraceReader.open(bin)).visit({
      access(pid, tid, page, w, n) {
        const r: TraceRecord = { t: 'access', pid, page };
        if (tid >= 0) r.tid = tid;
        if (w >= 0) r.w = w === 1;
        if (n > 0) r.n = n;
        seen.push(r);
      },
      record: (r) => seen.push(r),
    });
    expect(n).toBe(records.length);
    expect(seen).toEqual(records);
  });
  it('bad magic, bad version, bad checksum, truncated payload, unknown kind tag: clear errors', async () => {
    const bin = tmp('.mmtrace');
    await convertTrace(fixture, bin);
    const good = readFileSync(bin);
    const f = tmp('.mmtrace');
    const bad = (mutate: (b: Buffer) => unknown) => {
      const b = Buffer.from(good);
      const r = mutate(b);
      writeFileSync(f, Buffer.isBuffer(r) ? r : b);
      return failure(f);
    };
    expect(
      await bad((b) => {
        b.write('MMTX', 0, 'latin1');
      }),
    ).toBe(`${f}: header field "magic": bad magic (not an mmsim binary trace: expected "MMTR")`);
    expect(
      await bad((b) => {
        b.writeUInt16LE(9, 4);
      }),
    ).toMatch(/header field "version": unsupported version 9/);
    expect(
      await bad((b) => {
        b.writeUInt32LE((b.readUInt32LE(8) ^ 1) >>> 0, 8);
      }),
    ).toMatch(/payload field "checksum": checksum mismatch/);
    expect(await bad((b) => b.subarray(0, b.length - 5))).toMatch(/corrupt or truncated payload|truncated/);
    expect(await bad((b) => b.subarray(0, 10))).toMatch(/header: truncated header/);
    // a well-formed payload with a record count the header does not match
    expect(
      await bad((b) => {
        b.writeBigUInt64LE(16n, 16);
      }),
    ).toBe(`${f}: payload field "count": truncated: 15 records, the header says 16`);
  });
  it('an unknown kind tag in a well-formed payload names the record', async () => {
    const { deflateSync } = await import('node:zlib');
    const header = Buffer.from('{"mmtrace":1}');
    const payload = deflateSync(Buffer.from([0x08, 1, 0x0e, 1]));
    const fixed = Buffer.alloc(24);
    fixed.write('MMTR', 0, 'latin1');
    fixed.writeUInt16LE(1, 4);
    fixed.writeUInt32LE(crc32(payload), 8);
    fixed.writeUInt32LE(header.length, 12);
    fixed.writeBigUInt64LE(2n, 16);
    const f = tmp('.mmtrace');
    writeFileSync(f, Buffer.concat([fixed, header, payload]));
    expect(await failure(f)).toBe(`${f}: record 1 field "t": unknown record kind tag 14`);
  });
  it('crc32: the fallback agrees with node:zlib', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog');
    expect(crc32Fallback(data)).toBe(0x414fa339);
    expect(crc32(data)).toBe(0x414fa339);
    expect(crc32Fallback(data.subarray(9), crc32Fallback(data.subarray(0, 9)))).toBe(0x414fa339);
  });
});

const id = fc.integer({ min: 0, max: 2 ** 22 - 1 });
const small = fc.integer({ min: 1, max: 40 });
const u53 = fc.oneof(
  fc.integer({ min: 0, max: 1 << 20 }),
  fc.maxSafeInteger().filter((n) => n >= 0),
  fc.constant(0),
);
const base = { pid: fc.oneof(small, id), tid: fc.option(fc.oneof(small, id), { nil: undefined }) };
const prot = fc.constantFrom(...PROTS);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const strip = (o: Record<string, unknown>) => {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o as unknown as TraceRecord;
};
const recordArb: fc.Arbitrary<TraceRecord> = fc
  .oneof(
    fc.record({
      t: fc.constant('access'),
      ...base,
      page: fc.integer({ min: 0, max: 2 ** 41 - 1 }),
      w: opt(fc.boolean()),
      n: opt(fc.integer({ min: 1, max: 2 ** 40 })),
    }),
    fc.record({
      t: fc.constant('mmap'),
      ...base,
      addr: u53,
      len: u53,
      prot,
      shared: opt(fc.boolean()),
      path: opt(fc.string({ maxLength: 40, unit: 'binary' })),
      offset: opt(u53),
    }),
    fc.record({ t: fc.constant('munmap'), ...base, addr: u53, len: u53 }),
    fc.record({ t: fc.constant('mprotect'), ...base, addr: u53, len: u53, prot }),
    fc.record({ t: fc.constant('mremap'), ...base, addr: u53, oldLen: u53, newLen: u53, newAddr: opt(u53) }),
    fc.record({
      t: fc.constant('madvise'),
      ...base,
      addr: u53,
      len: u53,
      advice: fc.constantFrom('dontneed', 'free', 'cold', 'pageout'),
    }),
    fc.record({ t: fc.constant('brk'), ...base, addr: u53 }),
    fc.record({ t: fc.constant('fork'), ...base, child: id }),
    fc.record({ t: fc.constant('clone'), ...base, newTid: id }),
    fc.record({ t: fc.constant('exit'), ...base }),
    fc.record({ t: fc.constant('cpu'), ...base, cpu: fc.integer({ min: 0, max: 65535 }) }),
  )
  .map((r) => strip(r as Record<string, unknown>));

describe('program trace: round trip', () => {
  it('jsonl -> binary -> jsonl is byte-identical (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { maxLength: 60 }), async (records) => {
        const header: TraceHeader = { mmtrace: 1, cmd: ['./a'], notes: ['x'] };
        const a = tmp('.jsonl');
        await writeAll(a, header, records);
        const bin = tmp('.mmtrace');
        await convertTrace(a, bin);
        const b = tmp('.jsonl');
        await convertTrace(bin, b);
        const text = readFileSync(a, 'utf8');
        expect(readFileSync(b, 'utf8')).toBe(text);
        expect(text.split('\n').slice(1, -1)).toEqual(records.map(formatRecord));
        expect((await readAll(bin)).records).toEqual(records);
      }),
      { numRuns: 60 },
    );
  });
});

describe('program trace: merge', () => {
  it('merges per-thread streams by key, ties to the lower stream, each stream in order', async () => {
    async function* s(tid: number, keys: number[]) {
      for (const k of keys) yield { t: 'access' as const, pid: 1, tid, page: k };
    }
    const out: string[] = [];
    for await (const r of mergeThreadStreams([s(1, [1, 3, 3, 7]), s(2, [0, 3, 8]), s(3, [])], (r) => r.page))
      out.push(`${r.tid}:${r.page}`);
    expect(out).toEqual(['2:0', '1:1', '1:3', '1:3', '2:3', '1:7', '2:8']);
  });
});
