/**
 * The range fast path of a sequential first touch: userAccess() over pages [vpn, vpn + n) with
 * the per-table work done once per PTE table (find_vma, the walk to the PTE table, the vm_fault
 * set-up) and do_anonymous_page() for each none PTE of the table in a tight loop.
 *
 * Equivalence: every page still goes through the same steps in the same order as n calls of
 * userAccess(): schedule, hw.tlbLookup(), on a miss pgfault and the fault-entry charge, the PTE
 * table allocation (pte_alloc) for the first page of a new table, fault.anonOrders when tapped
 * (the presets' policy-large-folio; an answer allowing large orders takes do_anonymous_page's own
 * allocation), the folio (or zero page), rmap, the per-CPU LRU batch, the PTE, pte.afterSet
 * when tapped (arm64 contpte; the run then rechecks the tables and the VMA after each call), and
 * the MMU's retried walk with hw.tlbFill(). Counters, cycles (charged in the same order), page
 * contents, TLB and LRU batch state come out identical; packages/cli/test/range-equivalence-*
 * and packages/core/test/fault-range.test.ts compare both paths.
 *
 * It is used only when nothing observes a fault on its own: no tap on fault.entered,
 * fault.exited or fault.handled (trace/timeline, @mmsim/check's invariants), no explainer
 * (`--explain`); the touch op also keeps its per-page loop for an onWrite observer (check's
 * reference model), a random order or another stride. Pages it does not handle (a present
 * PTE, a swap entry, userfaultfd, a none PMD while fault.anonOrders is tapped (hugePmdFault
 * asks it), a huge, shared or write-protected PMD, a VMA without the access's permission) go
 * through userAccess() one at a time.
 *
 * Kernel.rangeFaults switches it off (MMSIM_RANGE_FAULTS=0 when the kernel is created).
 */
import { ME, memcgEvent } from './memcontrol.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { PTE } from '../mm/pte.js';
import { VM } from '../mm/vma.js';
import { C } from '../stats/counters.js';
import { pmdIndex, pteIndex, tableIndex } from '../units.js';
import { AccessResult, anonFolioFault, userAccess, walkAndFault } from './fault.js';
import type { Kernel } from './kernel.js';
import { lruAdd } from './lru-batch.js';
import { addNewAnonRmap } from './rmap.js';
import type { Thread } from './task.js';

const TABLE_ENTRY = PTE.present | PTE.table;
/** a PMD entry the fault path uses as is (pteTableInPmd: a writable table, not huge) */
const PMD_MASK = TABLE_ENTRY | PTE.write | PTE.huge;
const PMD_OK = TABLE_ENTRY | PTE.write;
const ANON_PTE = PTE.present | PTE.write | PTE.dirty | PTE.young;
const ZERO_PTE = PTE.present | PTE.young;

/**
 * Where the last accessRange() call is: the index of its current run's first page (`base`)
 * and the pages that run reached (`reached`, the page being accessed included). Kept for a
 * caller that must know where an exception stopped it (the touch op's write sequence).
 */
let base = 0;
let reached = 0;
/** anonRun() stopped at a non-none PTE on its first page: accessRange() does the rest of that table page by page */
let skipTable = false;

/** Pages the range path itself completed in this process (not its per-page fallbacks). */
let rangePages = 0;

/** How many pages the range path itself has completed in this process: for tests (is it used at all). */
export function accessRangePages(): number {
  return rangePages;
}

/** Pages the last accessRange() call reached when it returned or threw (the page that threw included). */
export function accessRangeProgress(): number {
  return base + reached;
}

/** userAccess() of page i of an accessRange() call, with its progress. */
function onePage(k: Kernel, t: Thread, vpn: number, i: number, write: boolean, value: number, inc: number): boolean {
  base = i;
  reached = 1;
  return userAccess(k, t, vpn + i, write, (value + i * inc) >>> 0) === AccessResult.BLOCKED;
}

/**
 * Accesses of pages vpn, vpn + 1, ..., vpn + n - 1 by `t`, exactly as n userAccess() calls
 * (page i writes `(value + i * inc) >>> 0`; reads leave the last value in k.lastValue). Returns
 * n, or the index of the page whose access blocked in userfaultfd (t.pending is set, as
 * userAccess() leaves it). Throws what userAccess() throws; accessRangeProgress() then tells
 * the pages reached.
 */
export function accessRange(
  k: Kernel,
  t: Thread,
  vpn: number,
  n: number,
  write: boolean,
  value: number,
  inc: number,
): number {
  let i = 0;
  base = 0;
  reached = 0;
  while (i < n) {
    if (!k.rangeFaults) {
      if (onePage(k, t, vpn, i, write, value, inc)) return i;
      i++;
      continue;
    }
    base = i;
    reached = 0;
    skipTable = false;
    const r = anonRun(k, t, vpn + i, n - i, write, value + i * inc, inc);
    if (r < 0) {
      rangePages += -r - 1;
      return i + -r - 1;
    }
    rangePages += r;
    i += r;
    if (i >= n) break;
    // the run stopped at a page it does not handle: that page the usual way
    if (onePage(k, t, vpn, i, write, value, inc)) return i;
    i++;
    if (skipTable) {
      // a present page first (e.g. a re-touch): the rest of this PTE table page by page, not
      // one run set-up per page
      const e = Math.min(n, i + ((512 - pteIndex(vpn + i)) & 511));
      for (; i < e; i++) if (onePage(k, t, vpn, i, write, value, inc)) return i;
    }
  }
  base = n;
  reached = 0;
  return n;
}

/**
 * First touches of none PTEs from vpn on, in one VMA, one PTE table after the other:
 * __handle_mm_fault → handle_pte_fault → do_anonymous_page with the table-level work done once
 * per table. Returns the pages completed (it stops before the first page it does not handle),
 * or -(c + 1) when page c blocked (only through the generic continuation, walkAndFault).
 */
function anonRun(k: Kernel, t: Thread, vpn: number, n: number, write: boolean, value: number, inc: number): number {
  // userAccess(): the schedule comes first (idempotent: a fallback's own runOn() does nothing)
  k.runOn(t);
  const h = k.hooks.fault;
  if (h.entered.isUsed() || h.exited.isUsed() || h.handled.isUsed() || k.explain !== null) return 0;
  // fault.anonOrders (the presets' policy-large-folio) is asked per write fault, as do_anonymous_page does
  const anonOrders = h.anonOrders;
  const askOrders = write && anonOrders.isUsed();
  const mm = t.proc.mm;
  // find_vma() once: the run stays inside this VMA
  const vma = mm.findVma(vpn);
  if (vma === undefined || vma.file !== null) return 0; // file VMAs: do_fault() per page
  const vflags = vma.flags;
  if ((vflags & (write ? VM.write : VM.read | VM.write)) === 0 || (vflags & VM.uffdMissing) !== 0) return 0;
  const end = Math.min(vpn + n, vma.end);
  const pt = k.pt;
  const f = k.f;
  const hw = k.hw;
  const costs = hw.costs;
  const afterSet = k.hooks.pte.afterSet;
  // a pte.afterSet tap (arm64 contpte) runs inside the loop: recheck what the run relies on
  const guard = afterSet.isUsed();
  const accessFaults = hw.managesAccessFlags === false;
  const v = k.stats.v;
  let done = 0;
  while (vpn + done < end) {
    const v0 = vpn + done;
    // the MMU's walk down to the PMD table (what userAccess() hands to the fault as its pmd)
    const s3 = pt.slot(mm.pgd, tableIndex(v0, 3));
    const f3 = pt.fl[s3]!;
    if ((f3 & TABLE_ENTRY) !== TABLE_ENTRY) return done;
    const pud = pt.val[s3]!;
    const s2 = pt.slot(pud, tableIndex(v0, 2));
    const f2 = pt.fl[s2]!;
    if ((f2 & TABLE_ENTRY) !== TABLE_ENTRY) return done;
    const pmd = pt.val[s2]!;
    const pi = pmdIndex(v0);
    const s1 = pt.slot(pmd, pi);
    const f1 = pt.fl[s1]!;
    let tbl = -1;
    // a none PMD with fault.anonOrders tapped: hugePmdFault asks it, reads too (the per-page path)
    if (f1 === 0 && anonOrders.isUsed()) return done;
    if (f1 !== 0) {
      // pteTableInPmd(): a shared or write-protected table is unshared first (not here)
      if ((f1 & PMD_MASK) !== PMD_OK) return done;
      tbl = pt.val[s1]!;
      if (pt.refcount[tbl] !== 1) return done;
    }
    // the write permission of the levels above the PTE (the walk ANDs them)
    const wUp = f3 & f2 & PTE.write;
    if (write && wUp === 0) return done;
    const tEnd = Math.min(end, v0 - pteIndex(v0) + 512);
    // the fault's vm_fault, set up at the table's first fault (handle_mm_fault); then vpn and index per page
    const vmf = k.vmf;
    let vmfReady = false;
    for (let p = v0; p < tEnd; p++) {
      const idx = pteIndex(p);
      let s = tbl < 0 ? -1 : pt.slot(tbl, idx);
      if (s >= 0 && pt.fl[s] !== 0) {
        // present, swap, marker: the per-page path (the rest of the table too when it is the run's first page)
        skipTable = done === 0;
        return done;
      }
      const val = (value + done * inc) >>> 0;
      reached = done + 1;
      k.runOn(t);
      const hit = hw.tlbLookup(k.cpu, mm, p, write);
      if (hit >= 0) {
        if (write) f.data[hit] = val;
        else k.lastValue = f.data[hit]!;
        done++;
        continue;
      }
      // handle_mm_fault(): the walk stopped at the none PTE (or the none PMD entry)
      v[C.pgfault]!++;
      k.memcgCharge = mm.memcg;
      memcgEvent(k, mm.memcg, ME.pgfault, 1);
      k.charge(costs.faultEntry);
      if (vmfReady && !askOrders) vmf.vpn = p;
      else {
        vmf.begin(mm, vma, p, k.cpu, write, false);
        vmf.table = tbl;
        vmfReady = true;
      }
      if (tbl < 0) {
        // pte_alloc(): the first fault of a table that does not exist yet
        tbl = k.allocTable(mm, 0);
        pt.set(pmd, pi, tbl, PTE.present | PTE.write | PTE.table);
        vmf.table = tbl;
        s = pt.slot(tbl, idx);
      }
      vmf.index = idx;
      // do_anonymous_page()
      if (write) {
        if (askOrders) {
          const orders = anonOrders.call(1, vmf) & 0x1ff; // PMD order is not PTE-mapped on fault
          if (orders > 1) {
            // a large folio may be allowed: alloc_anon_folio() as the per-page path does it
            anonFolioFault(k, mm, vma, p, tbl, orders);
            return finish(k, t, p, write, val, done);
          }
        }
        const head = k.allocFolio(0, true);
        f.ref[head] = 1;
        addNewAnonRmap(k, head, mm, vma, p, 1);
        lruAdd(k, head);
        pt.set(tbl, idx, head, ANON_PTE | k.sd);
      } else {
        // the shared zero page, read-only (pte_mkspecial(ZERO_PAGE))
        pt.set(tbl, idx, ZERO_PFN, ZERO_PTE);
      }
      k.charge(costs.pteUpdate);
      if (guard) {
        afterSet.call(mm, p, p + 1);
        // the tap may have changed the tables above: then the generic retry does the rest
        if (
          pt.fl[s3] !== f3 ||
          pt.val[s3] !== pud ||
          pt.fl[s2] !== f2 ||
          pt.val[s2] !== pmd ||
          (pt.fl[s1]! & PMD_MASK) !== PMD_OK ||
          pt.val[s1] !== tbl ||
          pt.refcount[tbl] !== 1
        )
          return finish(k, t, p, write, val, done);
      }
      // the MMU retries the access: the walk finds the new PTE
      const fl = pt.fl[s]!;
      if (
        (fl & PTE.present) === 0 ||
        (fl & PTE.protNone) !== 0 ||
        (write && (wUp & fl) === 0) ||
        (accessFaults && ((fl & PTE.young) === 0 || (write && (fl & PTE.dirty) === 0)))
      )
        return finish(k, t, p, write, val, done);
      pt.fl[s] = fl | PTE.young | (write ? PTE.dirty : 0);
      const pfn = pt.val[s]!;
      hw.tlbFill(k.cpu, mm, p, pfn, (wUp & fl) !== 0, 12, s);
      if (write) f.data[pfn] = val;
      else k.lastValue = f.data[pfn]!;
      done++;
      // a tap may have changed the VMA too: the next page looks it up again
      if (guard && p + 1 < end && (mm.findVma(p + 1) !== vma || vma.flags !== vflags)) return done;
    }
  }
  return done;
}

/** The generic rest of the access of page p (from the MMU's retry), then end the run. */
function finish(k: Kernel, t: Thread, p: number, write: boolean, val: number, done: number): number {
  const r = walkAndFault(k, t, t.proc.mm, p, write, val, 1);
  return r === AccessResult.BLOCKED ? -(done + 1) : done + 1;
}
