#!/usr/bin/env node
// Decode speed of the binary program trace (@mmsim/program-trace, docs/trace-format.md):
//   node bench/trace-decode.mjs [RECORDS] [ROUNDS]   (default 5e6 records, 5 rounds; needs `pnpm build`)
// Writes a synthetic .mmtrace (4 threads taking turns record by record, sequential and strided
// accesses, an mmap every 4096 records) to a temporary file, then times, in one process, each
// read of it ROUNDS times: BinaryTraceReader.batches() (inflate + decode into record objects),
// visit() (accesses as numbers to a callback), columns() (typed-array batches), and the raw
// inflate of the same payload with the reader's chunk size (no decode: the ceiling).
// bench/run.mjs imports decodeFigures().
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInflate } from 'node:zlib';
import { BinaryTraceReader, BinaryTraceWriter } from '../packages/program-trace/dist/index.js';

/** the synthetic trace of this bench: `n` records */
export async function writeDecodeTrace(file, n) {
  const w = new BinaryTraceWriter(file, { mmtrace: 1, recorder: 'bench/trace-decode.mjs' });
  for (let i = 0; i < n; i++) {
    const tid = 100 + (i & 3);
    if ((i & 4095) === 0) await w.write({ t: 'mmap', pid: 100, tid, addr: i * 4096, len: 1 << 20, prot: 'rw' });
    else await w.write({ t: 'access', pid: 100, tid, page: (i >> 2) + (i & 1 ? 0 : (i * 7) & 255), w: (i & 7) === 0 });
  }
  await w.close();
}

const READS = {
  'batches()': async (r) => {
    let count = 0;
    for await (const batch of r.batches()) count += batch.length;
    return count;
  },
  'visit()': async (r) => {
    let pages = 0;
    const count = await r.visit({
      access: (_pid, _tid, page) => {
        pages += page & 1;
      },
      record: () => {},
    });
    return pages < 0 ? -1 : count;
  },
  'columns()': async (r) => {
    let count = 0;
    let pages = 0;
    for await (const c of r.columns()) {
      const page = c.page;
      for (let i = 0; i < c.length; i++) pages += page[i] & 1;
      count += c.length;
    }
    return pages < 0 ? -1 : count;
  },
};

/** raw inflate of the payload, streamed with the reader's chunk size: ms */
async function inflateMs(file) {
  const headerLen = readFileSync(file).readUInt32LE(12);
  const t0 = performance.now();
  const inflate = createInflate({ chunkSize: 1 << 20 });
  createReadStream(file, { start: 24 + headerLen, highWaterMark: 1 << 18 }).pipe(inflate);
  let bytes = 0;
  for await (const c of inflate) bytes += c.length;
  return { ms: performance.now() - t0, bytes };
}

/**
 * Writes the trace of `n` records to a temporary directory and times every read `rounds`
 * times, interleaved. Returns { records, fileBytes, inflatedBytes, rates: { [read]: M records/s[] } }.
 */
export async function decodeFigures(n = 5e6, rounds = 5) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-trace-bench-'));
  const file = path.join(dir, 'bench.mmtrace');
  try {
    await writeDecodeTrace(file, n);
    const rates = { inflate: [] };
    for (const k of Object.keys(READS)) rates[k] = [];
    let inflatedBytes = 0;
    for (let round = 0; round < rounds; round++) {
      for (const [label, read] of Object.entries(READS)) {
        const r = await BinaryTraceReader.open(file);
        const t0 = performance.now();
        const count = await read(r);
        const ms = performance.now() - t0;
        if (count !== n) throw new Error(`${label} read ${count} records, expected ${n}`);
        rates[label].push(n / ms / 1e3);
      }
      const inf = await inflateMs(file);
      inflatedBytes = inf.bytes;
      rates.inflate.push(n / inf.ms / 1e3);
    }
    return { records: n, fileBytes: statSync(file).size, inflatedBytes, rates };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 5e6);
  const rounds = Number(process.argv[3] ?? 5);
  const f = await decodeFigures(n, rounds);
  const med = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  console.log(
    `trace-decode: ${n} records, ${(f.fileBytes / n).toFixed(3)} file bytes/record, ${(f.inflatedBytes / n).toFixed(2)} inflated bytes/record, ${rounds} rounds`,
  );
  for (const [label, xs] of Object.entries(f.rates))
    console.log(
      `  ${label.padEnd(11)} best ${Math.max(...xs).toFixed(1)}  median ${med(xs).toFixed(1)}  min ${Math.min(...xs).toFixed(1)} M records/s${label === 'inflate' ? ` (raw inflate, no decode: ${((f.inflatedBytes / n) * med(xs)).toFixed(0)} MB/s)` : ''}`,
    );
}
