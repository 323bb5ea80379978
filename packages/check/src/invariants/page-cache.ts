/**
 * Page-cache invariants (mem/page-cache.ts):
 *   i_pages[i] = folio => an allocated PG.filemap folio with folio->mapping = this address_space,
 *     folio->index = i, PG_swapbacked exactly for shmem, never PG_anon
 *   every PG.filemap folio sits in its mapping's i_pages at its index
 *   mapping->nrpages, NR_FILE_PAGES, NR_SHMEM == the folios counted
 *   a cached page has no shadow and no shmem swap entry at the same index
 */
import { PG, type Kernel } from '@mmsim/core';
import type { ViolationList } from './violation.js';

export function checkPageCache(k: Kernel, v: ViolationList, heads: readonly number[]): void {
  const f = k.f;
  const pc = k.pageCache;
  let filePages = 0;
  let shmem = 0;
  for (const as of pc.spaces) {
    let n = 0;
    for (let i = 0; i < as.pages; i++) {
      const h = as.folio[i]!;
      if (h < 0) continue;
      n++;
      const fl = f.flags[h]!;
      const want = PG.filemap | (as.shmem ? PG.swapbacked : 0);
      if ((fl & PG.allocated) === 0 || (fl & (PG.filemap | PG.swapbacked | PG.anon)) !== want)
        v.add(
          'pagecache',
          `"${as.name}" page ${i}: folio ${h} has flags 0x${fl.toString(16)}, expected 0x${want.toString(16)}`,
        );
      else if (f.anonVma[h] !== as.id || f.index[h] !== i)
        v.add('pagecache', `"${as.name}" page ${i}: folio ${h} names mapping ${f.anonVma[h]} index ${f.index[h]}`);
      if (as.shadow[i] !== 0) v.add('pagecache', `"${as.name}" page ${i} is cached and has a shadow entry`);
      if (as.shmem && as.swap[i]! >= 0) v.add('pagecache', `"${as.name}" page ${i} is cached and swapped out`);
    }
    if (as.nrPages !== n) v.add('pagecache', `"${as.name}": nrpages ${as.nrPages}, but ${n} folios are cached`);
    filePages += n;
    if (as.shmem) shmem += n;
  }
  if (pc.nrFilePages !== filePages || pc.nrShmem !== shmem)
    v.add(
      'pagecache',
      `NR_FILE_PAGES ${pc.nrFilePages} / NR_SHMEM ${pc.nrShmem}, but the page caches hold ${filePages} / ${shmem} pages`,
    );
  for (const h of heads) {
    if ((f.flags[h]! & PG.filemap) === 0) continue;
    const as = pc.spaces[f.anonVma[h]!];
    if (as === undefined || as.folio[f.index[h]!] !== h)
      v.add('pagecache', `folio ${h} is PG.filemap but not in the i_pages of mapping ${f.anonVma[h]} at ${f.index[h]}`);
  }
}
