// The program trace bench/run.mjs replays with `mmsim replay` (deterministic, written with
// BinaryTraceWriter): process 100 maps three anonymous regions (a 64 MiB heap, 16 MiB, 4 MiB),
// writes them through once, then reads and writes them in a strided, repeating pattern; at the
// middle it forks process 101, which writes one page in 8 of the heap (CoW) and exits.
//   writeReplayTrace(file, accesses) -> { accesses, records }
import { BinaryTraceWriter } from '../packages/program-trace/dist/index.js';

const PAGE = 4096;
const REGIONS = [
  { addr: 0x7f0000000000, pages: 16384 },
  { addr: 0x7f1000000000, pages: 4096 },
  { addr: 0x7f2000000000, pages: 1024 },
];

export async function writeReplayTrace(file, accesses = 1_000_000) {
  const w = new BinaryTraceWriter(file, { mmtrace: 1, recorder: 'bench/replay-trace.mjs', pageSize: PAGE });
  let records = 0;
  let done = 0;
  const put = async (r) => {
    await w.write(r);
    records++;
    if (r.t === 'access') done++;
  };
  for (const { addr, pages } of REGIONS) await put({ t: 'mmap', pid: 100, addr, len: pages * PAGE, prot: 'rw' });
  const page = (k) => {
    // k-th access of the pattern: regions in turn, weighted by size, a stride of 7 pages
    let i = k % (16384 + 4096 + 1024);
    for (const { addr, pages } of REGIONS) {
      if (i < pages) return addr / PAGE + ((i * 7) % pages);
      i -= pages;
    }
    return 0;
  };
  // first touch of every page, sequential
  for (const { addr, pages } of REGIONS)
    for (let i = 0; i < pages && done < accesses; i++)
      await put({ t: 'access', pid: 100, page: addr / PAGE + i, w: true });
  let forked = false;
  for (let k = 0; done < accesses; k++) {
    if (!forked && done >= accesses / 2) {
      forked = true;
      await put({ t: 'fork', pid: 100, child: 101 });
      const heap = REGIONS[0];
      for (let i = 0; i < heap.pages && done < accesses; i += 8)
        await put({ t: 'access', pid: 101, page: heap.addr / PAGE + i, w: true });
      await put({ t: 'exit', pid: 101 });
      continue;
    }
    await put({ t: 'access', pid: 100, page: page(k), w: k % 3 === 0 });
  }
  await put({ t: 'exit', pid: 100 });
  await w.close();
  return { accesses: done, records };
}
