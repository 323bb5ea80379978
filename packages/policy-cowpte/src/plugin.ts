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
 * `ctx.tables.owner()`, initially the parent). When the owner stops using the table (break or
 * drop) the charge moves to a remaining user.
 *
 * Policy API 1.0: the plugin keeps the decisions (eligible(), the choice among reuse / keep /
 * drop / copy, its users map, the owner bookkeeping); the mechanics are core's page-table API
 * (`ctx.tables`). It never touches the kernel.
 */
import { SyncHook } from 'tapable';
import {
  LEVEL_SPAN,
  PTRS_PER_TABLE,
  VM,
  definePluginHooks,
  type Counter,
  type ForkTableContext,
  type MmPlugin,
  type MmView,
  type PageTableApi,
  type PolicyContext,
  type SystemKey,
  type TableFreedEvent,
  type TableUnshareContext,
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

/** A shared table event (plugin-owned hooks, `CowPtePolicy.getHooks(ctx)`). Read it in the tap. */
export interface CowPteTableEvent {
  /** the shared PTE table (an id for `ctx.tables`) */
  readonly table: number;
  /**
   * the mm concerned: `shared` the child that got the table, `reused` the mm that now has it
   * alone, `dropped` the mm that gave up its reference, `broken` the mm that got a private copy
   */
  readonly mm: MmView;
  /** first vpn of the table's span */
  readonly start: number;
}

export interface CowPteBrokenEvent extends CowPteTableEvent {
  /** the private copy now mapped by `mm` */
  readonly newTable: number;
}

/** The hooks policy-cowpte exposes to other plugins of the same system (notifications). */
export interface CowPteHooks {
  /** fork.pteTable shared a table with the child (one per `cow_pte_share`) */
  readonly shared: SyncHook<[CowPteTableEvent]>;
  /** a user got a private copy of a shared table (one per `cow_pte_break`) */
  readonly broken: SyncHook<[CowPteBrokenEvent]>;
  /** a write-protected table with one user was made writable in place (one per `cow_pte_reuse`) */
  readonly reused: SyncHook<[CowPteTableEvent]>;
  /** a user zapping the whole table dropped its reference without a copy (one per `cow_pte_free`) */
  readonly dropped: SyncHook<[CowPteTableEvent]>;
}

const getCowPteHooks = definePluginHooks<CowPteHooks>('policy-cowpte', () => ({
  shared: new SyncHook<[CowPteTableEvent]>(['event']),
  broken: new SyncHook<[CowPteBrokenEvent]>(['event']),
  reused: new SyncHook<[CowPteTableEvent]>(['event']),
  dropped: new SyncHook<[CowPteTableEvent]>(['event']),
}));

/** Reasons whose zap covers the whole table when the caller's range covers it. */
const ZAP_REASONS = new Set<string>(['exit', 'munmap', 'madvise_dontneed']);

interface Shared {
  /** first vpn of the table's span (the same in every user: fork keeps addresses) */
  start: number;
  /** every mm whose PMD points at the table (refcount == users.length) */
  users: MmView[];
}

export class CowPtePolicy implements MmPlugin {
  static readonly PLUGIN_NAME = 'policy-cowpte';
  /**
   * This system's policy-cowpte hooks (`{ shared, broken, reused, dropped }`), one set per
   * system: `CowPtePolicy.getHooks(ctx).shared.tap('mine', (e) => ...)` from any plugin's
   * apply(ctx), or `getHooks(system.key)` from a tool holding the MmSystem.
   */
  static getHooks(of: PolicyContext | SystemKey): CowPteHooks {
    return getCowPteHooks(of);
  }

  readonly name: string = CowPtePolicy.PLUGIN_NAME;
  readonly api = '^1.0.0';
  readonly options: Required<Omit<CowPteOptions, 'excludeRegions'>> & { excludeRegions: string[] };
  /** shared (or write-protected at the PMD) tables we created, by table id */
  readonly tables = new Map<number, Shared>();
  private pt!: PageTableApi;
  private ctx!: PolicyContext;
  private hooks!: CowPteHooks;
  private counters!: { share: Counter; brk: Counter; reuse: Counter; free: Counter };

  constructor(options: CowPteOptions = {}) {
    if (options.shareHigherLevels) {
      throw new Error('policy-cowpte: shareHigherLevels (COW of PMD tables) is not implemented; see the README');
    }
    const minTables = options.minTables ?? 1;
    if (!Number.isInteger(minTables) || minTables < 1)
      throw new Error(`policy-cowpte: minTables must be an integer >= 1, got ${String(options.minTables)}`);
    this.options = {
      minTables,
      excludeRegions: [...(options.excludeRegions ?? [])],
      shareHigherLevels: false,
      gupCopyExclusive: options.gupCopyExclusive ?? true,
      inPlace: [...(options.inPlace ?? ['reclaim', 'madvise'])],
    };
  }

  apply(ctx: PolicyContext): void {
    this.ctx = ctx;
    this.pt = ctx.tables;
    this.hooks = CowPtePolicy.getHooks(ctx);
    this.counters = {
      share: ctx.stats.define('cow_pte_share'),
      brk: ctx.stats.define('cow_pte_break'),
      reuse: ctx.stats.define('cow_pte_reuse'),
      free: ctx.stats.define('cow_pte_free'),
    };
    ctx.hooks.fork.pteTable.tap(this.name, (c) => this.share(c));
    ctx.hooks.fork.unshareTable.tap(this.name, (c) => this.unshare(c));
    ctx.hooks.mm.destroyed.tap(this.name, (mm) => this.forget(mm));
    // free_pgtables() drops a reference of a shared table through core's freeTable() without
    // asking us (a range without PTEs is never zapped, e.g. mremap of an empty table)
    ctx.hooks.pgtable.freed.tap(this.name, (e) => this.freed(e));
  }

  /* ------------------------------------------------------------------ fork */

  /** Whether fork may share this table (copy_pte_range() is skipped when it does). */
  eligible(ctx: ForkTableContext): boolean {
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
  share(ctx: ForkTableContext): 'shared' | undefined {
    if (!this.eligible(ctx)) return undefined;
    const t = ctx.table;
    if (ctx.parent.hasPinned && this.pt.hasMaybePinned(t)) return undefined;
    if (!this.pt.share(ctx)) return undefined;
    const start = ctx.tableStart;
    let s = this.tables.get(t);
    if (s) this.resync(s, t);
    if (!s) {
      s = { start, users: [ctx.parent] };
      this.tables.set(t, s);
    } else if (!s.users.includes(ctx.parent)) s.users.push(ctx.parent);
    s.users.push(ctx.child);
    this.counters.share.inc();
    if (this.hooks.shared.isUsed()) this.hooks.shared.call({ table: t, mm: ctx.child, start });
    return 'shared';
  }

  /* --------------------------------------------------------------- unshare */

  /**
   * fork.unshareTable: the decision. refcount 1 → reuse; an `inPlace` reason → keep (modify
   * the shared table); a whole-table zap → drop; anything else → break (a private copy).
   */
  unshare(ctx: TableUnshareContext): number | undefined {
    const t = ctx.table;
    const s = this.tables.get(t);
    if (!s) return undefined; // not a table we shared: leave it to others (core throws)
    const mm = ctx.mm;
    if (!s.users.includes(mm)) {
      // defensive: a user we lost track of
      s.users.push(mm);
    }
    this.resync(s, t);
    const owner = this.ownerOf(s, t);
    if (!owner || !s.users.includes(owner)) this.transfer(t, owner, s.users[0]!);
    if (this.pt.refcount(t) <= 1) return this.reuse(ctx, s);
    if (this.options.inPlace.includes(ctx.reason)) return this.inPlace(ctx, s);
    if (ZAP_REASONS.has(ctx.reason) && this.zapsWholeTable(ctx)) return this.drop(ctx, s);
    return this.break(ctx, s);
  }

  /** Users recorded but no longer pointing at the table (core's freeTable dropped them). */
  private resync(s: Shared, t: number): void {
    if (s.users.length === this.pt.refcount(t)) return;
    s.users = s.users.filter((m) => this.pt.mapsTable(m, s.start, t));
  }

  /**
   * pgtable.freed: core's freeTable() dropped `e.mm`'s reference of a table we track (or freed
   * it): forget that user, hand ownership on if it was the owner, forget the table once freed.
   */
  private freed(e: TableFreedEvent): void {
    if (e.level !== 0) return;
    const t = e.table;
    const s = this.tables.get(t);
    if (!s) return;
    const owner = this.ownerOf(s, t);
    this.resync(s, t);
    if (s.users.length === 0 || this.pt.refcount(t) === 0) {
      this.tables.delete(t);
      return;
    }
    if (owner && !s.users.includes(owner)) this.transfer(t, owner, s.users[0]!);
  }

  /**
   * Whether the caller zaps the whole table. exit_mmap zaps everything; munmap (which splits
   * VMAs at the range ends first) and MADV_DONTNEED zap [ctx.start, ctx.end) of this table.
   */
  private zapsWholeTable(ctx: TableUnshareContext): boolean {
    if (ctx.reason === 'exit') return true;
    const lo = ctx.tableStart;
    return ctx.start <= lo && ctx.end >= lo + PTRS_PER_TABLE;
  }

  /** Move the table's RSS, swap entries and 4 KiB of page-table charge from `from` to `to`. */
  private transfer(t: number, from: MmView | undefined, to: MmView): void {
    if (from === to) return;
    this.pt.transferOwner(t, to, from);
  }

  private ownerOf(s: Shared, t: number): MmView | undefined {
    const id = this.pt.owner(t);
    return s.users.find((m) => m.id === id) ?? this.ctx.mmById(id);
  }

  /** Refcount 1: the table is this mm's alone; make it writable again and take ownership. */
  private reuse(ctx: TableUnshareContext, s: Shared): number {
    const t = ctx.table;
    const owner = this.ownerOf(s, t);
    if (owner !== ctx.mm) this.transfer(t, owner, ctx.mm);
    this.pt.reuse(ctx);
    this.tables.delete(t);
    this.counters.reuse.inc();
    if (this.hooks.reused.isUsed()) this.hooks.reused.call({ table: t, mm: ctx.mm, start: s.start });
    return t;
  }

  /**
   * Modify the shared table in place. For reclaim (try_to_unmap turning one present PTE into
   * a swap entry), core charges the caller's RSS/MM_SWAPENTS; under the owner model the change
   * belongs to the owner, so the caller's counters are pre-compensated, and the other users'
   * TLBs are flushed for the table's span (they may cache the translation being removed).
   */
  private inPlace(ctx: TableUnshareContext, s: Shared): number {
    if (ctx.reason === 'reclaim') {
      const owner = this.ownerOf(s, ctx.table);
      if (owner && owner !== ctx.mm) {
        // core will take one page of RSS from the caller and give it one swap entry: the
        // owner's instead
        this.pt.moveCounters(owner, ctx.mm, 1, 0);
        this.pt.moveCounters(ctx.mm, owner, 0, 1);
      }
      for (const m of s.users) {
        if (m !== ctx.mm) this.pt.flushRange(m, s.start, s.start + PTRS_PER_TABLE, 'cow_pte_reclaim');
      }
    }
    return this.pt.keep(ctx);
  }

  /** A non-last user zaps the whole table: drop its reference without touching the PTEs. */
  private drop(ctx: TableUnshareContext, s: Shared): number {
    const t = ctx.table;
    const mm = ctx.mm;
    const r = this.pt.drop(ctx);
    s.users = s.users.filter((m) => m !== mm);
    if (this.pt.owner(t) === mm.id) this.transfer(t, mm, s.users[0]!);
    this.counters.free.inc();
    if (this.hooks.dropped.isUsed()) this.hooks.dropped.call({ table: t, mm, start: s.start });
    return r;
  }

  /**
   * Give `mm` a private copy of the table (`ctx.tables.copy()`: per entry what copy_pte_range()
   * does at a normal fork, the work COW PTE deferred), telling every user of the table; for a
   * GUP pin (with gupCopyExclusive) every exclusive writable page is copied early for `mm`.
   * Ownership of the old table moves on if `mm` owned it.
   */
  private break(ctx: TableUnshareContext, s: Shared): number {
    const mm = ctx.mm;
    const t = ctx.table;
    const gup = ctx.reason === 'gup' && this.options.gupCopyExclusive;
    const nt = this.pt.copy(ctx, { copyExclusiveWritable: gup, users: s.users });
    s.users = s.users.filter((m) => m !== mm);
    if (this.pt.owner(t) === mm.id) this.transfer(t, mm, s.users[0]!);
    this.counters.brk.inc();
    if (this.hooks.broken.isUsed()) this.hooks.broken.call({ table: t, mm, start: s.start, newTable: nt });
    return nt;
  }

  /** mm.destroyed: forget a dead mm (its zaps already dropped its references). */
  private forget(mm: MmView): void {
    for (const [t, s] of this.tables) {
      if (!s.users.includes(mm)) continue;
      s.users = s.users.filter((m) => m !== mm);
      if (s.users.length === 0) this.tables.delete(t);
      else if (this.pt.owner(t) === mm.id) this.transfer(t, mm, s.users[0]!);
    }
  }

  /** Number of tables currently shared (refcount > 1) by this plugin. */
  sharedTables(): number {
    let n = 0;
    for (const t of this.tables.keys()) if (this.pt.refcount(t) > 1) n++;
    return n;
  }
}

/** Pages covered by one PMD entry (one PTE table). */
export const TABLE_SPAN = LEVEL_SPAN[1];
