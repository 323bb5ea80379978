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

/** workingset_age_nonresident(): the inactive list aged by `nr` pages (evicted or activated). */
export function workingsetAgeNonresident(k: Kernel, nr: number): void {
  k.vmscan.nonresidentAge += nr;
}

/** workingset_eviction(): the shadow for a folio leaving memory; ages the inactive list. */
export function workingsetEviction(k: Kernel, head: number): number {
  if (k.lrugen !== null) return lruGenEviction(k, head);
  const eviction = k.vmscan.nonresidentAge;
  workingsetAgeNonresident(k, 1 << k.f.order[head]!);
  return eviction * 2 + ((k.f.flags[head]! & PG.workingset) !== 0 ? 1 : 0) + 1;
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
  v[C.workingset_refault_anon]! += nr;
  const eviction = Math.floor((shadow - 1) / 2);
  const workingset = (shadow - 1) % 2 === 1;
  const distance = k.vmscan.nonresidentAge - eviction;
  const lv = k.lruvec.pages;
  let size = lv[LRU.activeFile]! + lv[LRU.inactiveFile]!;
  if (k.swap.opts.slots - k.swap.used > 0) size += lv[LRU.activeAnon]!;
  if (distance > size) return;
  k.f.flags[head]! |= PG.active;
  workingsetAgeNonresident(k, nr);
  v[C.workingset_activate_anon]! += nr;
  if (workingset) {
    k.f.flags[head]! |= PG.workingset;
    v[C.workingset_restore_anon]! += nr;
  }
}

/**
 * workingset_refault() of a page-cache folio (file = true): the refault is counted; the folio is
 * activated when the distance is within NR_ACTIVE_FILE plus, while swap is available, the anon
 * lists (workingset_test_recent()).
 */
export function workingsetRefaultFile(k: Kernel, head: number, shadow: number): void {
  const nr = 1 << k.f.order[head]!;
  const v = k.stats.v;
  v[C.workingset_refault_file]! += nr;
  const eviction = Math.floor((shadow - 1) / 2);
  const workingset = (shadow - 1) % 2 === 1;
  const distance = k.vmscan.nonresidentAge - eviction;
  const lv = k.lruvec.pages;
  let size = lv[LRU.activeFile]!;
  if (k.swap.enabled && k.swap.opts.slots - k.swap.used > 0) size += lv[LRU.activeAnon]! + lv[LRU.inactiveAnon]!;
  if (distance > size) return;
  k.f.flags[head]! |= PG.active;
  workingsetAgeNonresident(k, nr);
  v[C.workingset_activate_file]! += nr;
  if (workingset) {
    k.f.flags[head]! |= PG.workingset;
    v[C.workingset_restore_file]! += nr;
  }
}
