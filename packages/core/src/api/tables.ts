/**
 * The page-table API: what a policy may do with PTE tables (copy-on-write page tables,
 * On-Demand Fork). Core implements the mechanisms (kernel/pgtable-share.ts); a policy decides
 * when to use them from fork.pteTable and fork.unshareTable.
 */
import type { ForkTableContext, TableUnshareContext } from './contexts.js';
import type { MmView } from './views.js';

export interface TableCensus {
  /** present anonymous pages (not the zero page) */
  readonly anon: number;
  /** swap entries */
  readonly swap: number;
}

export interface PageTableApi {
  /** Users of a PTE table (1 = private to one mm). */
  refcount(table: number): number;
  /** Id of the mm charged for the table (the owner model of the COW PTE RFC). */
  owner(table: number): number;
  /** Present anonymous pages and swap entries of a table. */
  census(table: number): TableCensus;
  /** Some present page of the table may be DMA-pinned (folio_maybe_dma_pinned()). */
  hasMaybePinned(table: number): boolean;
  /** Whether `mm`'s PMD entry covering `tableStart` points at `table`. */
  mapsTable(mm: MmView, tableStart: number, table: number): boolean;
  /**
   * fork.pteTable: link the parent's table into the child's PMD, write-protect both PMD entries
   * (the MMU ANDs the write bits of every level) and take a table reference. False when the
   * child already has an entry there or the parent's PMD does not point at the table.
   */
  share(ctx: ForkTableContext): boolean;
  /** fork.unshareTable: the table is `ctx.mm`'s alone now: restore its PMD write bit. Returns ctx.table. */
  reuse(ctx: TableUnshareContext): number;
  /** fork.unshareTable: modify the shared table in place (every user sees the change). Returns ctx.table. */
  keep(ctx: TableUnshareContext): number;
  /**
   * fork.unshareTable: `ctx.mm` zaps the whole table: clear its PMD entry and drop its reference
   * without touching the PTEs (flushing its TLB unless it exits). Returns -1.
   */
  drop(ctx: TableUnshareContext): number;
  /**
   * fork.unshareTable: give `ctx.mm` a private copy, doing per entry what copy_pte_range()
   * does at fork (folio_get, rmap, clear PageAnonExclusive, write-protect; swap_duplicate;
   * an early copy of maybe-pinned exclusive pages, and with `copyExclusiveWritable` of every
   * exclusive writable page). `users`: every mm mapping the table (told of the change, break
   * before make, like contpte needs). Returns the new table.
   */
  copy(
    ctx: TableUnshareContext,
    opts?: { readonly copyExclusiveWritable?: boolean; readonly users?: readonly MmView[] },
  ): number;
  /**
   * Owner model: move the table's RSS, swap entries and 4 KiB of page-table charge to `to`, from
   * `from` (default: the current owner, `mmById(owner(table))`; pass it for an owner that
   * mmById() no longer finds, e.g. in mm.destroyed). No-op when from === to.
   */
  transferOwner(table: number, to: MmView, from?: MmView): void;
  /** Owner model: move `anon` pages of RSS and `swap` swap entries from one mm's counters to another's. */
  moveCounters(from: MmView, to: MmView, anon: number, swap: number): void;
  /** flush_tlb_mm_range() of `mm` over [start, end) on behalf of the policy. */
  flushRange(mm: MmView, start: number, end: number, reason: string, freedTables?: boolean): void;
  /** An mm by id (owners are ids). */
  mmById(id: number): MmView | undefined;
}
