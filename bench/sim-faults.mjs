#!/usr/bin/env node
// One sample of the simulator's fault paths (bench/run.mjs starts it once per hardware and repeat):
//   node bench/sim-faults.mjs HW PAGES [--no-cow] [--per-page]   (HW: flat | x86 | arm64)
// One process maps PAGES anonymous pages and (1) first-touches them (do_anonymous_page; with
// accessRange, the range path a scenario's touch takes; --per-page: one userAccess per page),
// (2) forks (copy_pte_range: ns per PTE), (3) the child writes them all (wp_page_copy), (4) the
// child exits and the parent writes them all (wp_page_reuse). Prints one JSON line: ns per
// fault (per PTE for fork), the fault counts, wall ms and the process's peak RSS.
// --no-cow stops after the fork (the 64 GiB mode). Runs on the built packages (`pnpm build`).
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { accessRange, createSystem, exitProcess, FlatHardware, forkProcess, mmapAnon, userAccess } from '@mmsim/core';

const [hwName = 'flat', pagesArg = '262144'] = process.argv.slice(2);
const pages = Number(pagesArg);
const cow = !process.argv.includes('--no-cow');
const perPage = process.argv.includes('--per-page');

async function hardware() {
  if (hwName === 'flat') return new FlatHardware(2);
  const mod = await import(`@mmsim/hw-${hwName}`);
  return mod.createHardware({ cpus: 2 });
}

const tStart = performance.now();
const sys = createSystem({ hardware: await hardware() });
const k = sys.kernel;
const p = k.spawn('p', 0);
const vma = mmapAnon(k, p.mm, pages, 'buf');
const ns = {};
const events = {};

/** write every page of the buffer from thread `t` (`range`: in one accessRange): ns per fault and the faults seen */
function writeAll(t, name, range = false) {
  const pf0 = sys.stats.get('pgfault');
  const t0 = performance.now();
  let v = 1;
  if (range) accessRange(k, t, vma.start, vma.end - vma.start, true, v, 1);
  else for (let vpn = vma.start; vpn < vma.end; vpn++) userAccess(k, t, vpn, true, v++);
  const ms = performance.now() - t0;
  events[name] = sys.stats.get('pgfault') - pf0;
  ns[name] = (ms * 1e6) / events[name];
}

writeAll(p.main, 'touch', !perPage);
const pte0 = sys.stats.get('fork_pte_copy');
const t0 = performance.now();
const c = forkProcess(k, p, 'c', 0);
const forkMs = performance.now() - t0;
events.fork = sys.stats.get('fork_pte_copy') - pte0;
ns.fork = (forkMs * 1e6) / events.fork;
if (cow) {
  writeAll(c.main, 'cow');
  exitProcess(k, c);
  writeAll(p.main, 'reuse');
}
console.log(
  JSON.stringify({
    hw: hwName,
    pages,
    ns,
    events,
    wallMs: performance.now() - tStart,
    maxRssKiB: process.resourceUsage().maxRSS,
  }),
);
