/**
 * The multi-gen LRU's aging (mm/vmscan.c, v6.18): try_to_inc_max_seq() walks the page tables
 * of every mm (walk_mm → walk_pte_range / walk_pmd_range_locked), clears the accessed bits
 * the hardware model set and promotes the folios it finds young (walk_update_folio →
 * folio_update_gen()), then inc_max_seq() opens a new youngest generation, first making room
 * with inc_min_seq() when all MAX_NR_GENS are in use. lru_gen_look_around() is the same
 * feedback from reclaim's rmap walk: the PTEs around a young one, in its PTE table.
 * try_to_inc_min_seq() drops empty oldest generations.
 *
 * The walk clears the bits with ptep_test_and_clear_young() (ptep_clear_young_notify): no TLB
 * flush on any architecture (HardwareModel.clearYoungFlushes is the two-list path's
 * ptep_clear_flush_young()), so a translation still cached in a TLB keeps hitting without
 * setting the bit again. Not modelled: the Bloom filters (every PTE table is walked), the
 * mm_struct list's per-node "used since the last walk" bitmap (every mm is walked), non-leaf
 * PMD accessed bits (should_clear_pmd_young()).
 */
import { PG } from '../mem/folios.js';
import { LRU } from '../mem/lru.js';
import { MAX_NR_GENS, MAX_SWAPPINESS, MAX_NR_TIERS, MIN_NR_GENS, lruGenList } from '../mem/lru-gen.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { PTE } from '../mm/pte.js';
import { VM, type Vma } from '../mm/vma.js';
import { pmdIndex, pteIndex } from '../units.js';
import type { Kernel } from './kernel.js';
import { tableAt } from './pgwalk.js';
import { lruBatchAdd } from './lru-batch.js';
import {
  folioIncGen,
  folioLruGen,
  folioLruRefs,
  folioType,
  folioUpdateGen,
  getNrGens,
  lazilyPromoted,
  lruGenFromSeq,
  lruGenListMove,
  lruGenSetRefs,
  lruGenUpdateSize,
  lruTierFromRefs,
} from './lru-gen.js';
import { resetCtrlPos } from './lru-gen-pid.js';

const PTRS_PER_TABLE = 512;

/** for_each_evictable_type(): anon needs swappiness > 0, file swappiness <= MAX_SWAPPINESS. */
export function firstEvictableType(swappiness: number): number {
  return swappiness === 0 ? 1 : 0;
}
export function lastEvictableType(swappiness: number): number {
  return swappiness <= MAX_SWAPPINESS ? 1 : 0;
}

/**
 * walk_update_folio(): a run of young PTEs of one folio. A dirty PTE dirties the folio (not an
 * anon folio outside the swap cache). With a walk (kswapd's, or a reclaimer that aged):
 * folio_update_gen(); without: lru_gen_set_refs() and folio_activate().
 */
function walkUpdateFolio(k: Kernel, head: number, gen: number, dirty: boolean): void {
  const f = k.f;
  const fl = f.flags[head]!;
  if (dirty && (fl & PG.dirty) === 0 && !((fl & PG.anon) !== 0 && (fl & PG.swapcache) === 0))
    f.flags[head]! |= PG.dirty;
  if (k.lrugen!.mmWalk) {
    const old = folioUpdateGen(k, head, gen);
    if (old >= 0 && old !== gen) lruGenUpdateSize(k, folioType(f.flags[head]!), 1 << f.order[head]!, old, gen);
  } else if (lruGenSetRefs(k, head)) {
    const old = folioLruGen(k, head);
    if (old >= 0 && old !== gen && (f.flags[head]! & PG.lru) !== 0) lruBatchAdd(k, head, 'activate');
  }
}

/**
 * PTEs [start, end) of PTE table `t` (all inside one VMA): get_pte_pfn() (present, young, not
 * the zero page), get_pfn_folio() (on a generation list), ptep_clear_young_notify(), batched
 * per folio as walk_pte_range() and lru_gen_look_around() do. Returns the young PTEs cleared.
 */
function agePtes(k: Kernel, t: number, start: number, end: number, gen: number): number {
  const f = k.f;
  const pt = k.pt;
  const costs = k.hw.costs;
  let last = -1;
  let dirty = false;
  let young = 0;
  for (let vpn = start; vpn < end; vpn++) {
    const kk = pt.slot(t, pteIndex(vpn));
    const fl = pt.fl[kk]!;
    k.charge(costs.walkLevel);
    if ((fl & (PTE.present | PTE.young)) !== (PTE.present | PTE.young)) continue;
    const pfn = pt.val[kk]!;
    const head = f.head(pfn);
    if ((f.flags[head]! & PG.reserved) !== 0 || folioLruGen(k, head) < 0) continue;
    pt.fl[kk] = fl & ~PTE.young;
    k.charge(costs.pteUpdate);
    if (last !== head) {
      if (last >= 0) walkUpdateFolio(k, last, gen, dirty);
      last = head;
      dirty = false;
    }
    if ((fl & PTE.dirty) !== 0) dirty = true;
    young++;
  }
  if (last >= 0) walkUpdateFolio(k, last, gen, dirty);
  return young;
}

/** walk_pmd_range_locked() for a PMD-mapped THP: its PMD's accessed bit. */
function agePmd(k: Kernel, mm: MmStruct, vpn: number, gen: number): void {
  const pmd = tableAt(k, mm, vpn, 1, false);
  if (pmd < 0) return;
  const kk = k.pt.slot(pmd, pmdIndex(vpn));
  const fl = k.pt.fl[kk]!;
  k.charge(k.hw.costs.walkLevel);
  if ((fl & (PTE.present | PTE.huge | PTE.young)) !== (PTE.present | PTE.huge | PTE.young)) return;
  const head = k.f.head(k.pt.val[kk]!);
  if ((k.f.flags[head]! & PG.reserved) !== 0 || folioLruGen(k, head) < 0) return;
  k.pt.fl[kk] = fl & ~PTE.young;
  k.charge(k.hw.costs.pteUpdate);
  walkUpdateFolio(k, head, gen, (fl & PTE.dirty) !== 0);
}

/** should_skip_vma(): inaccessible VMAs; anonymous ones when anon cannot be evicted. */
function shouldSkipVma(vma: Vma, swappiness: number): boolean {
  if ((vma.flags & (VM.read | VM.write)) === 0) return true;
  return swappiness === 0;
}

/** walk_mm(): every VMA's PTE tables (walk_pmd_range → walk_pte_range), PMD by PMD. */
function walkMm(k: Kernel, mm: MmStruct, swappiness: number, gen: number): void {
  for (const vma of mm.vmas) {
    if (shouldSkipVma(vma, swappiness)) continue;
    for (let vpn = vma.start; vpn < vma.end; ) {
      const next = Math.min(vma.end, vpn - (vpn % PTRS_PER_TABLE) + PTRS_PER_TABLE);
      const t = tableAt(k, mm, vpn, 0, false);
      if (t === -2) agePmd(k, mm, vpn, gen);
      else if (t >= 0) agePtes(k, t, vpn, next, gen);
      k.condResched(next - vpn);
      vpn = next;
    }
  }
}

/**
 * lru_gen_look_around(): reclaim's rmap walk found the PTE at `vpn` (table `t`) young and
 * cleared it; clear and promote the young PTEs around it in the same PTE table and VMA, at
 * most MIN_LRU_BATCH of them centred on it.
 */
export function lruGenLookAround(k: Kernel, vma: Vma, vpn: number, t: number): void {
  const g = k.lrugen!;
  g.lookArounds++;
  let start = Math.max(vpn - (vpn % PTRS_PER_TABLE), vma.start);
  let end = Math.min(vpn - (vpn % PTRS_PER_TABLE) + PTRS_PER_TABLE, vma.end);
  if (end - start === 1) return;
  const batch = 64; // MIN_LRU_BATCH PTEs
  if (end - start > batch) {
    if (vpn - start < batch / 2) end = start + batch;
    else if (end - vpn < batch / 2) start = end - batch;
    else {
      start = vpn - batch / 2;
      end = vpn + batch / 2;
    }
  }
  agePtes(k, t, start, end, lruGenFromSeq(g.maxSeq));
}

/**
 * inc_min_seq(): the oldest generation of `type` moves up (folio_inc_gen(), to the tail of the
 * next generation's list; "prevent cold/hot inversion") unless the type is not evictable.
 */
function incMinSeq(k: Kernel, type: number, swappiness: number): void {
  const g = k.lrugen!;
  const f = k.f;
  const evictable = type === 1 ? swappiness <= MAX_SWAPPINESS : swappiness !== 0;
  if (evictable) {
    const list = lruGenList(lruGenFromSeq(g.minSeq[type]!), type);
    for (let head = k.lruvec.tail(list); head >= 0; head = k.lruvec.tail(list)) {
      const refs = folioLruRefs(k, head);
      const ws = (f.flags[head]! & PG.workingset) !== 0;
      const newGen = folioIncGen(k, head);
      lruGenListMove(k, head, newGen, true);
      // don't count the workingset being lazily promoted
      if (!lazilyPromoted(refs, ws))
        g.protected[type * MAX_NR_TIERS + lruTierFromRefs(refs, ws)]! += 1 << f.order[head]!;
    }
  }
  resetCtrlPos(g, type, true);
  g.minSeq[type]!++;
}

/** inc_max_seq(): a new youngest generation; the active / inactive sizes follow. */
function incMaxSeq(k: Kernel, swappiness: number): void {
  const g = k.lrugen!;
  for (let type = 0; type < 2; type++) if (getNrGens(g, type) === MAX_NR_GENS) incMinSeq(k, type, swappiness);
  const prev = lruGenFromSeq(g.maxSeq - 1);
  const next = lruGenFromSeq(g.maxSeq + 1);
  const p = k.lruvec.pages;
  for (let type = 0; type < 2; type++) {
    const lru = type === 0 ? LRU.inactiveAnon : LRU.inactiveFile;
    const delta = g.nrPages[prev * 2 + type]! - g.nrPages[next * 2 + type]!;
    if (delta === 0) continue;
    p[lru]! += delta;
    p[lru + 1]! -= delta;
  }
  g.maxSeq++;
}

/**
 * try_to_inc_max_seq(): walk every mm (set_mm_walk(): the reclaimer now has a walk), then
 * inc_max_seq(). False when another aging already produced generation `seq` + 1.
 */
export function tryToIncMaxSeq(k: Kernel, seq: number, swappiness: number): boolean {
  const g = k.lrugen!;
  if (seq < g.maxSeq) return false;
  g.mmWalk = true;
  g.walks++;
  const gen = lruGenFromSeq(g.maxSeq);
  for (const mm of k.mms) walkMm(k, mm, swappiness, gen);
  g.mmStateSeq++;
  incMaxSeq(k, swappiness);
  return true;
}

/** DEFINE_MIN_SEQ()'s copy, reused */
const scratchMinSeq = new Float64Array(2);

/**
 * try_to_inc_min_seq(): skip the empty oldest generations of the evictable types (keeping
 * MIN_NR_GENS); anon and file stay within MIN_NR_GENS of max_seq of each other.
 */
export function tryToIncMinSeq(k: Kernel, swappiness: number): boolean {
  const g = k.lrugen!;
  const lv = k.lruvec;
  const minSeq = scratchMinSeq;
  minSeq[0] = g.minSeq[0]!;
  minSeq[1] = g.minSeq[1]!;
  const first = firstEvictableType(swappiness);
  const last = lastEvictableType(swappiness);
  for (let type = first; type <= last; type++) {
    while (minSeq[type]! + MIN_NR_GENS <= g.maxSeq) {
      if (lv.first[lruGenList(lruGenFromSeq(minSeq[type]!), type)] !== 0) break;
      minSeq[type]!++;
    }
  }
  // see the comment on lru_gen_folio
  if (swappiness !== 0 && swappiness <= MAX_SWAPPINESS) {
    const seq = g.maxSeq - MIN_NR_GENS;
    if (minSeq[0]! > seq && minSeq[1]! < seq) minSeq[0] = seq;
    else if (minSeq[1]! > seq && minSeq[0]! < seq) minSeq[1] = seq;
  }
  let success = false;
  for (let type = first; type <= last; type++) {
    if (minSeq[type]! <= g.minSeq[type]!) continue;
    resetCtrlPos(g, type, true);
    g.minSeq[type] = minSeq[type]!;
    success = true;
  }
  return success;
}
