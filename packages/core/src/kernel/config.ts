import type { KhugepagedKnobs } from './khugepaged-knobs.js';
import type { MemcgConfig } from './memcontrol.js';
import type { KsmConfig } from './ksm-state.js';

/** THP sysfs-like settings: `enabled` per size (e.g. "2048K", "64K") and the top-level switch. */
export type ThpMode = 'always' | 'inherit' | 'madvise' | 'never';

/**
 * Kernel build/boot configuration and version-dependent mechanism details that are not
 * decisions (those are hooks). Presets set the features for their era.
 */
export interface KernelConfig {
  /** folio_batch size of the per-CPU LRU caches: 15 (PAGEVEC_SIZE, 5.x) or 31 */
  lruBatchSize: number;
  /** RAM in pages (0 = unlimited) */
  memoryPages: number;
  /** memory cgroups (v2) below the root, in declaration order (kernel/memcontrol.ts); [] = none */
  cgroups?: MemcgConfig[];
  swap: { slots: number; synchronousIo: boolean };
  /** /proc/sys/vm knobs that reclaim reads (kernel/watermarks.ts, kernel/vmscan.ts) */
  vm: {
    /** vm.swappiness: anon vs file scan balance in get_scan_count() (0..200, default 60) */
    swappiness: number;
    /** vm.watermark_scale_factor (default 10: 0.1% of memory between the watermarks) */
    watermarkScaleFactor: number;
    /** vm.min_free_kbytes set by the user; 0 = calculate_min_free_kbytes() */
    minFreeKbytes: number;
    /**
     * /sys/kernel/mm/lru_gen/enabled: reclaim with the multi-gen LRU (CONFIG_LRU_GEN, v6.1;
     * kernel/lru-gen*.ts) instead of the two-list LRU. Unset: off.
     */
    lruGen?: boolean;
  };
  /** /sys/kernel/mm/transparent_hugepage: key "top" is the global switch, others per size */
  thp: Record<string, ThpMode>;
  /** /sys/kernel/mm/transparent_hugepage/khugepaged/ (kernel/khugepaged-knobs.ts); unset: the defaults */
  khugepaged?: KhugepagedKnobs;
  /** /sys/kernel/mm/ksm knobs at boot (system.ksm, kernel/ksm.ts); unset: KSM stays off until a step uses it */
  ksm?: Partial<KsmConfig>;
  features: {
    /**
     * mprotect()/uffd unprotect map exclusive anon pages writable right away
     * (MM_CP_TRY_CHANGE_WRITABLE, v5.19+ / v6.x for uffd).
     */
    tryChangeWritable: boolean;
    /**
     * UFFDIO_WRITEPROTECT(off) also upgrades exclusive pages to writable
     * (MM_CP_TRY_CHANGE_WRITABLE in uffd_wp_range(), v6.2+).
     */
    uffdTryChangeWritable: boolean;
    /** Align anonymous mappings of >= 2 MiB to PMD boundaries (v6.7+, efa7df3e3bb5). */
    thpAlignAnon: boolean;
    /**
     * do_swap_page() frees the swap cache on a write fault when the folio's refcount is 2
     * (should_try_to_free_swap(), v5.19+). Older kernels left that to the reuse rule.
     */
    swapinFreeOnWrite: boolean;
    /**
     * do_swap_page() drains this CPU's LRU batch on a write fault to a swap-cache folio not yet
     * on an LRU list (COW fixes part 1, v5.18).
     */
    swapinDrainLocal: boolean;
    /**
     * x86 switch_mm_irqs_off() leaves the CPU in the previous mm's mm_cpumask; the CPU clears
     * itself when a flush IPI finds another mm loaded (flush_tlb_func). 209954cbc7d0, v6.14.
     * The x86 hardware model applies it; other architectures ignore it.
     */
    lazyMmCpumask: boolean;
    /**
     * deferred_split_folio() counts thp_deferred_split_page for PMD-sized folios only
     * (folio_test_pmd_mappable(), 98046944a159, v6.10); before, for every large folio it queued.
     */
    deferredSplitPmdOnly: boolean;
    /**
     * Per-size mTHP fault stats: hugepages-<size>kB/stats/anon_fault_alloc, anon_fault_fallback,
     * anon_fault_fallback_charge (ec33687c6749, v6.9: the stats directory's first files).
     */
    mthpFaultStats: boolean;
    /** Per-size mTHP swap stats (hugepages-<size>kB/stats/swpout v6.9 as anon_swpout, swpin v6.12). */
    mthpSwapStats: boolean;
    /** Per-size mTHP split stats (hugepages-<size>kB/stats/split_deferred, f216c845f3c7, v6.11). */
    mthpSplitStats: boolean;
    /**
     * Per-size mTHP gauges hugepages-<size>kB/stats/nr_anon ("mm: count the number of anonymous
     * THPs per size", 5d65c8d758f2, v6.12) and nr_anon_partially_mapped (8175ebfd30b1, v6.12).
     */
    mthpNrAnonStats: boolean;
    /**
     * madvise_cold_or_pageout_pte_range() keeps a large folio whole when the range covers it and
     * splits it only when it does not ("mm: madvise: avoid split during MADV_PAGEOUT and
     * MADV_COLD", v6.10); before, it split every exclusive PTE-mapped large folio it met and
     * stopped at a shared one (folio_estimated_sharers() != 1: break).
     */
    madviseAvoidSplit: boolean;
    /**
     * swap_writepage() records a zero-filled folio in the swap device's zeromap instead of
     * writing it; swap-in of such slots zero-fills the folio (0ca0c24e3211, v6.12;
     * swpout_zero / swpin_zero counted since v6.12 too).
     */
    swapZeromap: boolean;
    /**
     * MADV_PAGEOUT leaves the accessed bits alone and reclaims ignoring references
     * (madvise_cold_or_pageout_pte_range(): `!pageout && pte_young()`, reclaim_pages(list, true);
     * "mm: madvise: pageout: ignore references rather than clearing young", v6.9): no young
     * bit cleared, so no mmu_gather flush. Before, it cleared them like MADV_COLD.
     */
    pageoutKeepsYoung: boolean;
    /**
     * CONFIG_PT_RECLAIM: MADV_DONTNEED frees the PTE tables its zap left empty (6375e95f381e,
     * v6.14; only where the architecture supports it, HardwareModel.archSupportsPtReclaim).
     */
    ptReclaim: boolean;
    /**
     * fork() copies the PTEs of a large folio in batches: folio_pte_batch(), copy_present_ptes()
     * (f8d937761d65, v6.9): one folio reference and rmap update and one wrprotect_ptes/set_ptes per batch.
     */
    forkPteBatch: boolean;
    /** zap_present_ptes() clears a large folio's PTEs in batches (10ebac4f95e7, v6.10). */
    zapPteBatch: boolean;
    /**
     * Workingset detection for anonymous folios (aae466b0052e, v5.9): reclaim leaves a shadow
     * entry in the swap slot (workingset_eviction()) and a swap-in checks its refault distance
     * (workingset_refault(): workingset_refault_anon, _activate_anon, _restore_anon). Before, a
     * swapped-out anon folio left no shadow.
     */
    workingsetAnon: boolean;
    /**
     * folio_check_references() wants two references for anon folios too ("mm/vmscan: protect
     * the workingset on anonymous LRU", b518154e59aa, v5.9). Before, one referenced PTE
     * activated a swap-backed page (`if (PageSwapBacked(page)) return PAGEREF_ACTIVATE`).
     */
    anonTwoReferences: boolean;
    /**
     * MREMAP_DONTUNMAP of any mapping (v5.13, "mm: mremap: allow MREMAP_DONTUNMAP on all
     * mappings"); before, private anonymous only (e346b3813067, v5.7): EINVAL.
     */
    mremapDontunmapAny: boolean;
    /**
     * mremap(MREMAP_FIXED) of old_len = new_len may span several VMAs, gaps kept ("mm/mremap:
     * permit mremap() move of multiple VMAs", v6.17); before, EFAULT.
     */
    mremapMultiVma: boolean;
    /**
     * khugepaged and MADV_COLLAPSE collapse a PTE table with no writable PTE (Dev Jain's "mm:
     * Enable khugepaged to operate on non-writable VMAs", v6.18: this machine's 6.18 collapses
     * write-protected PTEs). Before, hpage_collapse_scan_pmd() gave SCAN_PAGE_RO (EINVAL).
     */
    collapseReadOnly: boolean;
    /**
     * A R/O FOLL_LONGTERM pin of a page that is not anonymous (the shared zero page, a
     * page-cache page) in a private mapping unshares it first, so that the pin and the mapping
     * stay one page (gup_must_unshare(), "mm/gup: reliable R/O long-term pinning in COW
     * mappings", v6.2). Before, such a pin kept the page the mapping would copy on a write.
     */
    gupUnshareCowMappings: boolean;
    /** UFFDIO_CONTINUE in the ioctls UFFDIO_REGISTER returns (f619147104c8, v5.13). */
    uffdContinue: boolean;
    /** UFFDIO_POISON and UFFD_FEATURE_POISON (fc71884a5f59, v6.6). */
    uffdPoison: boolean;
    /** UFFDIO_MOVE and UFFD_FEATURE_MOVE (adc30b2a1bbf, v6.8). */
    uffdMove: boolean;
    /**
     * A FOLL_FORCE write to a read-only private mapping follows the PTE when the page is an
     * exclusive anon page (can_follow_write_pte(), "mm/gup: fix FOLL_FORCE COW security issue
     * and remove FOLL_COW", 5535be309971, v6.2). Before, only after a fault that returned
     * VM_FAULT_WRITE (FOLL_COW) and with the PTE dirty.
     */
    gupForceAnonExclusive: boolean;
    /**
     * remove_migration_pte() restores the young and dirty bits the migration entry remembered
     * ("mm: remember young/dirty bit for page migrations", 2e3468778dbe, v6.1); before, the
     * new PTE was old and clean.
     */
    migrationKeepsYoungDirty: boolean;
    /**
     * populate_vma_page_range() (MAP_POPULATE, mlock) ends with lru_add_drain(), so that the
     * batched folios reach their lists (v5.18's munlock rework by Hugh Dickins). Before, the
     * folios stayed in the CPU's lru_add batch.
     */
    populateLruDrain: boolean;
    /**
     * process_madvise() on the caller's own mm takes every madvise() advice ("mm/madvise:
     * unrestrict process_madvise() for current process", Lorenzo Stoakes, v6.13); before, and
     * for another process always, only COLD, PAGEOUT, WILLNEED and (v6.1) COLLAPSE.
     */
    processMadviseSelf: boolean;
    /**
     * do_wp_page() reuses a KSM page mapped once with no other reference (reuse_ksm_page(),
     * 52d1e606ee73, v5.8; removed by 09854ba94c6a in v5.9). Else a write to a KSM page copies.
     */
    ksmReuseKsmPage: boolean;
    /** /proc/PID/ksm_stat with ksm_rmap_items (cb4df4cae4f2, v6.1) */
    ksmStat: boolean;
    /** ksm_stat's ksm_merging_pages and ksm_process_profit, sysfs general_profit (d21077fbc2fc, v6.4) */
    ksmProfit: boolean;
    /**
     * KSM-placed zero pages are tracked (pte_mkdirty() on the zero-page PTE): sysfs
     * ksm_zero_pages and ksm_stat's (e2942062e01d, 6080d19f0704, v6.6), unmerged by
     * MADV_UNMERGEABLE (79271476b336, v6.6). Before, use_zero_pages merged untracked.
     */
    ksmZeroPages: boolean;
    /** /sys/kernel/mm/ksm/smart_scan (default on), pages_skipped and pages_scanned (5e924ff54d08, v6.7) */
    ksmSmartScan: boolean;
  };
}

export function defaultKernelConfig(): KernelConfig {
  return {
    lruBatchSize: 31,
    memoryPages: 0,
    swap: { slots: 1 << 20, synchronousIo: true },
    vm: { swappiness: 60, watermarkScaleFactor: 10, minFreeKbytes: 0 },
    thp: { top: 'never' },
    features: {
      tryChangeWritable: false,
      uffdTryChangeWritable: false,
      thpAlignAnon: true,
      swapinFreeOnWrite: true,
      swapinDrainLocal: true,
      lazyMmCpumask: false,
      deferredSplitPmdOnly: true,
      mthpFaultStats: true,
      mthpSplitStats: true,
      mthpNrAnonStats: true,
      madviseAvoidSplit: true,
      mthpSwapStats: true,
      swapZeromap: true,
      // off unless a preset of v6.9+ turns it on: the seed-000 tests reproduce v5.x aging
      pageoutKeepsYoung: false,
      ptReclaim: false,
      forkPteBatch: true,
      zapPteBatch: true,
      workingsetAnon: true,
      anonTwoReferences: true,
      mremapDontunmapAny: true,
      mremapMultiVma: true,
      collapseReadOnly: true,
      gupUnshareCowMappings: true,
      uffdContinue: true,
      uffdPoison: true,
      uffdMove: true,
      gupForceAnonExclusive: true,
      migrationKeepsYoungDirty: true,
      populateLruDrain: true,
      processMadviseSelf: true,
      ksmReuseKsmPage: false,
      ksmStat: true,
      ksmProfit: true,
      ksmZeroPages: true,
      ksmSmartScan: true,
    },
  };
}
