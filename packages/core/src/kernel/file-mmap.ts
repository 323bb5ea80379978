/**
 * mmap() of a file or of shared anonymous memory (mm/mmap.c do_mmap() → mmap_region() with a
 * vm_file; MAP_SHARED|MAP_ANONYMOUS: shmem_zero_setup() gives the VMA a shmem file of its own).
 */
import type { AddressSpace } from '../mem/page-cache.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import type { Kernel } from './kernel.js';
import { mmapAnon } from './mmap.js';

/** mmap(file, offset, MAP_SHARED or MAP_PRIVATE) of `pages` pages from page `pgoff` of `as`. */
export function mmapFile(
  k: Kernel,
  mm: MmStruct,
  as: AddressSpace,
  pgoff: number,
  pages: number,
  shared: boolean,
  name: string,
  alignPages: number,
): Vma {
  const flags = VM.read | VM.write | (shared ? VM.shared : 0);
  const vma = mmapAnon(k, mm, pages, name, { alignPages, flags });
  vma.pgoff = pgoff;
  vma.file = as;
  as.iMmap.push({ mm, vma }); // vma_link_file()
  return vma;
}

/** shmem_zero_setup(): the shmem object behind a MAP_SHARED|MAP_ANONYMOUS mapping of `pages`. */
export function shmemZeroSetup(k: Kernel, pages: number): AddressSpace {
  return k.pageCache.create(`/dev/zero#${k.pageCache.spaces.length}`, pages, true, 0);
}
