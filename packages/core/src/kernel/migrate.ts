/**
 * Page migration of anonymous folios (mm/migrate.c, mm/mempolicy.c), as mbind(MPOL_MF_MOVE)
 * or move_pages(2) on the one node mmsim has: each folio is copied to a new frame and its
 * mappings are remapped. try_to_migrate() turns the PTEs into migration entries and
 * remove_migration_ptes() turns them into PTEs of the new folio inside this one call, so no
 * migration entry outlives the step (a fault meeting one would wait in
 * migration_entry_wait()).
 */
import type { Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import type { Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { C } from '../stats/counters.js';
import { HPAGE_PMD_NR, pmdStart, pteIndex } from '../units.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { addNewAnonRmap, removeRmapPtes } from './rmap.js';
import { addNewAnonRmapPmd, hugePmdSlot, removeRmapPmd } from './huge-memory.js';
import { lruAdd, lruAddDrainAll } from './lru-batch.js';
import { flush, flushPage } from './tlb-flush.js';

/** folio_migrate_flags(): what the new folio takes over (PG_lru comes with the putback) */
const MIGRATE_FLAGS = PG.anon | PG.dirty | PG.active | PG.referenced | PG.workingset | PG.swapbacked;

/**
 * remove_migration_pte() / remove_migration_pmd(): the new entry keeps the write permission
 * (a writable migration entry), soft-dirty and uffd-wp (pte_swp_soft_dirty,
 * pte_swp_uffd_wp); young and dirty come back only since 2e3468778dbe (v6.1): before, the
 * entry was pte_mkold(mk_pte()) and clean.
 */
function migratedFlags(k: Kernel, fl: number): number {
  const keep = PTE.present | PTE.huge | PTE.write | PTE.softDirty | PTE.uffdWp | PTE.protNone;
  return fl & (k.config.features.migrationKeepsYoungDirty ? keep | PTE.young | PTE.dirty : keep);
}

/**
 * do_mbind(MPOL_MF_MOVE) → migrate_pages() over [start, end): lru_add_drain_all() first;
 * queue_folios_pte_range() takes the anonymous folios mapped only here (no MPOL_MF_MOVE_ALL:
 * a folio maybe mapped shared is skipped); migrate_folio_unmap() / move_to_new_folio() fail a
 * folio with references beyond its mappings (folio_migrate_mapping(): -EAGAIN ten times, a
 * pin) and count pgmigrate_fail. Folios in the swap cache and partially mapped large folios
 * are not modelled and stay where they are. Returns the folios migrated.
 */
export function migratePages(k: Kernel, mm: MmStruct, start: number, end: number): number {
  k.charge(k.hw.costs.syscall);
  lruAddDrainAll(k);
  const f = k.f;
  let moved = 0;
  for (const vma of mm.vmasIn(start, end)) {
    if (vma.file !== null) continue;
    const a0 = Math.max(start, vma.start);
    const e = Math.min(end, vma.end);
    for (let v = a0; v < e; ) {
      k.condResched(1);
      const pk = hugePmdSlot(k, mm, v);
      if (pk >= 0) {
        const fl = k.pt.fl[pk]!;
        const head = k.pt.val[pk]!;
        if (
          (fl & PTE.present) !== 0 &&
          !k.mem.isZeroPfn(head) &&
          f.largeMapcount[head] === 1 &&
          (f.flags[head]! & PG.swapcache) === 0
        ) {
          if (migratePmd(k, mm, vma, pmdStart(v), pk, fl, head)) moved++;
        }
        v = pmdStart(v) + HPAGE_PMD_NR;
        continue;
      }
      const t = pteTable(k, mm, v);
      if (t < 0) {
        v++;
        continue;
      }
      const fl = k.pt.fl[k.pt.slot(t, pteIndex(v))]!;
      const pfn = k.pt.val[k.pt.slot(t, pteIndex(v))]!;
      if ((fl & PTE.present) === 0 || pfn === ZERO_PFN) {
        v++;
        continue;
      }
      const head = f.head(pfn);
      const nr = f.nrPages(head);
      const first = v - (pfn - head);
      // a large folio is taken whole when this mm maps all of it, in order, inside the VMA
      const whole = nr === 1 || (first >= vma.start && first + nr <= vma.end && mapsWhole(k, mm, first, head, nr));
      if ((f.flags[head]! & PG.anon) === 0 || f.folioMapcount(head) !== nr || !whole) {
        v++;
        continue;
      }
      if ((f.flags[head]! & (PG.swapcache | PG.partiallyMapped)) === 0 && migratePtes(k, mm, vma, first, head, nr))
        moved++;
      v = Math.max(v + 1, first + nr);
    }
  }
  return moved;
}

function mapsWhole(k: Kernel, mm: MmStruct, first: number, head: number, nr: number): boolean {
  for (let j = 0; j < nr; j++) {
    const t = pteTable(k, mm, first + j);
    if (t < 0) return false;
    const s = k.pt.slot(t, pteIndex(first + j));
    if ((k.pt.fl[s]! & PTE.present) === 0 || k.pt.val[s] !== head + j) return false;
  }
  return true;
}

/** folio_ref_count() beyond the mappings: a pin or another reference makes the move fail */
function extraRefs(k: Kernel, head: number, mappings: number): boolean {
  return k.f.ref[head]! !== mappings;
}

/** A new folio of the same order, charged to the old one's memcg (mem_cgroup_migrate()). */
function newFolio(k: Kernel, head: number): number {
  const f = k.f;
  const order = f.order[head]!;
  const mc = f.memcg[head]!;
  const saved = k.memcgCharge;
  k.memcgCharge = 0;
  let nh: number;
  try {
    nh = k.allocFolio(order, false, head);
  } finally {
    k.memcgCharge = saved;
  }
  const nr = 1 << order;
  f.memcg.fill(mc, nh, nh + nr);
  f.memcg.fill(0, head, head + nr); // the charge moved: freeing the old folio uncharges nothing
  for (let j = 0; j < nr; j++) f.data[nh + j] = f.data[head + j]!;
  k.charge(k.hw.costs.copyPage * nr);
  return nh;
}

/** try_to_migrate_one() + move_to_new_folio() + remove_migration_ptes() for a PTE-mapped folio */
function migratePtes(k: Kernel, mm: MmStruct, vma: Vma, first: number, head: number, nr: number): boolean {
  const f = k.f;
  if (extraRefs(k, head, nr)) {
    k.stats.v[C.pgmigrate_fail]! += nr;
    return false;
  }
  const nh = newFolio(k, head);
  const t = pteTableForWrite(k, mm, first, false, 'reclaim');
  k.hooks.pte.beforeChange.call(mm, first, first + nr, 'reclaim');
  const fls: number[] = [];
  let dirty = false;
  for (let j = 0; j < nr; j++) {
    const s = k.pt.slot(t, pteIndex(first + j));
    fls.push(k.pt.fl[s]!);
    if ((k.pt.fl[s]! & PTE.dirty) !== 0) dirty = true;
    // ptep_clear_flush(): the migration entry replaces the PTE
    k.pt.clear(t, pteIndex(first + j));
    flushPage(k, mm, first + j, 'try_to_migrate');
  }
  const excl: boolean[] = [];
  for (let j = 0; j < nr; j++) excl.push((f.flags[head + j]! & PG.anonExclusive) !== 0);
  const index = f.index[head]!;
  const anonVma = f.anonVma[head]!;
  // try_to_migrate_one(): `if (pte_dirty(pteval)) folio_mark_dirty(folio)`
  f.flags[nh]! |= (f.flags[head]! & MIGRATE_FLAGS) | (dirty ? PG.dirty : 0);
  removeRmapPtes(k, head, head, nr, mm);
  addNewAnonRmap(k, nh, mm, vma, first, nr);
  f.index[nh] = index;
  f.anonVma[nh] = anonVma;
  for (let j = 0; j < nr; j++) {
    if (!excl[j]) f.flags[nh + j]! &= ~PG.anonExclusive;
    k.pt.set(t, pteIndex(first + j), nh + j, migratedFlags(k, fls[j]!));
  }
  k.charge(k.hw.costs.pteUpdate * 2 * nr);
  k.hooks.pte.afterSet.call(mm, first, first + nr);
  f.ref[nh] = nr;
  // migrate_folio_done(): the old folio is freed; folio_putback_lru(dst) through the LRU batch
  k.folioPut(head, nr);
  lruAdd(k, nh, false);
  k.stats.v[C.pgmigrate_success]! += nr;
  return true;
}

/** set_pmd_migration_entry() + remove_migration_pmd(): THP migration (thp_migration_success) */
function migratePmd(k: Kernel, mm: MmStruct, vma: Vma, start: number, pk: number, fl: number, head: number): boolean {
  const f = k.f;
  if (extraRefs(k, head, 1)) {
    k.stats.v[C.pgmigrate_fail]! += HPAGE_PMD_NR;
    return false;
  }
  const nh = newFolio(k, head);
  k.hooks.pte.beforeChange.call(mm, start, start + HPAGE_PMD_NR, 'reclaim');
  flush(k, 'range', mm, start, start + HPAGE_PMD_NR, 'set_pmd_migration_entry', true, false);
  const excl: boolean[] = [];
  for (let j = 0; j < HPAGE_PMD_NR; j++) excl.push((f.flags[head + j]! & PG.anonExclusive) !== 0);
  const index = f.index[head]!;
  const anonVma = f.anonVma[head]!;
  f.flags[nh]! |= (f.flags[head]! & MIGRATE_FLAGS) | ((fl & PTE.dirty) !== 0 ? PG.dirty : 0);
  removeRmapPmd(k, head, mm);
  addNewAnonRmapPmd(k, nh, mm, vma, start);
  f.index[nh] = index;
  f.anonVma[nh] = anonVma;
  for (let j = 0; j < HPAGE_PMD_NR; j++) if (!excl[j]) f.flags[nh + j]! &= ~PG.anonExclusive;
  k.pt.fl[pk] = migratedFlags(k, fl);
  k.pt.val[pk] = nh;
  k.charge(k.hw.costs.pteUpdate * 2);
  k.hooks.pte.afterSet.call(mm, start, start + HPAGE_PMD_NR);
  f.ref[nh] = 1;
  k.folioPut(head, 1);
  lruAdd(k, nh, false);
  k.stats.v[C.pgmigrate_success]! += HPAGE_PMD_NR;
  k.stats.v[C.thp_migration_success]!++;
  return true;
}
