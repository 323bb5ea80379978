/**
 * The multi-gen LRU's eviction (mm/vmscan.c, v6.18): lru_gen_shrink_node() → shrink_one() →
 * try_to_shrink_lruvec(): get_nr_to_scan() (should_run_aging(): age with try_to_inc_max_seq()
 * below DEF_PRIORITY when the oldest generations run out) and evict_folios(): isolate_folios()
 * → scan_folios() over the oldest generation's list, sort_folio() (promoted, protected by the
 * PID controller's tier, under writeback) or isolate_folio(); try_to_inc_min_seq(); then
 * shrink_folio_list() (reclaim.ts). Not modelled: evict_folios()'s second pass over clean
 * unmapped folios that missed folio_rotate_reclaimable(), memcgs (shrink_many()), min_ttl_ms.
 */
import { PG } from '../mem/folios.js';
import { LRU } from '../mem/lru.js';
import {
  MAX_LRU_BATCH,
  MAX_NR_TIERS,
  MAX_SWAPPINESS,
  MIN_LRU_BATCH,
  MIN_NR_GENS,
  LRU_REFS_MASK,
  lruGenList,
} from '../mem/lru-gen.js';
import { C } from '../stats/counters.js';
import type { Kernel } from './kernel.js';
import { lruAddDrain } from './lru-batch.js';
import {
  clearRefsFlags,
  folioIncGen,
  folioLruGen,
  folioLruRefs,
  folioType,
  getNrGens,
  lazilyPromoted,
  lruGenAddFolio,
  lruGenDelFolio,
  lruGenFolioSeq,
  lruGenFromSeq,
  lruGenListMove,
  lruTierFromRefs,
} from './lru-gen.js';
import { firstEvictableType, lastEvictableType, tryToIncMaxSeq, tryToIncMinSeq } from './lru-gen-aging.js';
import { getTierIdx, getTypeToScan } from './lru-gen-pid.js';
import { watermarkOk } from './page-alloc.js';
import { shrinkFolioList } from './reclaim.js';
import { DEF_PRIORITY, canReclaimAnon, type ScanControl } from './vmscan.js';

/** get_swappiness(): 0 (anon not evictable) without MIN_LRU_BATCH free swap slots. */
export function getSwappiness(k: Kernel): number {
  if (!k.swap.enabled || k.swap.opts.slots - k.swap.used < MIN_LRU_BATCH) return 0;
  return k.config.vm.swappiness;
}

/** evictable_min_seq() */
function evictableMinSeq(k: Kernel, swappiness: number): number {
  const m = k.lrugen!.minSeq;
  return Math.min(m[swappiness === 0 ? 1 : 0]!, m[swappiness <= MAX_SWAPPINESS ? 1 : 0]!);
}

/** sort_folio(): true when the folio stays on the lists (moved to its generation). */
function sortFolio(k: Kernel, head: number, tierIdx: number): boolean {
  const f = k.f;
  const g = k.lrugen!;
  const fl = f.flags[head]!;
  const gen = folioLruGen(k, head);
  const type = folioType(fl);
  const nr = 1 << f.order[head]!;
  const refs = folioLruRefs(k, head);
  const ws = (fl & PG.workingset) !== 0;
  const tier = lruTierFromRefs(refs, ws);
  // unevictable: to the unevictable list (lruvec_add_folio(), unevictable_pgs_culled)
  if ((fl & PG.mlocked) !== 0) {
    lruGenDelFolio(k, head, true);
    f.flags[head]! = (f.flags[head]! & ~PG.active) | PG.unevictable;
    k.folioLruvec(head).addHead(LRU.unevictable, head, nr);
    k.stats.v[C.unevictable_pgs_culled]! += nr;
    return true;
  }
  // promoted (folio_update_gen() by the walk or the look-around)
  if (gen !== lruGenFromSeq(g.minSeq[type]!)) {
    lruGenListMove(k, head, gen, false);
    return true;
  }
  // protected
  if (tier > tierIdx || lazilyPromoted(refs, ws)) {
    lruGenListMove(k, head, folioIncGen(k, head), false);
    if (!lazilyPromoted(refs, ws)) g.protected[type * MAX_NR_TIERS + tier]! += nr;
    return true;
  }
  // ineligible
  if ((fl & PG.lru) === 0) {
    lruGenListMove(k, head, folioIncGen(k, head), true);
    return true;
  }
  // waiting for writeback (folio_inc_gen(reclaiming): PG_reclaim is not modelled)
  if ((fl & PG.writeback) !== 0 || (type === 1 && (fl & PG.dirty) !== 0)) {
    lruGenListMove(k, head, folioIncGen(k, head), false);
    return true;
  }
  return false;
}

/** isolate_folio(): a reference, PG_lru cleared, LRU_REFS dropped without PG_referenced. */
function isolateFolio(k: Kernel, head: number): void {
  const f = k.f;
  f.ref[head]!++; // folio_try_get()
  f.flags[head]! &= ~PG.lru;
  // see the comment on LRU_REFS_FLAGS
  if ((f.flags[head]! & PG.referenced) === 0) f.lruGen[head]! &= ~LRU_REFS_MASK;
  lruGenDelFolio(k, head, true);
  k.charge(k.hw.costs.lruMove);
}

/** scan_folios(): up to MIN_LRU_BATCH isolated pages from the tail of the oldest generation. */
function scanFolios(k: Kernel, sc: ScanControl, type: number, tier: number): number {
  const g = k.lrugen!;
  if (getNrGens(g, type) === MIN_NR_GENS) return 0;
  const list = lruGenList(lruGenFromSeq(g.minSeq[type]!), type);
  const out = k.vmscan.isolated;
  let remaining = MAX_LRU_BATCH;
  let scanned = 0;
  let sorted = 0;
  let isolated = 0;
  for (let head = k.lruvec.tail(list); head >= 0; head = k.lruvec.tail(list)) {
    const delta = 1 << k.f.order[head]!;
    scanned += delta;
    if (sortFolio(k, head, tier)) sorted += delta;
    else {
      isolateFolio(k, head);
      out.push(head);
      isolated += delta;
    }
    if (--remaining === 0 || isolated >= MIN_LRU_BATCH) break;
  }
  const v = k.stats.v;
  v[sc.kswapd ? C.pgscan_kswapd : C.pgscan_direct]! += isolated;
  v[C.pgrefill]! += sorted;
  return isolated > 0 || remaining === 0 ? scanned : 0;
}

/** isolate_folios(): the type get_type_to_scan() picks, else the other. */
function isolateFolios(k: Kernel, sc: ScanControl, swappiness: number): number {
  const g = k.lrugen!;
  let type = getTypeToScan(g, swappiness);
  const n = lastEvictableType(swappiness) - firstEvictableType(swappiness) + 1;
  for (let i = 0; i < n; i++) {
    const scanned = scanFolios(k, sc, type, getTierIdx(g, type));
    if (scanned > 0) return scanned;
    type = 1 - type;
  }
  return 0;
}

/** evict_folios(): one batch from the oldest generation through shrink_folio_list(). */
function evictFolios(k: Kernel, sc: ScanControl, swappiness: number): number {
  const g = k.lrugen!;
  const list = k.vmscan.isolated;
  list.length = 0;
  let scanned = isolateFolios(k, sc, swappiness);
  if (tryToIncMinSeq(k, swappiness)) scanned++;
  if (evictableMinSeq(k, swappiness) + MIN_NR_GENS > g.maxSeq) scanned = 0;
  if (list.length === 0) return scanned;
  for (let i = 0; i < list.length; i++) sc.nrScanned += 1 << k.f.order[list[i]!]!;
  const reclaimed = shrinkFolioList(k, list, sc);
  list.length = 0;
  sc.nrReclaimed += reclaimed;
  k.stats.v[sc.kswapd ? C.pgsteal_kswapd : C.pgsteal_direct]! += reclaimed;
  return scanned;
}

/**
 * move_folios_to_lru() after evict_folios()'s shrink_folio_list(): "don't add rejected folios
 * to the oldest generation" (PG_active instead of the refs), then lru_gen_add_folio().
 */
export function lruGenPutback(k: Kernel, head: number): void {
  const f = k.f;
  const type = folioType(f.flags[head]!);
  if (lruGenFolioSeq(k, head, false) === k.lrugen!.minSeq[type]) {
    clearRefsFlags(k, head);
    f.flags[head]! |= PG.active;
  }
  f.flags[head]! |= PG.lru;
  lruGenAddFolio(k, head, false);
  k.charge(k.hw.costs.lruMove);
  k.folioPut(head);
}

/** should_run_aging(): [must or should age, pages in the evictable generations]. */
function shouldRunAging(k: Kernel, swappiness: number, out: Float64Array): boolean {
  const g = k.lrugen!;
  out[0] = 0;
  const min = evictableMinSeq(k, swappiness);
  // have to run aging, since eviction is not possible anymore
  if (min + MIN_NR_GENS > g.maxSeq) return true;
  let size = 0;
  for (let type = firstEvictableType(swappiness); type <= lastEvictableType(swappiness); type++)
    for (let seq = g.minSeq[type]!; seq <= g.maxSeq; seq++)
      size += Math.max(g.nrPages[lruGenFromSeq(seq) * 2 + type]!, 0);
  out[0] = size;
  // better to run aging even though eviction is still possible
  return min + MIN_NR_GENS === g.maxSeq;
}

const nrOut = new Float64Array(1);

/** get_nr_to_scan(): -1 after an aging (stop scanning this lruvec), else the pages to scan. */
function getNrToScan(k: Kernel, sc: ScanControl, swappiness: number): number {
  const success = shouldRunAging(k, swappiness, nrOut);
  // try to get away with not aging at the default priority
  if (!success || sc.priority === DEF_PRIORITY) return Math.floor(nrOut[0]! / 2 ** sc.priority);
  // stop scanning this lruvec as it's low on cold folios
  return tryToIncMaxSeq(k, k.lrugen!.maxSeq, swappiness) ? -1 : 0;
}

/** should_abort_scan(): enough reclaimed; kswapd also stops once above high + MIN_LRU_BATCH. */
function shouldAbortScan(k: Kernel, sc: ScanControl): boolean {
  if (sc.nrReclaimed >= Math.max(sc.nrToReclaim, 2)) return true;
  if (!sc.kswapd) return false;
  return watermarkOk(k, 0, k.wmark!.high + MIN_LRU_BATCH);
}

/** try_to_shrink_lruvec() */
function tryToShrinkLruvec(k: Kernel, sc: ScanControl): boolean {
  const swappiness = getSwappiness(k);
  let nrToScan = 0;
  let scanned = 0;
  for (;;) {
    nrToScan = getNrToScan(k, sc, swappiness);
    if (nrToScan <= 0) break;
    const delta = evictFolios(k, sc, swappiness);
    if (delta === 0) break;
    scanned += delta;
    if (scanned >= nrToScan) break;
    if (shouldAbortScan(k, sc)) break;
    k.condResched(delta);
  }
  return nrToScan < 0;
}

/** fls_long() */
function fls(x: number): number {
  return x <= 0 ? 0 : Math.floor(Math.log2(x)) + 1;
}

/**
 * set_initial_priority(): (reclaimable >> priority) × inactive / total = nr_to_reclaim, from
 * DEF_PRIORITY for a reclaimer that wants at least MIN_LRU_BATCH pages (kswapd), clamped to
 * [DEF_PRIORITY / 2, DEF_PRIORITY].
 */
export function setInitialPriority(k: Kernel, sc: ScanControl): void {
  if (sc.priority !== DEF_PRIORITY || sc.nrToReclaim < MIN_LRU_BATCH) return;
  const p = k.lruvec.pages;
  let reclaimable = p[LRU.inactiveFile]!;
  if (canReclaimAnon(k)) reclaimable += p[LRU.inactiveAnon]!;
  const priority = fls(reclaimable) - 1 - fls(sc.nrToReclaim - 1);
  sc.priority = Math.min(Math.max(priority, DEF_PRIORITY / 2), DEF_PRIORITY);
}

/** lru_gen_shrink_node() for the node's one lruvec (memcgs disabled: shrink_one()). */
export function lruGenShrinkNode(k: Kernel, sc: ScanControl): void {
  const g = k.lrugen!;
  lruAddDrain(k, k.cpu);
  // set_mm_walk(pgdat, ...): kswapd has the node's walk; a direct reclaimer gets one by aging
  g.mmWalk = sc.kswapd;
  setInitialPriority(k, sc);
  const reclaimed = sc.nrReclaimed;
  if (sc.kswapd) sc.nrReclaimed = 0;
  try {
    tryToShrinkLruvec(k, sc);
  } finally {
    if (sc.kswapd) sc.nrReclaimed += reclaimed;
    g.mmWalk = false; // clear_mm_walk()
  }
  if (sc.nrReclaimed > reclaimed) k.kswapd.failures = 0;
}
