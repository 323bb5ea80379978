/**
 * The page cache: one struct address_space per file (include/linux/fs.h), its i_pages xarray
 * as typed arrays indexed by page offset (folio head PFN, or -1), the shadow entries reclaim
 * leaves there (mm/workingset.c), and the file's contents on "disk". Shmem files (mm/shmem.c)
 * have no disk: their pages start zero-filled and go to swap under pressure.
 */

/** Page `i` of a file whose contents seed is `seed`: deterministic 32-bit contents. */
export function filePageValue(seed: number, i: number): number {
  // murmur3's fmix32 of (seed, index)
  let h = (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a of a file name: the default contents seed. */
export function nameSeed(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A mapping (VMA) of the file: i_mmap's interval tree as a plain list (mm/interval_tree.c). */
export interface FileMapping {
  mm: import('../mm/mm-struct.js').MmStruct;
  vma: import('../mm/vma.js').Vma;
}

/** struct address_space of one file. */
export class AddressSpace {
  /** i_pages: page offset → folio head PFN, -1 = not cached */
  readonly folio: Int32Array;
  /** i_pages value entries: the shadow left by reclaim (workingset_eviction()), 0 = none */
  readonly shadow: Float64Array;
  /** the file's contents on disk (regular files), per page */
  readonly disk: Uint32Array;
  /** shmem: the swap slot a swapped-out page sits in (shmem_writeout()), -1 = none */
  readonly swap: Int32Array;
  /** i_mmap: the VMAs mapping the file */
  readonly iMmap: FileMapping[] = [];
  /** mapping->nrpages */
  nrPages = 0;

  constructor(
    /** index in PageCache.spaces: what folio->mapping holds (FolioTable.anonVma of a PG_filemap folio) */
    readonly id: number,
    readonly name: string,
    /** i_size in pages */
    readonly pages: number,
    /** shmem_file_setup(): a tmpfs / memfd / MAP_SHARED|MAP_ANONYMOUS object */
    readonly shmem: boolean,
    seed: number,
  ) {
    this.folio = new Int32Array(pages).fill(-1);
    this.shadow = new Float64Array(pages);
    this.disk = new Uint32Array(shmem ? 0 : pages);
    for (let i = 0; i < this.disk.length; i++) this.disk[i] = filePageValue(seed, i);
    this.swap = new Int32Array(shmem ? pages : 0).fill(-1);
  }
}

/** Every address_space of the machine, and the page-cache figures /proc/meminfo shows. */
export class PageCache {
  readonly spaces: AddressSpace[] = [];
  readonly byName = new Map<string, AddressSpace>();
  /** NR_FILE_PAGES: pages in any page cache (shmem included) */
  nrFilePages = 0;
  /** NR_SHMEM */
  nrShmem = 0;
  /** NR_FILE_MAPPED: page-cache pages mapped by at least one PTE */
  nrFileMapped = 0;
  /** NR_SHMEM swapped out (shmem swap entries in i_pages) */
  nrShmemSwapped = 0;

  /** Whether the scenario uses file or shared memory at all (extra output keys only then). */
  get used(): boolean {
    return this.spaces.length > 0;
  }

  create(name: string, pages: number, shmem: boolean, seed: number): AddressSpace {
    const as = new AddressSpace(this.spaces.length, name, pages, shmem, seed);
    this.spaces.push(as);
    if (!name.startsWith('/dev/zero#')) this.byName.set(name, as);
    return as;
  }
}
