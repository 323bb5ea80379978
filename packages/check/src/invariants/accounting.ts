/**
 * Page-table and memory accounting:
 *   PageTables (pt.liveAccounted) == distinct tables reachable below the live pgds
 *   pt.live == that + one pgd per live mm
 *   each table's refcount == entries pointing at it (shared COW tables: one per sharing mm)
 *   mm.pgtablesBytes == 4096 x live tables (below the pgd) the mm owns (pt.owner)
 *   mm.rssAnon / mm.swapEnts == present anon / swap PTEs charged to the mm (census.ts)
 *   AnonPages (k.nrAnonMapped) == anon pages mapped at least once; Mapped (NR_FILE_MAPPED) the same of page-cache pages
 *   MM_FILEPAGES / MM_SHMEMPAGES == present PTEs of page-cache / shmem folios charged to the mm
 */
import { PG, thpState, type Kernel } from '@mmsim/core';
import type { Census } from './census.js';
import type { ViolationList } from './violation.js';

export function checkPageTables(k: Kernel, c: Census, v: ViolationList): void {
  const pt = k.pt;
  // PTE tables deposited with PMD-mapped THPs (pgtable_trans_huge_deposit) count in PageTables
  const deposited = new Set(thpState(k).deposited.values());
  const reachable = c.tableRefs.size + deposited.size;
  if (pt.liveAccounted !== reachable) {
    v.add(
      'pagetables',
      `PageTables counts ${pt.liveAccounted} tables (${pt.liveAccounted * 4} kB) but ${reachable} are reachable from the ${k.mms.size} live mm(s)`,
    );
  }
  if (pt.live !== pt.liveAccounted + k.mms.size) {
    v.add(
      'pagetables',
      `${pt.live} live tables in all, expected ${pt.liveAccounted} below the pgds + ${k.mms.size} pgd(s)`,
    );
  }
  for (const [t, refs] of c.tableRefs) {
    if (pt.refcount[t] !== refs)
      v.add(
        'pagetables',
        `table ${t} (level ${pt.level[t]}): refcount ${pt.refcount[t]}, but ${refs} entr${refs === 1 ? 'y points' : 'ies point'} at it`,
      );
  }
  const owned = new Map<number, number>();
  for (let id = 0, n = pt.span; id < n; id++) {
    if (pt.refcount[id]! <= 0 || pt.level[id]! >= 3) continue;
    owned.set(pt.owner[id]!, (owned.get(pt.owner[id]!) ?? 0) + 1);
    if (!c.tableRefs.has(id) && !deposited.has(id))
      v.add('leak', `table ${id} (level ${pt.level[id]}, owner mm ${pt.owner[id]}) is live but no live mm reaches it`);
  }
  for (const mm of k.mms) {
    const want = (owned.get(mm.id) ?? 0) * 4096;
    if (mm.pgtablesBytes !== want)
      v.add(
        'pagetables',
        `mm ${mm.id}: pgtables_bytes ${mm.pgtablesBytes}, but it owns ${want / 4096} live table(s) (${want} bytes)`,
      );
  }
}

export function checkRss(k: Kernel, c: Census, v: ViolationList): void {
  for (const [mm, mc] of c.mms) {
    if (mm.rssAnon !== mc.rss)
      v.add('rss', `mm ${mm.id}: MM_ANONPAGES ${mm.rssAnon}, but ${mc.rss} present anon PTE(s) are charged to it`);
    if (mm.rssFile !== mc.fileRss || mm.rssShmem !== mc.shmemRss)
      v.add(
        'rss',
        `mm ${mm.id}: MM_FILEPAGES ${mm.rssFile} / MM_SHMEMPAGES ${mm.rssShmem}, but ${mc.fileRss} / ${mc.shmemRss} present file / shmem PTE(s) are charged to it`,
      );
    if (mm.swapEnts !== mc.swapEnts)
      v.add('rss', `mm ${mm.id}: MM_SWAPENTS ${mm.swapEnts}, but ${mc.swapEnts} swap PTE(s) are charged to it`);
  }
  let mapped = 0;
  let fileMapped = 0;
  const f = k.f;
  for (const [pfn, n] of c.pteMaps) {
    if (n <= 0) continue;
    if ((f.flags[f.head(pfn)]! & PG.filemap) !== 0) fileMapped++;
    else mapped++;
  }
  if (k.pageCache.nrFileMapped !== fileMapped)
    v.add('rss', `Mapped ${k.pageCache.nrFileMapped} pages, but ${fileMapped} distinct page-cache pages are mapped`);
  for (const [head] of c.pmdMaps) {
    const nr = 1 << f.order[head]!;
    for (let i = 0; i < nr; i++) if (!c.pteMaps.has(head + i)) mapped++;
  }
  if (k.nrAnonMapped !== mapped)
    v.add('rss', `AnonPages ${k.nrAnonMapped} pages, but ${mapped} distinct pages are mapped`);
}
