/**
 * Copy-on-write PTE tables (On-Demand Fork; Chih-En Lin's COW PTE RFC, seed 002).
 *
 * fork.pteTable: instead of copying a PTE table that one private anonymous VMA covers
 * completely, the child's PMD entry points at the parent's table, both PMD entries lose their
 * write bit (the MMU walk ANDs the write bits of every level, so the whole table becomes
 * read-only for both) and the table's refcount goes up. The PTEs, the pages' refcounts and
 * mapcounts and the RSS stay as they were: that is the saving.
 *
 * fork.unshareTable: called by core whenever such a table (refcount > 1, or PMD entry
 * read-only) is about to be modified. Three answers:
 *  - reuse: refcount 1 → restore the PMD write bit, take ownership, modify in place;
 *  - drop: the whole table is being zapped by one of several users (exit, munmap of a VMA that
 *    covers the whole table) → clear this mm's PMD entry, refcount--, return -1;
 *  - break: anything else → give this mm a private copy made exactly as copy_pte_range() would
 *    have made it at fork (folio_get + rmap + !PageAnonExclusive + write-protect the source,
 *    swap_duplicate for swap entries, early copy of maybe-pinned exclusive pages).
 * Reclaim and the accessed-bit clearing of MADV_COLD/PAGEOUT modify the shared table in place
 * (the table is one mapping of its pages for all its users; see README "swap").
 *
 * Accounting follows the RFC's owner model: a shared table, its RSS (MM_ANONPAGES) and its swap
 * entries (MM_SWAPENTS) and its 4 KiB of pgtables_bytes count for its owner only (core's
 * `pt.owner`, initially the parent). When the owner stops using the table (break or drop) the
 * charge moves to a remaining user.
 */
import {
  C,
  LEVEL_SPAN,
  PG,
  PTE,
  PTRS_PER_TABLE,
  VM,
  ZERO_PFN,
  tableIndex,
  type ForkContext,
  type Kernel,
  type MmPlugin,
  type MmStruct,
  type MmSystem,
  type TableUnshareContext,
  type Vma,
} from '@mmsim/core';

export interface CowPteOptions {
  /**
   * Share the tables of a VMA only when it covers at least this many whole PTE tables
   * (the paper's exclusion of small mappings; default 1: every fully covered table).
   */
  minTables?: number;
  /** VMA (region) names never shared, e.g. the RFC's exclusion of brk: `['heap']`. */
  excludeRegions?: string[];
  /**
   * The RFC's "COW to the entire page table" TODO (share PMD tables too). Not implemented:
   * `true` is rejected with an error so a scenario cannot silently measure the PTE-level variant.
   */
  shareHigherLevels?: boolean;
  /**
   * A GUP pin breaking a shared table copies the exclusive, PTE-writable pages for the pinning
   * mm right away (the pin then sits on a page only the pinner maps). Needed because core's
   * pin path does not re-check the PTE after unsharing (see README); default true.
   */
  gupCopyExclusive?: boolean;
  /**
   * Reasons that modify a shared table in place instead of breaking it. Default
   * `['reclaim', 'madvise']`: try_to_unmap() turning a present PTE into a swap entry, and
   * MADV_COLD/PAGEOUT clearing accessed bits. `[]` breaks for them too.
   */
  inPlace?: string[];
}

/** Counters this plugin defines (documented in the README). */
export const COWPTE_COUNTERS = ['cow_pte_share', 'cow_pte_break', 'cow_pte_reuse', 'cow_pte_free'] as const;

/** Reasons whose zap covers the whole table when one VMA of the mm covers it. */
const ZAP_REASONS = new Set(['exit', 'munmap', 'madvise_dontneed']);

interface Shared {
  /** first vpn of the table's span (the same in every user: fork keeps addresses) */
  start: number;
  /** every mm whose PMD points at the table (refcount == users.length) */
  users: MmStruct[];
}

/** The shared zero page or a page of the huge zero page (reserved frames: no rmap, no RSS). */
function isZeroPfn(k: Kernel, pfn: number): boolean {
  return pfn === ZERO_PFN || (k.f.flags[k.f.head(pfn)]! & PG.reserved) !== 0;
}

/** Present anon pages and swap entries of a table (what its owner's RSS / MM_SWAPENTS hold). */
function census(k: Kernel, t: number): { anon: number; swap: number } {
  const pt = k.pt;
  const b = t * PTRS_PER_TABLE;
  let anon = 0;
  let swap = 0;
  for (let i = 0; i < PTRS_PER_TABLE; i++) {
    const fl = pt.fl[b + i]!;
    if (fl === 0) continue;
    if ((fl & PTE.present) !== 0) {
      if (!isZeroPfn(k, pt.val[b + i]!)) anon++;
    } else if ((fl & PTE.swap) !== 0) swap++;
  }
  return { anon, swap };
}

export class CowPtePolicy implements MmPlugin {
  static readonly PLUGIN_NAME = 'policy-cowpte';
  readonly name: string = CowPtePolicy.PLUGIN_NAME;
  readonly options: Required<Omit<CowPteOptions, 'excludeRegions'>> & { excludeRegions: string[] };
  /** shared (or write-protected at the PMD) tables we created, by table id */
  readonly tables = new Map<number, Shared>();
  private k!: Kernel;
  private ids!: { share: number; brk: number; reuse: number; free: number };

  constructor(options: CowPteOptions = {}) {
    if (options.shareHigherLevels) {
      throw new Error('policy-cowpte: shareHigherLevels (COW of PMD tables) is not implemented; see the README');
    }
    const minTables = options.minTables ?? 1;
    if (!Number.isInteger(minTables) || minTables < 1) throw new Error(`policy-cowpte: minTables must be an integer >= 1, got ${String(options.minTables)}`);
    this.options = {
      minTables,
      excludeRegions: [...(options.excludeRegions ?? [])],
      shareHigherLevels: false,
      gupCopyExclusive: options.gupCopyExclusive ?? true,
      inPlace: [...(options.inPlace ?? ['reclaim', 'madvise'])],
    };
  }

  apply(sys: MmSystem): void {
    this.k = sys.kernel;
    this.ids = {
      share: sys.stats.define('cow_pte_share'),
      brk: sys.stats.define('cow_pte_break'),
      reuse: sys.stats.define('cow_pte_reuse'),
      free: sys.stats.define('cow_pte_free'),
    };
    sys.hooks.fork.pteTable.tap(this.name, (ctx) => this.share(ctx));
    sys.hooks.fork.unshareTable.tap(this.name, (ctx) => this.unshare(ctx));
    sys.hooks.mm.destroyed.tap(this.name, (mm) => this.forget(mm));
    // free_pgtables() may drop a reference of a shared table through core's freeTable() without
    // asking us (a range without PTEs is never zapped, e.g. mremap of an empty table): resync
    // the users of the tables in the flushed range when page tables were freed
    sys.hooks.tlbFlush.request.tap({ name: this.name, stage: -2000 }, (r) => {
      if (r.freedTables && r.mm && this.tables.size > 0 && (r.kind === 'range' || r.kind === 'mm')) this.resyncRange(r.mm, r.start, r.end);
    });
  }

  /* ------------------------------------------------------------------ fork */

  /** Whether fork may share this table (copy_pte_range() is skipped when it does). */
  eligible(ctx: ForkContext): boolean {
    if (!ctx.fullyCovered) return false;
    const vma = ctx.vma;
    if (this.options.excludeRegions.includes(vma.name)) return false;
    // the child is not registered with userfaultfd: its PTEs must lose the uffd-wp bits
    if ((vma.flags & (VM.uffdWp | VM.uffdMissing)) !== 0) return false;
    if (this.options.minTables > 1) {
      const first = Math.ceil(vma.start / PTRS_PER_TABLE);
      const last = Math.floor(vma.end / PTRS_PER_TABLE);
      if (last - first < this.options.minTables) return false;
    }
    return true;
  }

  /**
   * fork.pteTable. A table holding a maybe-pinned page is not shared (undefined → core copies
   * it and fork.page gives the pinned page its early copy): sharing would put a page that a
   * device may write into a table the child reads, and a later break would have to copy it
   * anyway. Checked only when the parent ever pinned (MMF_HAS_PINNED), like
   * page_needs_cow_for_dma().
   */
  share(ctx: ForkContext): 'shared' | undefined {
    if (!this.eligible(ctx)) return undefined;
    const k = ctx.kernel;
    const pt = k.pt;
    const f = k.f;
    const t = ctx.table;
    if (ctx.parent.hasPinned) {
      const b = t * PTRS_PER_TABLE;
      for (let i = 0; i < PTRS_PER_TABLE; i++) {
        if ((pt.fl[b + i]! & PTE.present) === 0) continue;
        const pfn = pt.val[b + i]!;
        if (!isZeroPfn(k, pfn) && f.maybeDmaPinned(f.head(pfn))) return undefined;
      }
    }
    const start = ctx.tableStart;
    const pi = tableIndex(start, 1);
    const ppmd = k.tableAt(ctx.parent, start, 1, false);
    if (ppmd < 0) return undefined;
    const pk = ppmd * PTRS_PER_TABLE + pi;
    if ((pt.fl[pk]! & PTE.table) === 0 || pt.val[pk] !== t) return undefined;
    const cpmd = k.tableAt(ctx.child, start, 1, true);
    // the RFC's double-count guard: link the table into the child only once
    if (pt.fl[cpmd * PTRS_PER_TABLE + pi] !== 0) return undefined;
    pt.refcount[t]!++;
    pt.set(cpmd, pi, t, PTE.present | PTE.table);
    pt.fl[pk] = pt.fl[pk]! & ~PTE.write;
    k.charge(k.hw.costs.pteUpdate * 2);
    let s = this.tables.get(t);
    if (s) this.resync(s, t);
    if (!s) {
      s = { start, users: [ctx.parent] };
      this.tables.set(t, s);
    } else if (!s.users.includes(ctx.parent)) s.users.push(ctx.parent);
    s.users.push(ctx.child);
    k.stats.v[this.ids.share]!++;
    return 'shared';
  }

  /* --------------------------------------------------------------- unshare */

  unshare(ctx: TableUnshareContext): number | undefined {
    const k = ctx.kernel;
    const t = ctx.table;
    const s = this.tables.get(t);
    if (!s) return undefined; // not a table we shared: leave it to others (core throws)
    const mm = ctx.mm;
    if (!s.users.includes(mm)) {
      // core dropped a reference behind our back (free_pgtables of an empty range): resync
      s.users.push(mm);
    }
    this.resync(s, t);
    const owner = this.ownerOf(s, t);
    if (!owner || !s.users.includes(owner)) this.transfer(t, owner, s.users[0]!);
    const rc = k.pt.refcount[t]!;
    if (rc <= 1) return this.reuse(ctx, s);
    if (this.options.inPlace.includes(ctx.reason)) return this.inPlace(ctx, s);
    if (ZAP_REASONS.has(ctx.reason) && this.zapsWholeTable(ctx)) return this.drop(ctx, s);
    return this.break(ctx, s);
  }

  /** Users recorded but no longer pointing at the table (core's freeTable dropped them). */
  private resync(s: Shared, t: number): void {
    const pt = this.k.pt;
    if (s.users.length === pt.refcount[t]) return;
    const pi = tableIndex(s.start, 1);
    const keep = s.users.filter((m) => {
      if (m.dead) return false;
      const pmd = this.k.tableAt(m, s.start, 1, false);
      return pmd >= 0 && (pt.fl[pmd * PTRS_PER_TABLE + pi]! & PTE.table) !== 0 && pt.val[pmd * PTRS_PER_TABLE + pi] === t;
    });
    s.users = keep;
  }

  /** resync() for every table `mm` uses in [start, end), handing over ownership as needed. */
  private resyncRange(mm: MmStruct, start: number, end: number): void {
    for (const [t, s] of this.tables) {
      if (s.start + PTRS_PER_TABLE <= start || s.start >= end || !s.users.includes(mm)) continue;
      const owner = this.ownerOf(s, t);
      this.resync(s, t);
      if (s.users.length === 0 || this.k.pt.refcount[t] === 0) {
        this.tables.delete(t);
        continue;
      }
      if (owner && !s.users.includes(owner)) this.transfer(t, owner, s.users[0]!);
    }
  }

  /**
   * Whether the caller zaps the whole table. exit_mmap zaps everything. munmap splits VMAs at
   * the range ends before zapping whole VMAs, so a table inside one VMA is zapped whole.
   * MADV_DONTNEED zaps [start, end) of VMAs without splitting them: not knowable from the
   * context, so it breaks (unless core passes the range, see README).
   */
  private zapsWholeTable(ctx: TableUnshareContext): boolean {
    const range = ctx as TableUnshareContext & { start?: number; end?: number };
    const lo = ctx.tableStart;
    const hi = lo + PTRS_PER_TABLE;
    if (ctx.reason === 'exit') return true;
    if (typeof range.start === 'number' && typeof range.end === 'number') {
      return range.start <= lo && range.end >= hi;
    }
    if (ctx.reason === 'munmap') {
      const v = ctx.mm.findVma(lo);
      return v !== undefined && v.start <= lo && v.end >= hi;
    }
    return false;
  }

  /** Move the table's RSS, swap entries and 4 KiB of page-table charge from `from` to `to`. */
  private transfer(t: number, from: MmStruct | undefined, to: MmStruct): void {
    const k = this.k;
    if (from === to) return;
    const c = census(k, t);
    if (from) {
      from.rssAnon -= c.anon;
      from.swapEnts -= c.swap;
      from.pgtablesBytes -= 4096;
    }
    to.rssAnon += c.anon;
    to.swapEnts += c.swap;
    to.pgtablesBytes += 4096;
    k.pt.owner[t] = to.id;
  }

  private ownerOf(s: Shared, t: number): MmStruct | undefined {
    const id = this.k.pt.owner[t]!;
    return s.users.find((m) => m.id === id) ?? this.k.mmById(id);
  }

  /** Refcount 1: the table is this mm's alone; make it writable again and take ownership. */
  private reuse(ctx: TableUnshareContext, s: Shared): number {
    const k = this.k;
    const t = ctx.table;
    const owner = this.ownerOf(s, t);
    if (owner !== ctx.mm) this.transfer(t, owner, ctx.mm);
    const pk = ctx.pmdTable * PTRS_PER_TABLE + ctx.pmdIndex;
    k.pt.fl[pk] = k.pt.fl[pk]! | PTE.write;
    k.charge(k.hw.costs.pteUpdate);
    this.tables.delete(t);
    k.stats.v[this.ids.reuse]!++;
    return t;
  }

  /**
   * Modify the shared table in place. For reclaim (try_to_unmap turning one present PTE into
   * a swap entry), core charges the caller's RSS/MM_SWAPENTS; under the owner model the change
   * belongs to the owner, so the caller's counters are pre-compensated, and the other users'
   * TLBs are flushed for the table's span (they may cache the translation being removed).
   */
  private inPlace(ctx: TableUnshareContext, s: Shared): number {
    const k = this.k;
    const t = ctx.table;
    if (ctx.reason === 'reclaim') {
      const owner = this.ownerOf(s, t);
      if (owner && owner !== ctx.mm) {
        ctx.mm.rssAnon += 1;
        owner.rssAnon -= 1;
        ctx.mm.swapEnts -= 1;
        owner.swapEnts += 1;
      }
      const saved = k.cpu;
      for (const m of s.users) {
        if (m !== ctx.mm) k.flush('range', m, s.start, s.start + PTRS_PER_TABLE, 'cow_pte_reclaim');
      }
      k.cpu = saved;
    }
    return t;
  }

  /** A non-last user zaps the whole table: drop its reference without touching the PTEs. */
  private drop(ctx: TableUnshareContext, s: Shared): number {
    const k = this.k;
    const t = ctx.table;
    const mm = ctx.mm;
    k.pt.clear(ctx.pmdTable, ctx.pmdIndex);
    k.pt.refcount[t]!--;
    s.users = s.users.filter((m) => m !== mm);
    if (k.pt.owner[t] === mm.id) this.transfer(t, mm, s.users[0]!);
    k.charge(k.hw.costs.pteUpdate);
    // exit_mmap's fullmm flush covers the exiting mm; munmap must flush the span it loses
    if (ctx.reason !== 'exit') k.flush('range', mm, s.start, s.start + PTRS_PER_TABLE, 'cow_pte_free', true);
    k.stats.v[this.ids.free]!++;
    return -1;
  }

  /**
   * Give `mm` a private copy of the table, doing per entry what copy_pte_range() does at a
   * normal fork (the work COW PTE deferred): present anon page → folio_get + one more rmap
   * (charged to `mm`) + clear PageAnonExclusive + write-protect the source PTE; a maybe-pinned
   * exclusive page (and, for a GUP pin, any exclusive writable page) → an early copy for `mm`;
   * swap entry → swap_duplicate + clear the exclusive bit in both; the zero page as is.
   */
  private break(ctx: TableUnshareContext, s: Shared): number {
    const k = this.k;
    const pt = k.pt;
    const f = k.f;
    const mm = ctx.mm;
    const t = ctx.table;
    const start = s.start;
    const end = start + PTRS_PER_TABLE;
    const gup = ctx.reason === 'gup' && this.options.gupCopyExclusive;
    for (const m of s.users) k.hooks.pte.beforeChange.call(m, start, end, 'cow_pte_break');
    const nt = k.allocTable(mm, 0);
    const sb = t * PTRS_PER_TABLE;
    const db = nt * PTRS_PER_TABLE;
    let vma: Vma | undefined;
    for (let i = 0; i < PTRS_PER_TABLE; i++) {
      const fl = pt.fl[sb + i]!;
      if (fl === 0) continue;
      const val = pt.val[sb + i]!;
      const vpn = start + i;
      k.charge(k.hw.costs.pteCopy);
      if ((fl & PTE.present) !== 0) {
        if (isZeroPfn(k, val)) {
          pt.set(nt, i, val, fl);
          continue;
        }
        const head = f.head(val);
        const exclusive = (f.flags[val]! & PG.anonExclusive) !== 0;
        if (exclusive && (f.maybeDmaPinned(head) || (gup && (fl & PTE.write) !== 0))) {
          if (!vma || vpn < vma.start || vpn >= vma.end) vma = mm.findVma(vpn);
          if (vma) {
            // copy_present_page(): `mm` gets its own page now, the table keeps the original
            const nh = k.allocFolio(0, false);
            f.data[nh] = f.data[val]!;
            k.charge(k.hw.costs.copyPage);
            k.addNewAnonRmap(nh, mm, vma, vpn, 1);
            k.lruAdd(nh);
            const w = (vma.flags & VM.write) !== 0 ? PTE.write : 0;
            pt.set(nt, i, nh, PTE.present | PTE.dirty | PTE.young | w | (fl & PTE.softDirty));
            k.stats.v[C.fork_page_copy]!++;
            continue;
          }
        }
        // folio_try_dup_anon_rmap_pte()
        k.folioGet(head);
        k.addAnonRmapPtes(head, val, 1, mm);
        f.flags[val]! &= ~PG.anonExclusive;
        let nfl = fl;
        if ((fl & PTE.write) !== 0) {
          nfl = fl & ~PTE.write;
          pt.fl[sb + i] = nfl; // ptep_set_wrprotect() on the shared table
        }
        pt.set(nt, i, val, nfl);
      } else if ((fl & PTE.swap) !== 0) {
        if (k.swap.count[val] === 0xffff) throw new Error('swap count overflow');
        k.swap.count[val]!++;
        mm.swapEnts++;
        const nfl = fl & ~PTE.swpExclusive;
        pt.fl[sb + i] = nfl;
        pt.set(nt, i, val, nfl);
      } else {
        pt.set(nt, i, val, fl);
      }
    }
    // this mm now maps its copy; the old table keeps its other users
    pt.set(ctx.pmdTable, ctx.pmdIndex, nt, PTE.present | PTE.write | PTE.table);
    pt.refcount[t]!--;
    s.users = s.users.filter((m) => m !== mm);
    if (pt.owner[t] === mm.id) this.transfer(t, mm, s.users[0]!);
    k.charge(k.hw.costs.pteUpdate);
    // this mm's paging-structure caches may still point at the old table
    k.flush('range', mm, start, end, 'cow_pte_break', true);
    for (const m of s.users) k.hooks.pte.afterSet.call(m, start, end);
    k.hooks.pte.afterSet.call(mm, start, end);
    k.stats.v[this.ids.brk]!++;
    return nt;
  }

  /** mm.destroyed: forget a dead mm (its zaps already dropped its references). */
  private forget(mm: MmStruct): void {
    for (const [t, s] of this.tables) {
      if (!s.users.includes(mm)) continue;
      s.users = s.users.filter((m) => m !== mm);
      if (s.users.length === 0) this.tables.delete(t);
      else if (this.k.pt.owner[t] === mm.id) this.transfer(t, mm, s.users[0]!);
    }
  }

  /** Number of tables currently shared (refcount > 1) by this plugin. */
  sharedTables(): number {
    let n = 0;
    for (const t of this.tables.keys()) if (this.k.pt.refcount[t]! > 1) n++;
    return n;
  }
}

/** Pages covered by one PMD entry (one PTE table). */
export const TABLE_SPAN = LEVEL_SPAN[1];
