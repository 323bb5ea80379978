#!/usr/bin/env node
// pnpm bench: simulated faults per second and simulator bytes per mapped 4 KiB page for
// (a) touch N GiB, (b) fork it, (c) the child writes all of it. BENCH_GIB=N (default 1).
// Runs on the built packages (`pnpm build`).
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { createSystem, FlatHardware, mmapAnon, userAccess, forkProcess, FolioTable, PageTablePool } from '@mmsim/core';

const GiB = Number(process.env.BENCH_GIB ?? 1);
const hwName = process.env.BENCH_HW ?? 'flat';
const pages = Math.round((GiB * 1024 ** 3) / 4096);

async function hardware() {
  if (hwName === 'flat') return new FlatHardware(2);
  const mod = await import(`@mmsim/hw-${hwName}`);
  return mod.createHardware({ cpus: 2 });
}

const sys = createSystem({ hardware: await hardware() });
const k = sys.kernel;
const p = k.spawn('p', 0);
const vma = mmapAnon(k, p.mm, pages, 'buf');
const rows = [];

function touch(t, label) {
  const pf0 = sys.stats.get('pgfault');
  const t0 = performance.now();
  let v = 1;
  for (let vpn = vma.start; vpn < vma.end; vpn++) userAccess(k, t, vpn, true, v++);
  const ms = performance.now() - t0;
  rows.push([label, sys.stats.get('pgfault') - pf0, ms, 'faults']);
}

touch(p.main, '(a) touch');
// state in use: frames [0, pfnSpan) and tables [0, span); the arrays' capacity past them is
// address space the OS commits only when written
const TABLE_BYTES = 512 * PageTablePool.BYTES_PER_ENTRY + 13;
const stateBytes = () => k.mem.pfnSpan * FolioTable.BYTES_PER_FRAME + k.pt.span * TABLE_BYTES;
const arrayBytes = () => k.f.capacity * FolioTable.BYTES_PER_FRAME + k.pt.capacity * TABLE_BYTES;
const bytesAfterTouch = stateBytes() / pages;
const arraysAfterTouch = arrayBytes() / pages;

let t0 = performance.now();
const c = forkProcess(k, p, 'c', 0);
rows.push(['(b) fork', sys.stats.get('fork_pte_copy'), performance.now() - t0, 'PTEs copied']);
touch(c.main, '(c) child writes');
const bytesAfterChild = stateBytes();
const mapped = pages * 2;

console.log(
  `mmsim bench: ${GiB} GiB = ${pages.toLocaleString('en-US')} pages, hardware ${hwName}, node ${process.version}`,
);
console.log('case                    events        ms       events/s');
for (const [name, n, ms, what] of rows) {
  console.log(
    `${name.padEnd(20)} ${String(n).padStart(10)} ${ms.toFixed(1).padStart(9)} ${Math.round((n / ms) * 1000)
      .toLocaleString('en-US')
      .padStart(14)}  ${what}`,
  );
}
console.log(
  `simulator bytes per mapped 4 KiB page after (a): ${bytesAfterTouch.toFixed(1)}  (frames ${FolioTable.BYTES_PER_FRAME} B + PTEs ${PageTablePool.BYTES_PER_ENTRY} B per page); arrays allocated: ${arraysAfterTouch.toFixed(1)} (the spare capacity is committed only when written)`,
);
console.log(
  `after (c), ${mapped.toLocaleString('en-US')} mapped pages in two processes: ${(bytesAfterChild / mapped).toFixed(1)} bytes per mapped page`,
);
const maxRss = process.resourceUsage().maxRSS * 1024;
console.log(
  `peak RSS of the simulator process: ${(maxRss / 1024 ** 2).toFixed(0)} MiB (${(maxRss / mapped).toFixed(1)} bytes per mapped page)`,
);
