import { PTRS_PER_TABLE } from '../units.js';
import { grown, nextCapacity } from '../mem/typed.js';

/**
 * All page-table pages of the machine in one pool. A table has an identity (its id), a level,
 * a reference count (1 normally; >1 when shared, e.g. copy-on-write PTE tables), an owner mm
 * (for RSS / pgtables_bytes accounting, as in the COW PTE RFC) and a count of used entries.
 * Entries: `val[id * 512 + i]` and `fl[id * 512 + i]`.
 */
export class PageTablePool {
  capacity = 0;
  val = new Uint32Array(0);
  fl = new Uint32Array(0);
  level = new Uint8Array(0);
  refcount = new Int32Array(0);
  owner = new Int32Array(0);
  used = new Int32Array(0);
  /** the memcg id a table below the pgd is charged to (memcg kmem, __GFP_ACCOUNT), 0 = root */
  memcg = new Uint16Array(0);
  private freeIds: number[] = [];
  private top = 0;
  /** Live tables (all levels, pgd included). */
  live = 0;
  /** Live tables below the pgd (what NR_PAGETABLE / mm_pgtables_bytes count). */
  liveAccounted = 0;
  /** Tables ever allocated and freed (for the checker and stats). */
  allocated = 0;
  freed = 0;

  /** Room for at least `min` tables: doubling, copying the used ids only (mem/typed.ts). */
  private grow(min: number): void {
    const cap = nextCapacity(this.capacity, min, 16, 1);
    const used = this.top;
    this.val = grown(this.val, cap * PTRS_PER_TABLE, used * PTRS_PER_TABLE);
    this.fl = grown(this.fl, cap * PTRS_PER_TABLE, used * PTRS_PER_TABLE);
    this.level = grown(this.level, cap, used);
    this.refcount = grown(this.refcount, cap, used);
    this.owner = grown(this.owner, cap, used);
    this.used = grown(this.used, cap, used);
    this.memcg = grown(this.memcg, cap, used);
    this.capacity = cap;
  }

  /**
   * Room for `n` more tables without growing: an operation that knows what it will allocate
   * (fork's copy of every table) grows once before it starts, while only the tables it copies
   * from are committed, instead of in its middle, when the old copy beside the new is largest.
   */
  reserve(n: number): void {
    const need = this.top + Math.max(0, n - this.freeIds.length);
    if (need > this.capacity) this.grow(need);
  }

  alloc(level: number, owner: number): number {
    let id: number;
    if (this.freeIds.length > 0) {
      id = this.freeIds.pop()!;
      // a freed table's entries may be set; a never-used id's are zero (and stay uncommitted)
      const b = id * PTRS_PER_TABLE;
      this.val.fill(0, b, b + PTRS_PER_TABLE);
      this.fl.fill(0, b, b + PTRS_PER_TABLE);
    } else {
      id = this.top;
      if (id >= this.capacity) this.grow(id + 1);
      this.top++;
    }
    this.level[id] = level;
    this.refcount[id] = 1;
    this.owner[id] = owner;
    this.used[id] = 0;
    this.live++;
    if (level < 3) this.liveAccounted++;
    this.allocated++;
    return id;
  }

  /** Table ids in use so far: [0, span) (capacity may be larger, uncommitted). */
  get span(): number {
    return this.top;
  }

  free(id: number): void {
    this.live--;
    if (this.level[id]! < 3) this.liveAccounted--;
    this.refcount[id] = 0;
    this.freed++;
    this.freeIds.push(id);
  }

  /** Global index of entry `i` of table `id` in `val` / `fl` (the entry's slot). */
  slot(id: number, i: number): number {
    return id * PTRS_PER_TABLE + i;
  }

  /** Set an entry, keeping the used-entry count. */
  set(id: number, i: number, val: number, fl: number): void {
    const k = this.slot(id, i);
    const was = this.fl[k]! !== 0;
    this.val[k] = val;
    this.fl[k] = fl;
    if (was !== (fl !== 0)) this.used[id]! += fl !== 0 ? 1 : -1;
  }

  clear(id: number, i: number): void {
    const k = this.slot(id, i);
    if (this.fl[k] !== 0) {
      this.used[id]!--;
      this.fl[k] = 0;
      this.val[k] = 0;
    }
  }

  static readonly BYTES_PER_ENTRY = 6;
}
