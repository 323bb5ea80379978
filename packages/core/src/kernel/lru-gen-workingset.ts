/**
 * Workingset detection with the multi-gen LRU (mm/workingset.c, v6.18: lru_gen_eviction(),
 * lru_gen_test_recent(), lru_gen_refault()). The shadow holds min_seq[type] at eviction, the
 * folio's refs and PG_workingset; a refault is recent when fewer than MAX_NR_GENS generations
 * were made since. Recent refaults feed the PID controller (lrugen->refaulted per tier) and are
 * counted as activations: the faulting folio_add_lru() sets PG_active, so the folio enters a
 * young generation. Shadows use SwapDevice.shadow's encoding (token * 2 + workingset + 1), with
 * the sequence numbers not truncated to the shadow's EVICTION_MASK.
 */
import { PG } from '../mem/folios.js';
import {
  LRU_GEN_FILE,
  LRU_REFS_MASK,
  LRU_REFS_SHIFT,
  LRU_REFS_WIDTH,
  MAX_NR_GENS,
  MAX_NR_TIERS,
} from '../mem/lru-gen.js';
import { C } from '../stats/counters.js';
import type { Kernel } from './kernel.js';
import { folioLruRefs, folioType, lruTierFromRefs } from './lru-gen.js';

/** lru_gen_eviction(): the shadow of a folio leaving memory; counts it evicted in its tier. */
export function lruGenEviction(k: Kernel, head: number): number {
  const g = k.lrugen!;
  const fl = k.f.flags[head]!;
  const type = folioType(fl);
  const refs = folioLruRefs(k, head);
  const workingset = (fl & PG.workingset) !== 0;
  const tier = lruTierFromRefs(refs, workingset);
  const minSeq = g.minSeq[type]!;
  const token = minSeq * (1 << LRU_REFS_WIDTH) + Math.max(refs - 1, 0);
  g.evicted[type * MAX_NR_TIERS + tier]! += 1 << k.f.order[head]!;
  return token * 2 + (workingset ? 1 : 0) + 1;
}

/**
 * lru_gen_refault() for a swapped-in anon folio or a page-cache folio read again: refault
 * counted; a recent one also refaulted in its tier, an activation, and PG_workingset or the
 * refs restored.
 */
export function lruGenRefault(k: Kernel, head: number, shadow: number): void {
  const g = k.lrugen!;
  const f = k.f;
  const nr = 1 << f.order[head]!;
  const v = k.stats.v;
  const type = folioType(f.flags[head]!);
  const token = Math.floor((shadow - 1) / 2);
  const workingset = (shadow - 1) % 2 === 1;
  const file = type === LRU_GEN_FILE;
  v[file ? C.workingset_refault_file : C.workingset_refault_anon]! += nr;
  // lru_gen_test_recent()
  const seq = Math.floor(token / (1 << LRU_REFS_WIDTH));
  if (Math.abs(g.maxSeq - seq) >= MAX_NR_GENS) return;
  const refs = (token % (1 << LRU_REFS_WIDTH)) + 1;
  const tier = lruTierFromRefs(refs, workingset);
  g.refaulted[type * MAX_NR_TIERS + tier]! += nr;
  // see folio_add_lru() where folio_set_active() will be called
  v[file ? C.workingset_activate_file : C.workingset_activate_anon]! += nr;
  if (workingset) {
    f.flags[head]! |= PG.workingset;
    v[file ? C.workingset_restore_file : C.workingset_restore_anon]! += nr;
  } else {
    f.lruGen[head] = (f.lruGen[head]! & ~LRU_REFS_MASK) | ((refs - 1) << LRU_REFS_SHIFT);
  }
}
