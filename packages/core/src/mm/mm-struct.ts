import type { Vma } from './vma.js';

/** struct mm_struct: one address space. */
export class MmStruct {
  readonly vmas: Vma[] = [];
  /** mm_cpumask(): CPUs that may hold TLB entries for this mm. */
  readonly cpumask: Uint8Array;
  /** MM_ANONPAGES */
  rssAnon = 0;
  /** MM_FILEPAGES / MM_SHMEMPAGES (kernel/file-rmap.ts) */
  rssFile = 0;
  rssShmem = 0;
  /** MM_SWAPENTS */
  swapEnts = 0;
  /** mm->hiwater_rss: the largest RSS before it last dropped (getrusage's ru_maxrss, VmHWM) */
  hiwaterRss = 0;
  /** mm_pgtables_bytes() (tables below the pgd charged to this mm) */
  pgtablesBytes = 0;
  /** the memcg of mm->owner (get_mem_cgroup_from_mm()): where its faults charge, 0 = root */
  memcg = 0;
  /** mm->tlb_flush_batched: reclaim unmapped with a batched flush still pending */
  tlbFlushBatched = false;
  /** MMF_HAS_PINNED */
  hasPinned = false;
  /** MMF_VM_HUGEPAGE: registered with khugepaged (kernel/khugepaged-scan.ts) */
  vmHugepage = false;
  /** mm->locked_vm: pages of VM_LOCKED VMAs (/proc/PID/status VmLck; kernel/mlock.ts) */
  lockedVm = 0;
  /** mm->def_flags: VM_LOCKED (| VM_LOCKONFAULT) after mlockall(MCL_FUTURE) */
  defFlags = 0;
  /** MMF_VM_MERGEABLE (registered with ksmd) and MMF_VM_MERGE_ANY (PR_SET_MEMORY_MERGE): kernel/ksm.ts */
  ksmMergeable = false;
  ksmMergeAny = false;
  /** mm->ksm_rmap_items, mm->ksm_merging_pages, mm->ksm_zero_pages (/proc/PID/ksm_stat) */
  ksmRmapItems = 0;
  ksmMergingPages = 0;
  ksmZeroPages = 0;
  /** next mmap address (top-down allocator), in pages */
  mmapBase: number;
  /** hardware context slot (ASID/PCID bookkeeping belongs to the hardware model) */
  hwContext: unknown = undefined;
  dead = false;

  /** update_hiwater_rss(): where the RSS is about to drop, remember its peak. */
  updateHiwaterRss(): void {
    const rss = this.rssAnon + this.rssFile + this.rssShmem;
    if (rss > this.hiwaterRss) this.hiwaterRss = rss;
  }

  constructor(
    readonly id: number,
    readonly pgd: number,
    ncpus: number,
    mmapBase: number,
  ) {
    this.cpumask = new Uint8Array(ncpus);
    this.mmapBase = mmapBase;
  }

  /** find_vma(): the VMA containing vpn, or undefined. */
  findVma(vpn: number): Vma | undefined {
    const v = this.vmas;
    let lo = 0;
    let hi = v.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = v[mid]!;
      if (vpn < m.start) hi = mid - 1;
      else if (vpn >= m.end) lo = mid + 1;
      else return m;
    }
    return undefined;
  }

  insertVma(vma: Vma): void {
    let i = 0;
    while (i < this.vmas.length && this.vmas[i]!.start < vma.start) i++;
    this.vmas.splice(i, 0, vma);
  }

  removeVma(vma: Vma): void {
    const i = this.vmas.indexOf(vma);
    if (i >= 0) this.vmas.splice(i, 1);
  }

  /** VMAs intersecting [start, end). */
  vmasIn(start: number, end: number): Vma[] {
    return this.vmas.filter((v) => v.start < end && v.end > start);
  }

  /** Whether any VMA intersects [start, end) (free_pgtables floor/ceiling logic). */
  covered(start: number, end: number): boolean {
    for (const v of this.vmas) if (v.start < end && v.end > start) return true;
    return false;
  }
}
