/** The scenario's `files`: one address_space each (mem/page-cache.ts), created before the first step. */
import { allocPageCacheFolio, filemapAddFolio } from '../../kernel/filemap.js';
import type { Kernel } from '../../kernel/kernel.js';
import { type AddressSpace, nameSeed } from '../../mem/page-cache.js';
import { PAGE_SIZE } from '../../units.js';
import type { FileSpec } from '../schema.js';
import type { OpExecutor } from './executor.js';

export function createFiles(x: OpExecutor, files: Record<string, FileSpec> | undefined): void {
  if (files === undefined) return;
  for (const [name, spec] of Object.entries(files)) {
    const where = `files.${name}`;
    const size = x.bytes(spec.size, where, 'size', 0);
    if (size <= 0 || size % PAGE_SIZE !== 0)
      x.fail(where, 'size', `${size} is not a positive multiple of ${PAGE_SIZE}`);
    if (spec.shmem === true && spec.seed !== undefined)
      x.fail(where, 'seed', 'a shmem file has no contents on disk: it starts zero-filled');
    if (spec.shmem === true && spec.cached === true)
      x.fail(where, 'cached', 'a shmem file has no disk to be cached from: its pages exist once written');
    const as = x.k.pageCache.create(name, size / PAGE_SIZE, spec.shmem === true, spec.seed ?? nameSeed(name));
    if (spec.cached === true) warmPageCache(x.k, as);
  }
}

/** A warm page cache: every page of the file read in before the run (filemap_add_folio()), on the LRU. */
function warmPageCache(k: Kernel, as: AddressSpace): void {
  for (let i = 0; i < as.folio.length; i++) {
    if (as.folio[i]! >= 0) continue;
    const head = allocPageCacheFolio(k, false);
    k.f.data[head] = as.disk[i]!;
    filemapAddFolio(k, as, i, head);
  }
  k.lruAddDrainAll();
}
