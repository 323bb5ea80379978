/**
 * Workingset detection for anonymous folios (mm/workingset.c, for anon since aae466b0052e,
 * v5.9): reclaim stores a shadow entry in the freed swap slot (workingset_eviction(): the
 * lruvec's nonresident_age at eviction and PG_workingset); a swap-in reads it
 * (workingset_refault()) and activates the folio when the refault distance fits the workingset.
 * Shadows live in SwapDevice.shadow: eviction * 2 + workingset + 1, 0 = none.
 */
import { LRU } from '../mem/lru.js';
import { PG } from '../mem/folios.js';
import { C } from '../stats/counters.js';
import type { Kernel } from './kernel.js';
import { lruGenEviction, lruGenRefault } from './lru-gen-workingset.js';
import type { Lruvec } from '../mem/lru.js';
import { ME, memcgEvent, memcgNrSwapPages } from './memcontrol.js';
import { lruvecPages } from './vmscan.js';

/** pack_shadow()'s memcg id field: above the eviction counter (0 for the root: shadows as before memcgs) */
const MEMCG_SHIFT = 2 ** 44;

/**
 * workingset_age_nonresident(): the inactive list of `lv` aged by `nr` pages (evicted or
 * activated), and its parents' (the root's).
 */
export function workingsetAgeNonresident(k: Kernel, lv: Lruvec, nr: number): void {
  lv.nonresidentAge += nr;
  if (lv.memcg !== 0) k.lruvec.nonresidentAge += nr;
}

/**
 * workingset_eviction(folio, target_memcg): the shadow for a folio leaving memory, on the
 * reclaim target's lruvec (the root's for global reclaim); ages it. MGLRU: lru_gen_eviction().
 */
export function workingsetEviction(k: Kernel, head: number, targetMemcg = 0): number {
  if (k.lrugen !== null) return lruGenEviction(k, head);
  const lv = k.lruvecs[targetMemcg]!;
  const eviction = lv.nonresidentAge;
  workingsetAgeNonresident(k, lv, 1 << k.f.order[head]!);
  return eviction * 2 + ((k.f.flags[head]! & PG.workingset) !== 0 ? 1 : 0) + 1 + targetMemcg * MEMCG_SHIFT;
}

/**
 * workingset_refault() for a swapped-in anon folio with shadow `shadow`: count the refault; when
 * workingset_test_recent() says the distance is within the workingset (active file + inactive
 * file + active anon while swap is available), set PG_active (folio_add_lru() then puts it on
 * the active list) and count the activation; a folio that was active before its eviction is
 * restored (PG_workingset, workingset_restore_anon).
 */
export function workingsetRefault(k: Kernel, head: number, shadow: number): void {
  if (k.lrugen !== null) return lruGenRefault(k, head, shadow);
  const nr = 1 << k.f.order[head]!;
  const v = k.stats.v;
  // unpack_shadow(): the eviction memcg, its lruvec's age; the counters go to the folio's memcg
  const evictionMemcg = Math.floor(shadow / MEMCG_SHIFT);
  const packed = shadow - evictionMemcg * MEMCG_SHIFT - 1;
  const memcg = k.f.memcg[head]!;
  v[C.workingset_refault_anon]! += nr;
  memcgEvent(k, memcg, ME.workingset_refault_anon, nr);
  const eviction = Math.floor(packed / 2);
  const workingset = packed % 2 === 1;
  const elv = k.lruvecs[evictionMemcg]!;
  const distance = elv.nonresidentAge - eviction;
  let size = lruvecPages(k, elv, LRU.activeFile) + lruvecPages(k, elv, LRU.inactiveFile);
  if (memcgNrSwapPages(k, evictionMemcg) > 0) size += lruvecPages(k, elv, LRU.activeAnon);
  if (distance > size) return;
  k.f.flags[head]! |= PG.active;
  workingsetAgeNonresident(k, k.lruvecs[memcg]!, nr);
  v[C.workingset_activate_anon]! += nr;
  memcgEvent(k, memcg, ME.workingset_activate_anon, nr);
  if (workingset) {
    k.f.flags[head]! |= PG.workingset;
    v[C.workingset_restore_anon]! += nr;
    memcgEvent(k, memcg, ME.workingset_restore_anon, nr);
  }
}

/**
 * workingset_refault() of a page-cache folio (file = true): the refault is counted; the folio is
 * activated when the distance is within NR_ACTIVE_FILE plus, while swap is available, the anon
 * lists (workingset_test_recent()).
 */
export function workingsetRefaultFile(k: Kernel, head: number, shadow: number): void {
  if (k.lrugen !== null) return lruGenRefault(k, head, shadow);
  const nr = 1 << k.f.order[head]!;
  const v = k.stats.v;
  v[C.workingset_refault_file]! += nr;
  // page-cache folios are not charged to memcgs: their shadows are the root lruvec's
  const eviction = Math.floor((shadow - 1) / 2);
  const workingset = (shadow - 1) % 2 === 1;
  const distance = k.lruvec.nonresidentAge - eviction;
  const lv = k.lruvec.pages;
  let size = lv[LRU.activeFile]!;
  if (k.swap.enabled && k.swap.opts.slots - k.swap.used > 0) size += lv[LRU.activeAnon]! + lv[LRU.inactiveAnon]!;
  if (distance > size) return;
  k.f.flags[head]! |= PG.active;
  workingsetAgeNonresident(k, k.lruvec, nr);
  v[C.workingset_activate_file]! += nr;
  if (workingset) {
    k.f.flags[head]! |= PG.workingset;
    v[C.workingset_restore_file]! += nr;
  }
}
