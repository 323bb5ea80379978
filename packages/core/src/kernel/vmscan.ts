/**
 * Page reclaim over the two-list LRU (mm/vmscan.c, the classic non-MGLRU path): shrink_node()
 * → shrink_lruvec() with get_scan_count(); shrink_list() → shrink_active_list() (aging: the
 * accessed bits through folio_referenced(), deactivation) and shrink_inactive_list() →
 * isolate_lru_folios() from the list tails → shrink_folio_list() (reclaim.ts). The callers are
 * kswapd (kswapd.ts), direct reclaim (page-alloc.ts) and memcg reclaim (memcg-reclaim.ts). One
 * zone, one node; one lruvec per memcg (mem_cgroup_lruvec()): global reclaim walks them all
 * (shrink_node_memcgs()), memcg reclaim only the target's.
 */
import { PG } from '../mem/folios.js';
import { LRU } from '../mem/lru.js';
import { C } from '../stats/counters.js';
import type { Kernel } from './kernel.js';
import { folioLru, lruAddDrain } from './lru-batch.js';
import { freePages } from './page-alloc.js';
import { folioReferenced } from './referenced.js';
import { shrinkFolioList } from './reclaim.js';
import { workingsetAgeNonresident } from './workingset.js';
import { intSqrt } from './watermarks.js';
import { lruGenPutback, lruGenShrinkNode } from './lru-gen-evict.js';
import type { Lruvec } from '../mem/lru.js';
import { ME, memcgEvent, memcgNrSwapPages } from './memcontrol.js';

/** SWAP_CLUSTER_MAX: the reclaim batch. */
export const SWAP_CLUSTER_MAX = 32;
/** DEF_PRIORITY: the first scan priority (lists are scanned >> priority). */
export const DEF_PRIORITY = 12;
/** MAX_RECLAIM_RETRIES (mm/internal.h) */
export const MAX_RECLAIM_RETRIES = 16;

const DEACTIVATE_ANON = 1;
const DEACTIVATE_FILE = 2;

/** struct scan_control: one per reclaimer (kswapd's, direct reclaim's), reused. */
export class ScanControl {
  nrToReclaim = 0;
  nrReclaimed = 0;
  nrScanned = 0;
  priority = DEF_PRIORITY;
  /** current_is_kswapd() */
  readonly kswapd: boolean;
  mayDeactivate = 0;
  forceDeactivate = false;
  skippedDeactivate = false;
  fileIsTiny = false;
  anonCost = 0;
  fileCost = 0;
  /** sc->target_mem_cgroup: the memcg id a limit reclaim is for, 0 = global reclaim */
  targetMemcg = 0;
  /** shrink_folio_list()'s stat.nr_pageout of the last call */
  nrPageout = 0;
  /** get_scan_count()'s targets per LRU list */
  readonly nr = new Float64Array(5);
  constructor(kswapd: boolean) {
    this.kswapd = kswapd;
  }
}

/** Reclaim state of the node: costs, workingset age, scratch lists (no allocation per pass). */
export class VmscanState {
  /** PF_MEMALLOC: allocations inside reclaim do not reclaim again */
  inReclaim = false;
  /** the folio the current fault holds (its CoW source): folio_trylock() fails on it */
  heldFolio = -1;
  readonly kswapdSc = new ScanControl(true);
  readonly directSc = new ScanControl(false);
  /** try_to_free_mem_cgroup_pages()'s (memcg-reclaim.ts) */
  readonly memcgSc = new ScanControl(false);
  /** isolated folios (head PFNs), oldest first; reused */
  readonly isolated: number[] = [];
  readonly activeOut: number[] = [];
}

/**
 * lruvec_page_state(NR_LRU_BASE + lru): the pages on a list of `lv`, hierarchical (the root's
 * lruvec counts every memcg's: the node's total).
 */
export function lruvecPages(k: Kernel, lv: Lruvec, lru: number): number {
  if (lv.memcg !== 0 || k.lruvecs.length === 1) return lv.pages[lru]!;
  let n = 0;
  for (const l of k.lruvecs) n += l.pages[lru]!;
  return n;
}

/** inactive_is_low(): the inactive list is smaller than active / int_sqrt(10 * GB) (or 1). */
export function inactiveIsLow(k: Kernel, inactiveLru: number, lv: Lruvec = k.lruvec): boolean {
  const inactive = lruvecPages(k, lv, inactiveLru);
  const active = lruvecPages(k, lv, inactiveLru + 1);
  const gb = Math.floor((inactive + active) / (1 << 18));
  const ratio = gb > 0 ? intSqrt(10 * gb) : 1;
  return inactive * ratio < active;
}

/**
 * can_reclaim_anon_pages(): swap space is left (get_nr_swap_pages() > 0), for a memcg within its
 * memory.swap.max (mem_cgroup_get_nr_swap_pages()).
 */
export function canReclaimAnon(k: Kernel, memcg = 0): boolean {
  return k.swap.enabled && memcgNrSwapPages(k, memcg) > 0;
}

/**
 * lru_note_cost(): reclaim cost of a list type; halved when it outgrows a quarter of the LRU.
 * Noted on the lruvec and its parents (the root's).
 */
function lruNoteCost(k: Kernel, lv: Lruvec, file: boolean, nrIo: number, nrRotated: number): void {
  const cost = nrIo * SWAP_CLUSTER_MAX + nrRotated;
  for (let s: Lruvec | null = lv; s !== null; s = s.memcg === 0 ? null : k.lruvec) {
    if (file) s.fileCost += cost;
    else s.anonCost += cost;
    const lrusize = lruvecPages(k, s, 0) + lruvecPages(k, s, 1) + lruvecPages(k, s, 2) + lruvecPages(k, s, 3);
    if (s.fileCost + s.anonCost > lrusize / 4) {
      s.fileCost = Math.floor(s.fileCost / 2);
      s.anonCost = Math.floor(s.anonCost / 2);
    }
  }
}

/**
 * isolate_lru_folios(): take folios off the tail of `lru` (oldest first) into vmscan.isolated,
 * each with a reference and PG_lru cleared, until `nrToScan` pages were scanned. Returns the
 * pages scanned.
 */
function isolateLruFolios(k: Kernel, lv: Lruvec, nrToScan: number, lru: number): number {
  const f = k.f;
  const out = k.vmscan.isolated;
  out.length = 0;
  let scan = 0;
  while (scan < nrToScan) {
    const head = lv.tail(lru);
    if (head < 0) break;
    const nr = 1 << f.order[head]!;
    scan += nr;
    lv.del(lru, head, nr);
    f.flags[head]! &= ~PG.lru;
    f.ref[head]!++; // folio_try_get()
    k.charge(k.hw.costs.lruMove);
    out.push(head);
  }
  return scan;
}

/** move_folios_to_lru(): back at the head of the list their flags name; the isolation ref dropped. */
export function moveFolioToLru(k: Kernel, head: number): void {
  if (k.lrugen !== null) return lruGenPutback(k, head);
  const f = k.f;
  const nr = 1 << f.order[head]!;
  f.flags[head]! |= PG.lru;
  const lv = k.folioLruvec(head);
  lv.addHead(folioLru(f.flags[head]!), head, nr);
  if ((f.flags[head]! & PG.active) !== 0) workingsetAgeNonresident(k, lv, nr);
  k.charge(k.hw.costs.lruMove);
  k.folioPut(head);
}

/**
 * shrink_active_list(): age `nrToScan` pages from the tail of the active list. Referenced or
 * not, anon folios are deactivated (only referenced executable file folios rotate): the
 * accessed bits are cleared, PG_workingset set, and they go to the inactive list's head.
 */
function shrinkActiveList(k: Kernel, lv: Lruvec, nrToScan: number, lru: number, cgroupReclaim = false): void {
  lruAddDrain(k, k.cpu);
  const f = k.f;
  const scanned = isolateLruFolios(k, lv, nrToScan, lru);
  // if (!cgroup_reclaim(sc)) __count_vm_events(PGREFILL, ...); the memcg's always
  if (!cgroupReclaim) k.stats.v[C.pgrefill]! += scanned;
  memcgEvent(k, lv.memcg, ME.pgrefill, scanned);
  const list = k.vmscan.isolated;
  let nrDeactivate = 0;
  for (let i = 0; i < list.length; i++) {
    const head = list[i]!;
    // folio_referenced() clears the young bits; only referenced VM_EXEC file folios would
    // stay active (no file folios yet), so every anon folio is deactivated
    folioReferenced(k, head);
    f.flags[head]! &= ~PG.active;
    f.flags[head]! |= PG.workingset;
    nrDeactivate += 1 << f.order[head]!;
    moveFolioToLru(k, head);
  }
  list.length = 0;
  k.stats.v[C.pgdeactivate]! += nrDeactivate;
  memcgEvent(k, lv.memcg, ME.pgdeactivate, nrDeactivate);
  lruNoteCost(k, lv, lru >= LRU.inactiveFile, 0, 0);
}

/** kswapd_age_node(): shrink_active_list(SWAP_CLUSTER_MAX) on the active anon list of every memcg. */
export function shrinkActiveAnon(k: Kernel): void {
  for (const lv of k.lruvecs) shrinkActiveList(k, lv, SWAP_CLUSTER_MAX, LRU.activeAnon);
}

/** shrink_inactive_list(): isolate from the tail and reclaim (shrink_folio_list()). */
function shrinkInactiveList(k: Kernel, lv: Lruvec, nrToScan: number, sc: ScanControl, lru: number): number {
  lruAddDrain(k, k.cpu);
  const scanned = isolateLruFolios(k, lv, nrToScan, lru);
  sc.nrScanned += scanned;
  // the vmstat counts global reclaim only (if (!cgroup_reclaim(sc))), memory.stat every reclaim
  if (sc.targetMemcg === 0) k.stats.v[sc.kswapd ? C.pgscan_kswapd : C.pgscan_direct]! += scanned;
  memcgEvent(k, lv.memcg, sc.kswapd ? ME.pgscan_kswapd : ME.pgscan_direct, scanned);
  if (k.vmscan.isolated.length === 0) return 0;
  const reclaimed = shrinkFolioList(k, k.vmscan.isolated, sc);
  if (sc.targetMemcg === 0) k.stats.v[sc.kswapd ? C.pgsteal_kswapd : C.pgsteal_direct]! += reclaimed;
  memcgEvent(k, lv.memcg, sc.kswapd ? ME.pgsteal_kswapd : ME.pgsteal_direct, reclaimed);
  lruNoteCost(k, lv, lru >= LRU.inactiveFile, sc.nrPageout, scanned - reclaimed);
  return reclaimed;
}

/** shrink_list() */
function shrinkList(k: Kernel, lv: Lruvec, lru: number, nrToScan: number, sc: ScanControl): number {
  if (lru === LRU.activeAnon || lru === LRU.activeFile) {
    const bit = lru === LRU.activeFile ? DEACTIVATE_FILE : DEACTIVATE_ANON;
    if ((sc.mayDeactivate & bit) !== 0) shrinkActiveList(k, lv, nrToScan, lru, sc.targetMemcg !== 0);
    else sc.skippedDeactivate = true;
    return 0;
  }
  return shrinkInactiveList(k, lv, nrToScan, sc, lru);
}

const SCAN_EQUAL = 0;
const SCAN_FRACT = 1;
const SCAN_ANON = 2;
const SCAN_FILE = 3;

/**
 * get_scan_count(): how many pages of each list to scan at this priority. No swap space: file
 * only. Priority 0 with swappiness: equal. Tiny file cache: anon only. Else the lists are
 * balanced by vm.swappiness against the recent reclaim costs (SCAN_FRACT).
 */
export function getScanCount(k: Kernel, sc: ScanControl, lv: Lruvec = k.lruvec): void {
  const swappiness = k.config.vm.swappiness;
  let balance = SCAN_FRACT;
  let ap = 0;
  let fp = 0;
  if (!canReclaimAnon(k, lv.memcg)) balance = SCAN_FILE;
  else if (sc.priority === 0 && swappiness > 0) balance = SCAN_EQUAL;
  else if (sc.fileIsTiny) balance = SCAN_ANON;
  else {
    const total = sc.anonCost + sc.fileCost;
    const anonCost = total + sc.anonCost;
    const fileCost = total + sc.fileCost;
    const totalCost = anonCost + fileCost;
    ap = Math.floor((swappiness * (totalCost + 1)) / (anonCost + 1));
    fp = Math.floor(((200 - swappiness) * (totalCost + 1)) / (fileCost + 1));
  }
  // lruvec_lru_size(): this lruvec's own lists
  const p = lv.pages;
  for (let lru = 0; lru < 4; lru++) {
    const file = lru >= LRU.inactiveFile;
    let scan = Math.floor(p[lru]! / 2 ** sc.priority);
    if (balance === SCAN_FRACT) scan = Math.floor((scan * (file ? fp : ap)) / (ap + fp));
    else if (balance === SCAN_FILE || balance === SCAN_ANON) {
      if ((balance === SCAN_FILE) !== file) scan = 0;
    }
    sc.nr[lru] = scan;
  }
}

/** prepare_scan_control(): costs, may_deactivate (refaults or inactive_is_low), file_is_tiny. */
/** lruvec_page_state(target_lruvec, WORKINGSET_ACTIVATE_FILE): page-cache folios are not charged to memcgs, so a cgroup's is 0 */
function activateFile(k: Kernel, memcg: number): number {
  return memcg === 0 ? k.stats.v[C.workingset_activate_file]! : 0;
}

/** lruvec_page_state(target_lruvec, WORKINGSET_ACTIVATE_ANON) */
function activateAnon(k: Kernel, memcg: number): number {
  return memcg === 0 ? k.stats.v[C.workingset_activate_anon]! : k.memcgs[memcg]!.ev[ME.workingset_activate_anon]!;
}

/**
 * prepare_scan_control(): costs, may_deactivate (refaults or inactive_is_low) of the target
 * lruvec (the root's for global reclaim), file_is_tiny (global reclaim only).
 */
function prepareScanControl(k: Kernel, sc: ScanControl): void {
  const t = k.lruvecs[sc.targetMemcg]!;
  sc.anonCost = t.anonCost;
  sc.fileCost = t.fileCost;
  if (!sc.forceDeactivate) {
    if (activateAnon(k, sc.targetMemcg) !== t.refaultsAnon || inactiveIsLow(k, LRU.inactiveAnon, t))
      sc.mayDeactivate |= DEACTIVATE_ANON;
    else sc.mayDeactivate &= ~DEACTIVATE_ANON;
    if (activateFile(k, sc.targetMemcg) !== t.refaultsFile || inactiveIsLow(k, LRU.inactiveFile, t))
      sc.mayDeactivate |= DEACTIVATE_FILE;
    else sc.mayDeactivate &= ~DEACTIVATE_FILE;
  } else sc.mayDeactivate = DEACTIVATE_ANON | DEACTIVATE_FILE;
  if (sc.targetMemcg !== 0) {
    sc.fileIsTiny = false;
    return;
  }
  const file = lruvecPages(k, t, LRU.inactiveFile) + lruvecPages(k, t, LRU.activeFile);
  const high = k.wmark?.high ?? 0;
  sc.fileIsTiny =
    file + freePages(k) <= high &&
    (sc.mayDeactivate & DEACTIVATE_ANON) === 0 &&
    Math.floor(lruvecPages(k, t, LRU.inactiveAnon) / 2 ** sc.priority) > 0;
}

/** snapshot_refaults(): remember the activations seen by this reclaim run (of `memcg`'s lruvec). */
export function snapshotRefaults(k: Kernel, memcg = 0): void {
  const lv = k.lruvecs[memcg]!;
  lv.refaultsAnon = activateAnon(k, memcg);
  lv.refaultsFile = activateFile(k, memcg);
}

/** shrink_lruvec() */
function shrinkLruvec(k: Kernel, lv: Lruvec, sc: ScanControl): void {
  getScanCount(k, sc, lv);
  const nr = sc.nr;
  const proportional = !sc.kswapd && sc.targetMemcg === 0 && sc.priority === DEF_PRIORITY;
  let reclaimed = 0;
  while (nr[LRU.inactiveAnon]! > 0 || nr[LRU.activeFile]! > 0 || nr[LRU.inactiveFile]! > 0) {
    for (let lru = 0; lru < 4; lru++) {
      if (nr[lru]! > 0) {
        const n = Math.min(nr[lru]!, SWAP_CLUSTER_MAX);
        nr[lru]! -= n;
        reclaimed += shrinkList(k, lv, lru, n, sc);
      }
    }
    k.condResched(SWAP_CLUSTER_MAX);
    if (reclaimed < sc.nrToReclaim || proportional) continue;
    // enough: with one list type left to scan, stop (the proportional rescale of both is not needed
    // while the file lists are empty)
    break;
  }
  sc.nrReclaimed += reclaimed;
  if (canReclaimAnon(k, lv.memcg) && inactiveIsLow(k, LRU.inactiveAnon, lv))
    shrinkActiveList(k, lv, SWAP_CLUSTER_MAX, LRU.activeAnon, sc.targetMemcg !== 0);
}

/**
 * shrink_node(): one pass over the node's lists at sc.priority. Asynchronous swap writes
 * started by an earlier pass have completed by now (their folios are reclaimable).
 */
export function shrinkNode(k: Kernel, sc: ScanControl): void {
  k.completeWriteback();
  if (k.lrugen !== null) return lruGenShrinkNode(k, sc);
  const before = sc.nrReclaimed;
  prepareScanControl(k, sc);
  // shrink_node_memcgs(): mem_cgroup_iter() from the target, the root first
  if (sc.targetMemcg !== 0) shrinkLruvec(k, k.lruvecs[sc.targetMemcg]!, sc);
  else for (const lv of k.lruvecs) shrinkLruvec(k, lv, sc);
  // Kswapd gives up on balancing a node after too many failures; any progress resets it
  if (sc.nrReclaimed > before) k.kswapd.failures = 0;
}

/**
 * do_try_to_free_pages(): shrink_node() at falling priority until sc.nrToReclaim pages are
 * reclaimed; once more with force_deactivate when active lists were skipped. The callers set
 * nrToReclaim and targetMemcg (direct reclaim: page-alloc.ts; memcg limit reclaim:
 * memcg-reclaim.ts). Returns the pages reclaimed.
 */
export function doTryToFreePages(k: Kernel, sc: ScanControl): number {
  const s = k.vmscan;
  s.inReclaim = true;
  sc.nrReclaimed = 0;
  sc.forceDeactivate = false;
  sc.skippedDeactivate = false;
  sc.mayDeactivate = 0;
  try {
    for (;;) {
      for (sc.priority = DEF_PRIORITY; sc.priority >= 0; sc.priority--) {
        sc.nrScanned = 0;
        shrinkNode(k, sc);
        if (sc.nrReclaimed >= sc.nrToReclaim) break;
      }
      snapshotRefaults(k, sc.targetMemcg);
      if (sc.nrReclaimed > 0) return sc.nrReclaimed;
      if (sc.skippedDeactivate && !sc.forceDeactivate) {
        sc.forceDeactivate = true;
        sc.skippedDeactivate = false;
        continue;
      }
      return 0;
    }
  } finally {
    s.inReclaim = false;
  }
}
