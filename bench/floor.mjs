#!/usr/bin/env node
// The floor: the irreducible typed-array work of one anonymous first-touch fault in JS, without
// the simulator around it. Per fault: a hardware walk of a 4-level table that misses, a free-list
// pop (the page allocator), a software walk of the same table (handle_mm_fault's
// pgd/p4d/pud/pmd offsets) allocating a table when an entry is empty, the PTE store
// (set_pte_at), the refcount/mapcount update (folio_add_new_anon_rmap), a counter increment
// (count_vm_event(PGFAULT)) and a tapable SyncBailHook call with one tap (a policy hook).
//   node bench/floor.mjs PAGES   → one JSON line: ns per fault
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

// tapable as @mmsim/core has it (bench/ does not depend on it directly)
const coreRequire = createRequire(createRequire(import.meta.url).resolve('@mmsim/core'));
const { SyncBailHook } = coreRequire('tapable');

const pages = Number(process.argv[2] ?? 262144);
const ENTRIES = 512;
const maxTables = 4 + 3 * Math.ceil(pages / ENTRIES) + 8;
const tables = new Int32Array(maxTables * ENTRIES); // entry: next table index + 1, or PTE (pfn + 1)
let nextTable = 1; // table 0 is the PGD
const free = new Int32Array(pages);
for (let i = 0; i < pages; i++) free[i] = pages - 1 - i;
let freeTop = pages;
const refcount = new Int32Array(pages);
const mapcount = new Int32Array(pages);
const counters = new Float64Array(8);
const hook = new SyncBailHook(['vpn']);
hook.tap('policy', (vpn) => (vpn < 0 ? true : undefined));

/** the PTE slot of `vpn` (index into `tables`), or -1 when a level is empty (the hardware walk) */
function walk(vpn) {
  let t = 0;
  for (let shift = 27; shift > 0; shift -= 9) {
    const e = tables[t * ENTRIES + ((vpn >>> shift) & 511)];
    if (e === 0) return -1;
    t = e - 1;
  }
  return t * ENTRIES + (vpn & 511);
}

/** the PTE slot of `vpn`, allocating tables on the way (the fault handler's walk) */
function walkAlloc(vpn) {
  let t = 0;
  for (let shift = 27; shift > 0; shift -= 9) {
    const slot = t * ENTRIES + ((vpn >>> shift) & 511);
    if (tables[slot] === 0) tables[slot] = ++nextTable; // table nextTable - 1
    t = tables[slot] - 1;
  }
  return t * ENTRIES + (vpn & 511);
}

const base = 0x10000; // vpn of the first page
let sum = 0;
const t0 = performance.now();
for (let i = 0; i < pages; i++) {
  const vpn = base + i;
  const hw = walk(vpn);
  if (hw >= 0 && tables[hw] !== 0) continue; // present: no fault
  const pfn = free[--freeTop];
  const slot = walkAlloc(vpn);
  if (hook.call(vpn) === true) continue;
  tables[slot] = pfn + 1;
  refcount[pfn]++;
  mapcount[pfn]++;
  counters[0]++;
  sum += slot;
}
const ms = performance.now() - t0;
if (counters[0] !== pages) throw new Error(`floor: ${counters[0]} faults for ${pages} pages`);
console.log(JSON.stringify({ pages, ns: (ms * 1e6) / pages, check: sum }));
