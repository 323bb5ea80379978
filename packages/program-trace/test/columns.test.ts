import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCESS, BinaryTraceReader, BinaryTraceWriter, KINDS, type TraceRecord } from '../src/index.js';

// The fast read (columns(), visit()) against the record path (batches(): decodeRecord per record).
const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-trace-columns-'));
let seq = 0;
async function write(records: TraceRecord[]): Promise<string> {
  const file = path.join(dir, `t${seq++}.mmtrace`);
  const w = new BinaryTraceWriter(file, { mmtrace: 1 });
  for (const r of records) await w.write(r);
  await w.close();
  return file;
}
async function viaBatches(file: string, chunkSize?: number): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const b of (await BinaryTraceReader.open(file, { chunkSize })).batches()) out.push(...b);
  return out;
}
async function viaColumns(file: string, rows: number, chunkSize?: number): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const c of (await BinaryTraceReader.open(file, { chunkSize })).columns(rows))
    for (let i = 0; i < c.length; i++) out.push(c.record(i));
  return out;
}
async function viaVisit(file: string, chunkSize?: number): Promise<{ n: number; records: TraceRecord[] }> {
  const records: TraceRecord[] = [];
  const n = await (await BinaryTraceReader.open(file, { chunkSize })).visit({
    access(pid, tid, page, w, n) {
      const r: TraceRecord = tid < 0 ? { t: 'access', pid, page } : { t: 'access', pid, tid, page };
      if (w >= 0) r.w = w === 1;
      if (n > 0) r.n = n;
      records.push(r);
    },
    record: (r) => records.push(r),
  });
  return { n, records };
}

describe('program trace: columns', () => {
  it('decodes accesses into typed columns, other kinds into `others` (exact rows)', async () => {
    const records: TraceRecord[] = [
      { t: 'mmap', pid: 7, addr: 0x10000, len: 8192, prot: 'rw' },
      { t: 'access', pid: 7, page: 16, w: true },
      { t: 'access', pid: 7, tid: 8, page: 17, n: 3 },
      { t: 'access', pid: 7, page: 15, w: false },
      { t: 'fork', pid: 7, child: 9 },
      { t: 'access', pid: 9, page: 2 ** 40 }, // a delta past 28 bits: the general path
      { t: 'access', pid: 3_000_000, tid: 3_000_001, page: 5 }, // ids of 4 varint bytes: the general path
      { t: 'exit', pid: 9 },
    ];
    const file = await write(records);
    const batches: { kind: number[]; pid: number[]; tid: number[]; page: number[]; w: number[]; n: number[] }[] = [];
    const others: TraceRecord[] = [];
    for await (const c of (await BinaryTraceReader.open(file)).columns(5)) {
      batches.push({
        kind: [...c.kind.subarray(0, c.length)],
        pid: [...c.pid.subarray(0, c.length)],
        tid: [...c.tid.subarray(0, c.length)],
        page: [...c.page.subarray(0, c.length)].map((p, i) => (c.kind[i] === ACCESS ? p : -1)),
        w: [...c.w.subarray(0, c.length)].map((w, i) => (c.kind[i] === ACCESS ? w : -9)),
        n: [...c.n.subarray(0, c.length)].map((n, i) => (c.kind[i] === ACCESS ? n : -1)),
      });
      for (let i = 0; i < c.length; i++) if (c.kind[i] !== ACCESS) others.push(c.others[c.ref[i] as number]!);
    }
    const k = (t: string) => KINDS.indexOf(t as (typeof KINDS)[number]);
    expect(batches).toEqual([
      {
        kind: [k('mmap'), ACCESS, ACCESS, ACCESS, k('fork')],
        pid: [7, 7, 7, 7, 7],
        tid: [-1, -1, 8, -1, -1],
        page: [-1, 16, 17, 15, -1],
        w: [-9, 1, -1, 0, -9],
        n: [-1, 0, 3, 0, -1],
      },
      {
        kind: [ACCESS, ACCESS, k('exit')],
        pid: [9, 3_000_000, 9],
        tid: [-1, 3_000_001, -1],
        page: [2 ** 40, 5, -1],
        w: [-1, -1, -9],
        n: [0, 0, -1],
      },
    ]);
    expect(others).toEqual([records[0], records[4], records[7]]);
  });

  it('the fast path yields exactly what the record path yields (property: threads, repeats, mmaps, exits)', async () => {
    const thread = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.record({ pid: fc.integer({ min: 1, max: 6 }), tid: fc.integer({ min: -1, max: 40 }) }),
      },
      { weight: 1, arbitrary: fc.record({ pid: fc.integer({ min: 1, max: 2 ** 22 - 1 }), tid: fc.constant(-1) }) },
    );
    const withThread = (r: Record<string, unknown>, th: { pid: number; tid: number }) =>
      (th.tid < 0 ? { ...r, pid: th.pid } : { ...r, pid: th.pid, tid: th.tid }) as unknown as TraceRecord;
    const order = (r: TraceRecord): TraceRecord => {
      // the canonical key order of a decoded record: t, pid, tid, then the fields
      const { t, pid, tid, ...rest } = r;
      return (tid === undefined ? { t, pid, ...rest } : { t, pid, tid, ...rest }) as TraceRecord;
    };
    const access = fc
      .record({
        th: thread,
        page: fc.oneof(
          { weight: 6, arbitrary: fc.integer({ min: 0, max: 5000 }) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 45 }) },
        ),
        w: fc.option(fc.boolean(), { nil: undefined }),
        n: fc.option(fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 2 ** 40 })), {
          nil: undefined,
        }),
      })
      .map(({ th, page, w, n }) => {
        const r: Record<string, unknown> = { t: 'access', page };
        if (w !== undefined) r.w = w;
        if (n !== undefined) r.n = n;
        return withThread(r, th);
      });
    const event = fc.oneof(
      fc
        .record({
          th: thread,
          addr: fc.integer({ min: 0, max: 2 ** 40 }),
          path: fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
        })
        .map(({ th, addr, path }) =>
          withThread(
            path === undefined
              ? { t: 'mmap', addr, len: 4096, prot: 'rw' }
              : { t: 'mmap', addr, len: 4096, prot: 'r', path },
            th,
          ),
        ),
      fc.record({ th: thread }).map(({ th }) => withThread({ t: 'exit' }, th)),
      fc
        .record({ th: thread, child: fc.integer({ min: 1, max: 99 }) })
        .map(({ th, child }) => withThread({ t: 'fork', child }, th)),
      fc
        .record({ th: thread, addr: fc.integer({ min: 0, max: 2 ** 40 }) })
        .map(({ th, addr }) => withThread({ t: 'munmap', addr, len: 8192 }, th)),
    );
    const trace = fc.array(fc.oneof({ weight: 12, arbitrary: access }, { weight: 1, arbitrary: event }), {
      maxLength: 400,
    });
    await fc.assert(
      fc.asyncProperty(
        trace,
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(64, 700, 4096, undefined),
        async (input, rows, chunkSize) => {
          const records = input.map(order);
          const file = await write(records);
          const reference = await viaBatches(file, chunkSize);
          expect(reference).toEqual(records);
          expect(await viaColumns(file, rows, chunkSize)).toEqual(reference);
          const v = await viaVisit(file, chunkSize);
          expect(v.n).toBe(records.length);
          expect(v.records).toEqual(reference);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('a corrupt record after good ones: columns() delivers the good rows, then names the record', async () => {
    const file = await write([
      { t: 'access', pid: 1, page: 1 },
      { t: 'access', pid: 1, page: 2 },
    ]);
    const { readFileSync, writeFileSync } = await import('node:fs');
    const { deflateSync, inflateSync } = await import('node:zlib');
    const { crc32 } = await import('../src/index.js');
    const b = readFileSync(file);
    const start = 24 + b.readUInt32LE(12);
    const payload = Buffer.concat([inflateSync(b.subarray(start)), Buffer.from([0x0e, 1])]); // kind tag 14
    const z = deflateSync(payload);
    const head = Buffer.from(b.subarray(0, start));
    head.writeUInt32LE(crc32(z), 8);
    head.writeBigUInt64LE(3n, 16);
    writeFileSync(file, Buffer.concat([head, z]));
    const seen: number[] = [];
    const read = async () => {
      for await (const c of (await BinaryTraceReader.open(file)).columns())
        for (let i = 0; i < c.length; i++) seen.push(c.page[i]!);
    };
    await expect(read()).rejects.toThrow(`${file}: record 2 field "t": unknown record kind tag 14`);
    expect(seen).toEqual([1, 2]);
  });
});
