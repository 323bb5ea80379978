import type { FolioTable } from './folios.js';
/**
 * Per-CPU LRU batches (mm/swap.c: cpu_fbatches, PAGEVEC_SIZE 15 in 5.x, a folio_batch of 31
 * later) and the LRU lists they drain onto. Each batched folio holds one reference until
 * the batch is drained (folio_batch_move_lru → lru_add / lru_deactivate ...).
 */
export type LruBatchKind = 'add' | 'deactivate' | 'lazyfree' | 'activate';
export const LRU_BATCH_KINDS: readonly LruBatchKind[] = ['add', 'deactivate', 'lazyfree', 'activate'];

export class CpuLruBatches {
  readonly add: number[] = [];
  readonly deactivate: number[] = [];
  readonly lazyfree: number[] = [];
  readonly activate: number[] = [];
}

/** enum lru_list (include/linux/mmzone.h): the lists of one lruvec. */
export const LRU = Object.freeze({
  inactiveAnon: 0,
  activeAnon: 1,
  inactiveFile: 2,
  activeFile: 3,
  unevictable: 4,
} as const);
export const NR_LRU_LISTS = 5;
/** the classic lists, then the multi-gen LRU's lrugen->folios[gen][type] (mem/lru-gen.ts) */
const NR_LISTS = NR_LRU_LISTS + 4 * 2;

/**
 * struct lruvec: the LRU lists of one memcg on the (one) node, as doubly linked lists threaded through the
 * folio table (FolioTable.lruPrev / lruNext, indexed by head PFN, holding PFN + 1 so that 0 is
 * "none"). `first` is the list head (most recently added, list_add()), `last` its tail, where
 * reclaim isolates from (lru_to_folio(): src->prev). `pages` counts pages per list
 * (NR_INACTIVE_ANON, ...). No allocation: a few typed-array writes per operation.
 */
export class Lruvec {
  /** head PFN + 1 of each list's first (most recent) folio, 0 = empty */
  readonly first = new Int32Array(NR_LISTS);
  /** head PFN + 1 of each list's last (oldest) folio, 0 = empty */
  readonly last = new Int32Array(NR_LISTS);
  /** pages on each list (lruvec_page_state NR_LRU_BASE + lru) */
  readonly pages = new Float64Array(NR_LISTS);
  /** folios on each list */
  readonly folios = new Float64Array(NR_LISTS);

  /** lruvec->nonresident_age (mm/workingset.c), hierarchical: a memcg's aging ages the root's too */
  nonresidentAge = 0;
  /** lruvec->anon_cost / file_cost (lru_note_cost()) */
  anonCost = 0;
  fileCost = 0;
  /** lruvec->refaults[WORKINGSET_ANON / _FILE] (snapshot_refaults() of a reclaim targeting it) */
  refaultsAnon = 0;
  refaultsFile = 0;

  constructor(
    private readonly f: FolioTable,
    /** the memcg id owning it (mem_cgroup_lruvec()), 0 = the root */
    readonly memcg = 0,
  ) {}

  /**
   * lruvec_add_folio(): at the head of `lru`. LRU_UNEVICTABLE is counted but not linked
   * (`if (lru != LRU_UNEVICTABLE) list_add()`): the folio's lru.prev holds its mlock_count
   * there (kernel/mlock.ts), lruPrev here.
   */
  addHead(lru: number, head: number, nr: number): void {
    const f = this.f;
    if (lru === LRU.unevictable) {
      this.pages[lru]! += nr;
      this.folios[lru]!++;
      return;
    }
    const old = this.first[lru]!;
    f.lruPrev[head] = 0;
    f.lruNext[head] = old;
    if (old !== 0) f.lruPrev[old - 1] = head + 1;
    else this.last[lru] = head + 1;
    this.first[lru] = head + 1;
    this.pages[lru]! += nr;
    this.folios[lru]!++;
  }

  /** lruvec_add_folio_tail(): at the tail of `lru` (a rotation to the oldest end). */
  addTail(lru: number, head: number, nr: number): void {
    const f = this.f;
    const old = this.last[lru]!;
    f.lruNext[head] = 0;
    f.lruPrev[head] = old;
    if (old !== 0) f.lruNext[old - 1] = head + 1;
    else this.first[lru] = head + 1;
    this.last[lru] = head + 1;
    this.pages[lru]! += nr;
    this.folios[lru]!++;
  }

  /** list_add_tail(&new->lru, &folio->lru): `head` just newer than `next`, on next's list. */
  addBefore(lru: number, next: number, head: number, nr: number): void {
    const f = this.f;
    const p = f.lruPrev[next]!;
    f.lruPrev[head] = p;
    f.lruNext[head] = next + 1;
    f.lruPrev[next] = head + 1;
    if (p !== 0) f.lruNext[p - 1] = head + 1;
    else this.first[lru] = head + 1;
    this.pages[lru]! += nr;
    this.folios[lru]!++;
  }

  /** lruvec_del_folio() */
  del(lru: number, head: number, nr: number): void {
    const f = this.f;
    if (lru === LRU.unevictable) {
      f.lruPrev[head] = 0; // the mlock_count
      this.pages[lru]! -= nr;
      this.folios[lru]!--;
      return;
    }
    const p = f.lruPrev[head]!;
    const n = f.lruNext[head]!;
    if (p !== 0) f.lruNext[p - 1] = n;
    else this.first[lru] = n;
    if (n !== 0) f.lruPrev[n - 1] = p;
    else this.last[lru] = p;
    f.lruPrev[head] = 0;
    f.lruNext[head] = 0;
    this.pages[lru]! -= nr;
    this.folios[lru]!--;
  }

  /** The oldest folio of `lru` (its head PFN), -1 when empty. */
  tail(lru: number): number {
    return this.last[lru]! - 1;
  }

  /** The folios of `lru` from head (newest) to tail (oldest), for tests and checks. */
  list(lru: number): number[] {
    const out: number[] = [];
    // bounded by the count, so a corrupted (cyclic) list still ends
    for (let p = this.first[lru]!; p !== 0 && out.length <= this.folios[lru]!; p = this.f.lruNext[p - 1]!)
      out.push(p - 1);
    return out;
  }
}
