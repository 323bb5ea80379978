/**
 * The multi-gen LRU's list operations (include/linux/mm_inline.h, v6.18): lru_gen_add_folio()
 * and lru_gen_del_folio() (what lruvec_add_folio() / lruvec_del_folio() do when lru_gen is
 * enabled), lru_gen_folio_seq(), lru_gen_update_size(), and from mm/vmscan.c folio_update_gen(),
 * folio_inc_gen() and lru_gen_set_refs(). State: mem/lru-gen.ts. Aging: lru-gen-aging.ts;
 * eviction: lru-gen-evict.ts; shadows: lru-gen-workingset.ts.
 */
import { PG } from '../mem/folios.js';
import { LRU } from '../mem/lru.js';
import {
  LRU_GEN_ANON,
  LRU_GEN_FILE,
  LRU_GEN_MASK,
  LRU_LIST_MASK,
  LRU_LIST_SHIFT,
  LRU_REFS_MASK,
  LRU_REFS_SHIFT,
  LRU_REFS_WIDTH,
  MAX_NR_GENS,
  MAX_NR_TIERS,
  MIN_NR_GENS,
  type LruGen,
  lruGenList,
} from '../mem/lru-gen.js';
import type { Kernel } from './kernel.js';

/** folio_is_file_lru(): the generation type of a folio with these flags. */
export function folioType(fl: number): number {
  // folio_is_file_lru(): !folio_test_swapbacked(), so shmem is of the anon type
  return (fl & (PG.anon | PG.swapbacked)) !== 0 && (fl & PG.lazyfree) === 0 ? LRU_GEN_ANON : LRU_GEN_FILE;
}

/** lru_gen_from_seq() */
export function lruGenFromSeq(seq: number): number {
  return seq % MAX_NR_GENS;
}

/** folio_lru_gen(): the folio's generation, -1 when it is on no generation list. */
export function folioLruGen(k: Kernel, head: number): number {
  return (k.f.lruGen[head]! & LRU_GEN_MASK) - 1;
}

/** folio_lru_refs(): 0 without PG_referenced, else LRU_REFS + 1. */
export function folioLruRefs(k: Kernel, head: number): number {
  if ((k.f.flags[head]! & PG.referenced) === 0) return 0;
  return ((k.f.lruGen[head]! & LRU_REFS_MASK) >> LRU_REFS_SHIFT) + 1;
}

/** lru_tier_from_refs(): the workingset is the top tier; else order_base_2(refs). */
export function lruTierFromRefs(refs: number, workingset: boolean): number {
  if (workingset) return MAX_NR_TIERS - 1;
  return refs <= 1 ? 0 : 32 - Math.clz32(refs - 1);
}

/** refs + workingset == BIT(LRU_REFS_WIDTH) + 1: the workingset being lazily promoted (fd accesses). */
export function lazilyPromoted(refs: number, workingset: boolean): boolean {
  return refs + (workingset ? 1 : 0) === (1 << LRU_REFS_WIDTH) + 1;
}

/** get_nr_gens() */
export function getNrGens(g: LruGen, type: number): number {
  return g.maxSeq - g.minSeq[type]! + 1;
}

/** lru_gen_is_active(): the two youngest generations count as "active" (MIN_NR_GENS). */
export function lruGenIsActive(g: LruGen, gen: number): boolean {
  return gen === lruGenFromSeq(g.maxSeq) || gen === lruGenFromSeq(g.maxSeq - 1);
}

/**
 * lru_gen_update_size(): nr_pages[gen][type] and, for compatibility, the active / inactive
 * LRU sizes (NR_ACTIVE_ANON ...) by lru_gen_is_active(). -1 = none (an addition or deletion).
 */
export function lruGenUpdateSize(k: Kernel, type: number, nr: number, oldGen: number, newGen: number): void {
  const g = k.lrugen!;
  const p = k.lruvec.pages;
  const lru = type === LRU_GEN_ANON ? LRU.inactiveAnon : LRU.inactiveFile;
  if (oldGen >= 0) g.nrPages[oldGen * 2 + type]! -= nr;
  if (newGen >= 0) g.nrPages[newGen * 2 + type]! += nr;
  if (oldGen < 0) {
    p[lruGenIsActive(g, newGen) ? lru + 1 : lru]! += nr;
    return;
  }
  if (newGen < 0) {
    p[lruGenIsActive(g, oldGen) ? lru + 1 : lru]! -= nr;
    return;
  }
  // promotion; a demotion requires isolation (lru_deactivate())
  if (!lruGenIsActive(g, oldGen) && lruGenIsActive(g, newGen)) {
    p[lru]! -= nr;
    p[lru + 1]! += nr;
  }
}

/**
 * lru_gen_folio_seq(): where lru_gen_add_folio() puts a folio. PG_active (a fault, an
 * activation) → the youngest (with PG_workingset) or second youngest generation; a rotation
 * by reclaim → the oldest; an anon folio not in the swap cache → the second youngest; else
 * the oldest, or the second oldest for the workingset; never below min_seq.
 */
export function lruGenFolioSeq(k: Kernel, head: number, reclaiming: boolean): number {
  const g = k.lrugen!;
  const fl = k.f.flags[head]!;
  const type = folioType(fl);
  const ws = (fl & PG.workingset) !== 0 ? 1 : 0;
  let gen: number;
  if ((fl & PG.active) !== 0) gen = MIN_NR_GENS - ws;
  else if (reclaiming) gen = MAX_NR_GENS;
  else if (type === LRU_GEN_ANON && (fl & PG.swapcache) === 0) gen = MIN_NR_GENS;
  else gen = MAX_NR_GENS - ws;
  return Math.max(g.maxSeq - gen + 1, g.minSeq[type]!);
}

/** Thread `head` on lrugen->folios[gen][type]: list_add() at the head, or list_add_tail(). */
export function lruGenListAdd(k: Kernel, head: number, gen: number, type: number, tail: boolean): void {
  const nr = 1 << k.f.order[head]!;
  if (tail) k.lruvec.addTail(lruGenList(gen, type), head, nr);
  else k.lruvec.addHead(lruGenList(gen, type), head, nr);
  k.f.lruGen[head] = (k.f.lruGen[head]! & ~LRU_LIST_MASK) | ((gen + 1) << LRU_LIST_SHIFT);
}

/** list_del(&folio->lru) from the generation list it is threaded on. */
export function lruGenListDel(k: Kernel, head: number): void {
  const list = ((k.f.lruGen[head]! & LRU_LIST_MASK) >> LRU_LIST_SHIFT) - 1;
  if (list < 0) return;
  k.lruvec.del(lruGenList(list, folioType(k.f.flags[head]!)), head, 1 << k.f.order[head]!);
  k.f.lruGen[head]! &= ~LRU_LIST_MASK;
}

/** list_move() / list_move_tail() onto lrugen->folios[gen][type]. */
export function lruGenListMove(k: Kernel, head: number, gen: number, tail: boolean): void {
  lruGenListDel(k, head);
  lruGenListAdd(k, head, gen, folioType(k.f.flags[head]!), tail);
}

/** lru_gen_add_folio(): into the generation lru_gen_folio_seq() names; PG_active is cleared. */
export function lruGenAddFolio(k: Kernel, head: number, reclaiming: boolean): void {
  const f = k.f;
  const type = folioType(f.flags[head]!);
  const gen = lruGenFromSeq(lruGenFolioSeq(k, head, reclaiming));
  f.lruGen[head] = (f.lruGen[head]! & ~LRU_GEN_MASK) | (gen + 1);
  f.flags[head]! &= ~PG.active;
  lruGenUpdateSize(k, type, 1 << f.order[head]!, -1, gen);
  // for folio_rotate_reclaimable(): at the tail
  lruGenListAdd(k, head, gen, type, reclaiming);
}

/**
 * lru_gen_del_folio(): off its generation list; outside reclaim a folio of the two youngest
 * generations leaves with PG_active set (for folio_migrate_flags()).
 */
export function lruGenDelFolio(k: Kernel, head: number, reclaiming: boolean): boolean {
  const f = k.f;
  const gen = folioLruGen(k, head);
  if (gen < 0) return false;
  const g = k.lrugen!;
  if (!reclaiming && lruGenIsActive(g, gen)) f.flags[head]! |= PG.active;
  f.lruGen[head]! &= ~LRU_GEN_MASK;
  lruGenUpdateSize(k, folioType(f.flags[head]!), 1 << f.order[head]!, gen, -1);
  lruGenListDel(k, head);
  return true;
}

/** set_mask_bits(&folio->flags, LRU_REFS_MASK, BIT(PG_referenced)) */
function setReferencedOnly(k: Kernel, head: number): void {
  k.f.lruGen[head]! &= ~LRU_REFS_MASK;
  k.f.flags[head]! |= PG.referenced;
}

/** clear LRU_REFS_FLAGS (LRU_REFS_MASK and PG_referenced) */
export function clearRefsFlags(k: Kernel, head: number): void {
  k.f.lruGen[head]! &= ~LRU_REFS_MASK;
  k.f.flags[head]! &= ~PG.referenced;
}

/**
 * lru_gen_set_refs() (rmap feedback without a walk, folio_check_references()): the first
 * reference only sets PG_referenced; a second, or one on the workingset, sets PG_workingset
 * and asks for an activation ("mm/mglru: rework workingset protection", v6.14).
 */
export function lruGenSetRefs(k: Kernel, head: number): boolean {
  const fl = k.f.flags[head]!;
  if ((fl & PG.referenced) === 0 && (fl & PG.workingset) === 0) {
    setReferencedOnly(k, head);
    return false;
  }
  clearRefsFlags(k, head);
  k.f.flags[head]! |= PG.workingset;
  return true;
}

/**
 * folio_update_gen(): a young PTE found by the page-table walk or the look-around. The first
 * one only sets PG_referenced; after that the folio moves to generation `gen` (the youngest)
 * with PG_workingset, in its flags only: sort_folio() moves it on the lists later. Returns
 * the old generation, -1 when nothing moved.
 */
export function folioUpdateGen(k: Kernel, head: number, gen: number): number {
  const f = k.f;
  const fl = f.flags[head]!;
  if ((fl & PG.referenced) === 0 && (fl & PG.workingset) === 0) {
    setReferencedOnly(k, head);
    return -1;
  }
  const old = folioLruGen(k, head);
  // lru_gen_del_folio() has isolated this page?
  if (old < 0) return -1;
  clearRefsFlags(k, head);
  f.lruGen[head] = (f.lruGen[head]! & ~LRU_GEN_MASK) | (gen + 1);
  f.flags[head]! |= PG.workingset;
  return old;
}

/**
 * folio_inc_gen(): move a folio of the oldest generation one generation up (protection by
 * sort_folio(), inc_min_seq()), its refs cleared; a folio folio_update_gen() already promoted
 * keeps that generation. Returns the new generation (the caller moves it on the lists).
 */
export function folioIncGen(k: Kernel, head: number): number {
  const f = k.f;
  const g = k.lrugen!;
  const type = folioType(f.flags[head]!);
  const oldGen = lruGenFromSeq(g.minSeq[type]!);
  const cur = folioLruGen(k, head);
  if (cur >= 0 && cur !== oldGen) return cur;
  const newGen = (oldGen + 1) % MAX_NR_GENS;
  clearRefsFlags(k, head);
  f.lruGen[head] = (f.lruGen[head]! & ~LRU_GEN_MASK) | (newGen + 1);
  lruGenUpdateSize(k, type, 1 << f.order[head]!, oldGen, newGen);
  return newGen;
}

/**
 * __split_folio_to_order() of a large folio on a generation list: the head stays there as an
 * order-0 folio (its generation counts one page now). Returns the list it is on, for
 * lru_add_split_folio()'s list_add_tail() of the mapped tails (lruGenSplitTail()).
 */
export function lruGenSplitHead(k: Kernel, head: number, nr: number): number {
  const gen = folioLruGen(k, head);
  const type = folioType(k.f.flags[head]!);
  lruGenUpdateSize(k, type, nr - 1, gen, -1);
  return lruGenList(((k.f.lruGen[head]! & LRU_LIST_MASK) >> LRU_LIST_SHIFT) - 1, type);
}

/** A tail next to its head on the head's list: LRU_GEN_MASK and LRU_REFS_MASK copied. */
export function lruGenSplitTail(k: Kernel, head: number, p: number): void {
  k.f.lruGen[p] = k.f.lruGen[head]!;
  lruGenUpdateSize(k, folioType(k.f.flags[head]!), 1, -1, folioLruGen(k, head));
}
