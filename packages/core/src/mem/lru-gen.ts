/**
 * The multi-gen LRU's state of the (one) lruvec: struct lru_gen_folio (include/linux/mmzone.h,
 * CONFIG_LRU_GEN, "mm: multi-gen LRU: groundwork", ec1c86b25f4b, v6.1). Generations are
 * sequence numbers: max_seq (the youngest, shared by both types) and min_seq[type] (the oldest
 * of anon and of file); a folio's generation is `seq % MAX_NR_GENS`. The lists
 * lrugen->folios[gen][type] are Lruvec lists (mem/lru.ts) after the five classic ones.
 *
 * Per folio (head PFN) the kernel keeps the generation and the reference count in folio->flags
 * (LRU_GEN_MASK, LRU_REFS_MASK); here they live in FolioTable.lruGen:
 *   bits 0-2: gen + 1 (0 = on no generation list: isolated, in a batch, or two-list LRU)
 *   bits 3-4: LRU_REFS (accesses through file descriptors beyond PG_referenced)
 *   bits 5-7: the gen + 1 of the list the folio is threaded on. The kernel's list_del() needs no
 *             list head; this model's does. It differs from bits 0-2 while a promotion by the
 *             page-table walk (folio_update_gen()) waits for sort_folio() to move the folio.
 */
import { NR_LRU_LISTS } from './lru.js';

export const MIN_NR_GENS = 2;
export const MAX_NR_GENS = 4;
export const MAX_NR_TIERS = 4;
export const LRU_REFS_WIDTH = 2;
export const ANON_AND_FILE = 2;
export const LRU_GEN_ANON = 0;
export const LRU_GEN_FILE = 1;
/** MIN_LRU_BATCH (BITS_PER_LONG) and MAX_LRU_BATCH */
export const MIN_LRU_BATCH = 64;
export const MAX_LRU_BATCH = MIN_LRU_BATCH * 64;
export const MAX_SWAPPINESS = 200;
/** the lists lrugen->folios[gen][type] (one zone) */
export const NR_LRU_GEN_LISTS = MAX_NR_GENS * ANON_AND_FILE;

export const LRU_GEN_MASK = 0x7;
export const LRU_REFS_SHIFT = 3;
export const LRU_REFS_MASK = 0x3 << LRU_REFS_SHIFT;
export const LRU_LIST_SHIFT = 5;
export const LRU_LIST_MASK = 0x7 << LRU_LIST_SHIFT;

/** The Lruvec list index of lrugen->folios[gen][type]. */
export function lruGenList(gen: number, type: number): number {
  return NR_LRU_LISTS + gen * ANON_AND_FILE + type;
}

export class LruGen {
  /** lrugen->max_seq; MIN_NR_GENS + 1 at lru_gen_init_lruvec() */
  maxSeq = MIN_NR_GENS + 1;
  /** lrugen->min_seq[ANON_AND_FILE] */
  readonly minSeq = new Float64Array(ANON_AND_FILE);
  /** lrugen->nr_pages[gen][type], by the folios' generation (not the list they sit on) */
  readonly nrPages = new Float64Array(MAX_NR_GENS * ANON_AND_FILE);
  /** the PID controller's inputs, [type * MAX_NR_TIERS + tier] (NR_HIST_GENS is 1) */
  readonly avgRefaulted = new Float64Array(ANON_AND_FILE * MAX_NR_TIERS);
  readonly avgTotal = new Float64Array(ANON_AND_FILE * MAX_NR_TIERS);
  readonly refaulted = new Float64Array(ANON_AND_FILE * MAX_NR_TIERS);
  readonly evicted = new Float64Array(ANON_AND_FILE * MAX_NR_TIERS);
  readonly protected = new Float64Array(ANON_AND_FILE * MAX_NR_TIERS);
  /** lru_gen_mm_state->seq: completed iterations of the mm list */
  mmStateSeq = 0;
  /** current->reclaim_state->mm_walk is set (kswapd's, or allocated by an aging in this reclaim) */
  mmWalk = false;
  /** page-table walks (try_to_inc_max_seq) and look-arounds run, for tests and `explain` */
  walks = 0;
  lookArounds = 0;
}
