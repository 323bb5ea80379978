#!/usr/bin/env node
// Decode speed of the binary program trace (@mmsim/program-trace, docs/trace-format.md):
//   node bench/trace-decode.mjs [RECORDS]   (default 5e6; needs `pnpm build`)
// Writes a synthetic .mmtrace (4 threads, sequential and strided accesses, an mmap every
// 4096 records) to a temporary file, then times BinaryTraceReader.batches() (inflate + decode
// into record objects) and visit() (accesses as numbers, no object each) over it, best of 3.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BinaryTraceReader, BinaryTraceWriter } from '../packages/program-trace/dist/index.js';

const n = Number(process.argv[2] ?? 5e6);
const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-trace-bench-'));
const file = path.join(dir, 'bench.mmtrace');
try {
  const w = new BinaryTraceWriter(file, { mmtrace: 1, recorder: 'bench/trace-decode.mjs' });
  for (let i = 0; i < n; i++) {
    const tid = 100 + (i & 3);
    if ((i & 4095) === 0) await w.write({ t: 'mmap', pid: 100, tid, addr: i * 4096, len: 1 << 20, prot: 'rw' });
    else await w.write({ t: 'access', pid: 100, tid, page: (i >> 2) + (i & 1 ? 0 : (i * 7) & 255), w: (i & 7) === 0 });
  }
  await w.close();
  const bytes = statSync(file).size;
  const time = async (label, read) => {
    let best = Number.POSITIVE_INFINITY;
    let count = 0;
    for (let round = 0; round < 3; round++) {
      const r = await BinaryTraceReader.open(file);
      const t0 = process.hrtime.bigint();
      count = await read(r);
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    console.log(
      `trace-decode ${label}: ${count} records, ${(bytes / count).toFixed(2)} bytes/record, ${(count / best / 1e6).toFixed(1)} M records/s (best of 3, ${best.toFixed(3)} s)`,
    );
  };
  await time('batches()', async (r) => {
    let count = 0;
    for await (const batch of r.batches()) count += batch.length;
    return count;
  });
  let pages = 0;
  await time('visit()', (r) =>
    r.visit({
      access: (_pid, _tid, page) => {
        pages += page & 1;
      },
      record: () => {},
    }),
  );
  if (pages < 0) console.log(pages);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
