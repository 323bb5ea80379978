import type { AddressSpace } from '../mem/page-cache.js';

/** vm_flags we model (include/linux/mm.h). */
export const VM = Object.freeze({
  read: 1 << 0,
  write: 1 << 1,
  /** VM_HUGEPAGE (MADV_HUGEPAGE) */
  hugepage: 1 << 2,
  /** VM_NOHUGEPAGE (MADV_NOHUGEPAGE) */
  nohugepage: 1 << 3,
  /** VM_DONTCOPY (MADV_DONTFORK) */
  dontcopy: 1 << 4,
  /** VM_WIPEONFORK */
  wipeonfork: 1 << 5,
  /** VM_UFFD_MISSING */
  uffdMissing: 1 << 6,
  /** VM_UFFD_WP */
  uffdWp: 1 << 7,
  /** VM_UFFD_MINOR (shmem and hugetlb only: anonymous VMAs never get it) */
  uffdMinor: 1 << 12,
  /** VM_SHARED: MAP_SHARED of a file or of shmem (kernel/file-mmap.ts) */
  shared: 1 << 8,
  /** VM_LOCKED: mlock(), mlockall(), MCL_FUTURE's def_flags (kernel/mlock.ts) */
  locked: 1 << 9,
  /** VM_LOCKONFAULT: mlock2(MLOCK_ONFAULT), MCL_ONFAULT: locked, but not populated */
  lockonfault: 1 << 10,
  /** VM_MERGEABLE: MADV_MERGEABLE or PR_SET_MEMORY_MERGE (kernel/ksm.ts) */
  mergeable: 1 << 11,
  /** VM_SOFTDIRTY: new since the last clear_refs (only where the arch has soft-dirty; mmap sets it) */
  softDirty: 1 << 15,
} as const);

/** A VMA: private anonymous, or mapping `file` (vm_file). Addresses are virtual page numbers; `end` is exclusive. */
export class Vma {
  constructor(
    public start: number,
    public end: number,
    public flags: number,
    /** vm_pgoff: linear page offset of `start` (anon: the address at mmap time). */
    public pgoff: number,
    /** anon_vma family id, -1 until the first anonymous fault (anon_vma_prepare). */
    public anonVma: number,
    /** The scenario region this VMA belongs to (informational). */
    public name: string,
    /** vm_file's address_space (a file, shmem), null for an anonymous VMA (vma_is_anonymous()) */
    public file: AddressSpace | null = null,
  ) {}
  get pages(): number {
    return this.end - this.start;
  }
  /** linear_page_index() */
  pgoffOf(vpn: number): number {
    return this.pgoff + (vpn - this.start);
  }
  /** vma_address(): where a page with linear index `pgoff` sits, or -1 if outside. */
  addressOf(pgoff: number): number {
    const v = this.start + (pgoff - this.pgoff);
    return v >= this.start && v < this.end ? v : -1;
  }
  clone(): Vma {
    return new Vma(this.start, this.end, this.flags, this.pgoff, this.anonVma, this.name, this.file);
  }
}
