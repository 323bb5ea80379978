/**
 * Copy-on-write PTE tables: the mechanisms (share at fork, reuse, modify in place, drop, copy)
 * behind the page-table API (api/tables.ts). Chih-En Lin's COW PTE RFC (seed 002): the
 * decisions are policy-cowpte's; the copy mirrors copy_pte_range() / copy_present_pte().
 */
import type { ForkTableContext, TableUnshareContext } from '../api/contexts.js';
import type { PageTableApi, TableCensus } from '../api/tables.js';
import type { MmView } from '../api/views.js';
import type { ForkCtx, TableUnshareRequest } from '../hooks/contexts.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { PTE } from '../mm/pte.js';
import { VM, type Vma } from '../mm/vma.js';
import { C } from '../stats/counters.js';
import { PTRS_PER_TABLE, pmdIndex } from '../units.js';
import type { Kernel } from './kernel.js';
import { tableAt } from './pgwalk.js';
import { addAnonRmapPtes, addNewAnonRmap } from './rmap.js';
import { lruAdd } from './lru-batch.js';
import { flush } from './tlb-flush.js';

export class TableApi implements PageTableApi {
  constructor(private readonly k: Kernel) {}

  /** The shared zero page or a page of the huge zero page (reserved frames: no rmap, no RSS). */
  private isZero(pfn: number): boolean {
    return pfn === ZERO_PFN || (this.k.f.flags[this.k.f.head(pfn)]! & PG.reserved) !== 0;
  }

  refcount(table: number): number {
    return this.k.pt.refcount[table]!;
  }
  owner(table: number): number {
    return this.k.pt.owner[table]!;
  }
  mmById(id: number): MmView | undefined {
    return this.k.mmById(id);
  }

  census(t: number): TableCensus {
    const pt = this.k.pt;
    let anon = 0;
    let swap = 0;
    for (let i = 0; i < PTRS_PER_TABLE; i++) {
      const fl = pt.fl[pt.slot(t, i)]!;
      if (fl === 0) continue;
      if ((fl & PTE.present) !== 0) {
        if (!this.isZero(pt.val[pt.slot(t, i)]!)) anon++;
      } else if ((fl & PTE.swap) !== 0) swap++;
    }
    return { anon, swap };
  }

  hasMaybePinned(t: number): boolean {
    const { pt, f } = this.k;
    for (let i = 0; i < PTRS_PER_TABLE; i++) {
      const s = pt.slot(t, i);
      if ((pt.fl[s]! & PTE.present) === 0) continue;
      const pfn = pt.val[s]!;
      if (!this.isZero(pfn) && f.maybeDmaPinned(f.head(pfn))) return true;
    }
    return false;
  }

  mapsTable(mm: MmView, tableStart: number, table: number): boolean {
    const m = mm as MmStruct;
    if (m.dead) return false;
    const pmd = tableAt(this.k, m, tableStart, 1, false);
    if (pmd < 0) return false;
    const s = this.k.pt.slot(pmd, pmdIndex(tableStart));
    return (this.k.pt.fl[s]! & PTE.table) !== 0 && this.k.pt.val[s] === table;
  }

  share(ctx: ForkTableContext): boolean {
    const k = this.k;
    const { pt } = k;
    const c = ctx as ForkCtx;
    const start = c.tableStart;
    const pi = pmdIndex(start);
    const ppmd = tableAt(k, c.parent, start, 1, false);
    if (ppmd < 0) return false;
    const pk = pt.slot(ppmd, pi);
    if ((pt.fl[pk]! & PTE.table) === 0 || pt.val[pk] !== c.table) return false;
    const cpmd = tableAt(k, c.child, start, 1, true);
    // the RFC's double-count guard: link the table into the child only once
    if (pt.fl[pt.slot(cpmd, pi)] !== 0) return false;
    pt.refcount[c.table]!++;
    pt.set(cpmd, pi, c.table, PTE.present | PTE.table);
    pt.fl[pk] = pt.fl[pk]! & ~PTE.write;
    k.charge(k.hw.costs.pteUpdate * 2);
    return true;
  }

  reuse(ctx: TableUnshareContext): number {
    const k = this.k;
    const r = ctx as TableUnshareRequest;
    const pk = k.pt.slot(r.pmdTable, r.pmdIndex);
    k.pt.fl[pk] = k.pt.fl[pk]! | PTE.write;
    k.charge(k.hw.costs.pteUpdate);
    return r.table;
  }

  keep(ctx: TableUnshareContext): number {
    return ctx.table;
  }

  drop(ctx: TableUnshareContext): number {
    const k = this.k;
    const r = ctx as TableUnshareRequest;
    k.pt.clear(r.pmdTable, r.pmdIndex);
    k.pt.refcount[r.table]!--;
    k.charge(k.hw.costs.pteUpdate);
    // exit_mmap's fullmm flush covers the exiting mm; munmap must flush the span it loses
    if (r.reason !== 'exit') flush(k, 'range', r.mm, r.tableStart, r.tableStart + PTRS_PER_TABLE, 'cow_pte_free', true);
    return -1;
  }

  copy(
    ctx: TableUnshareContext,
    opts: { readonly copyExclusiveWritable?: boolean; readonly users?: readonly MmView[] } = {},
  ): number {
    const k = this.k;
    const { pt, f } = k;
    const r = ctx as TableUnshareRequest;
    const mm = r.mm;
    const t = r.table;
    const start = r.tableStart;
    const copyWritable = opts.copyExclusiveWritable === true;
    const users = (opts.users ?? []) as readonly MmStruct[];
    for (const m of users) k.hooks.pte.beforeChange.call(m, start, start + PTRS_PER_TABLE, 'cow_pte_break');
    const nt = k.allocTable(mm, 0);
    let vma: Vma | undefined;
    for (let i = 0; i < PTRS_PER_TABLE; i++) {
      const src = pt.slot(t, i);
      const fl = pt.fl[src]!;
      if (fl === 0) continue;
      const val = pt.val[src]!;
      const vpn = start + i;
      k.charge(k.hw.costs.pteCopy);
      if ((fl & PTE.present) !== 0) {
        if (this.isZero(val)) {
          pt.set(nt, i, val, fl);
          continue;
        }
        const head = f.head(val);
        const exclusive = (f.flags[val]! & PG.anonExclusive) !== 0;
        if (exclusive && (f.maybeDmaPinned(head) || (copyWritable && (fl & PTE.write) !== 0))) {
          if (!vma || vpn < vma.start || vpn >= vma.end) vma = mm.findVma(vpn);
          if (vma) {
            // copy_present_page(): `mm` gets its own page now, the table keeps the original
            const nh = k.allocFolio(0, false, head);
            f.data[nh] = f.data[val]!;
            k.charge(k.hw.costs.copyPage);
            addNewAnonRmap(k, nh, mm, vma, vpn, 1);
            lruAdd(k, nh);
            const w = (vma.flags & VM.write) !== 0 ? PTE.write : 0;
            pt.set(nt, i, nh, PTE.present | PTE.dirty | k.sd | PTE.young | w | (fl & PTE.softDirty));
            k.stats.v[C.fork_page_copy]!++;
            continue;
          }
        }
        // folio_try_dup_anon_rmap_pte()
        k.folioGet(head);
        addAnonRmapPtes(k, head, val, 1, mm);
        f.flags[val]! &= ~PG.anonExclusive;
        let nfl = fl;
        if ((fl & PTE.write) !== 0) {
          nfl = fl & ~PTE.write;
          pt.fl[src] = nfl; // ptep_set_wrprotect() on the shared table
        }
        pt.set(nt, i, val, nfl);
      } else if ((fl & PTE.swap) !== 0) {
        if (k.swap.count[val] === 0xffff) throw new Error('swap count overflow');
        k.swap.count[val]!++;
        mm.swapEnts++;
        const nfl = fl & ~PTE.swpExclusive;
        pt.fl[src] = nfl;
        pt.set(nt, i, val, nfl);
      } else {
        pt.set(nt, i, val, fl);
      }
    }
    // this mm now maps its copy; the old table keeps its other users
    pt.set(r.pmdTable, r.pmdIndex, nt, PTE.present | PTE.write | PTE.table);
    pt.refcount[t]!--;
    k.charge(k.hw.costs.pteUpdate);
    // this mm's paging-structure caches may still point at the old table
    flush(k, 'range', mm, start, start + PTRS_PER_TABLE, 'cow_pte_break', true);
    for (const m of users) if (m !== mm) k.hooks.pte.afterSet.call(m, start, start + PTRS_PER_TABLE);
    k.hooks.pte.afterSet.call(mm, start, start + PTRS_PER_TABLE);
    return nt;
  }

  transferOwner(t: number, to: MmView, fromMm?: MmView): void {
    const k = this.k;
    const from = (fromMm as MmStruct | undefined) ?? k.mmById(k.pt.owner[t]!);
    const dst = to as MmStruct;
    if (from === dst) return;
    const c = this.census(t);
    if (from) {
      from.updateHiwaterRss();
      from.rssAnon -= c.anon;
      from.swapEnts -= c.swap;
      from.pgtablesBytes -= 4096;
    }
    dst.rssAnon += c.anon;
    dst.swapEnts += c.swap;
    dst.pgtablesBytes += 4096;
    k.pt.owner[t] = dst.id;
  }

  moveCounters(from: MmView, to: MmView, anon: number, swap: number): void {
    const a = from as MmStruct;
    const b = to as MmStruct;
    a.updateHiwaterRss();
    a.rssAnon -= anon;
    b.rssAnon += anon;
    a.swapEnts -= swap;
    b.swapEnts += swap;
  }

  flushRange(mm: MmView, start: number, end: number, reason: string, freedTables = false): void {
    const k = this.k;
    const saved = k.cpu;
    flush(k, 'range', mm as MmStruct, start, end, reason, freedTables);
    k.cpu = saved;
  }
}
