import type { CostProfile } from './cost-profile.js';
import type { MmSystem } from '../di/system.js';
import type { MmStruct } from '../mm/mm-struct.js';

/**
 * A hardware model: the CPUs, their TLBs and what things cost. It is applied to a system like a
 * plugin (it taps `tlbFlush.request`, `sched.switchMm`, `pte.*`, ...), and the kernel's MMU
 * path asks it about every user access:
 *
 *   pfn = hw.tlbLookup(cpu, mm, vpn, write)       // a hit: the access uses `pfn`, no walk
 *   if (pfn < 0) { walk the page table (faulting as needed), then
 *                  hw.tlbFill(cpu, mm, vpn, pfn, writable, leafShift, pteSlot) }
 *
 * A TLB hit may return a stale translation; that is how a missing flush becomes visible.
 */
export interface HardwareModel {
  /** 'x86', 'arm64', 'flat', or a package's own name */
  readonly name: string;
  readonly ncpus: number;
  readonly costs: CostProfile;
  /**
   * Whether the MMU sets the accessed and dirty bits itself (x86; arm64 with FEAT_HAFDBS).
   * `false`: an access through an old PTE, or a write through a clean one, faults and the
   * kernel sets the bit (arm64 access-flag and write-permission faults). Default: true.
   */
  readonly managesAccessFlags?: boolean;
  /**
   * TASK_SIZE in bytes: the top of the user address space; an mmap that does not fit below it
   * fails with ENOMEM. Default: x86-64's 2^47 - 4096 (TASK_SIZE_MAX; see limits.ts).
   */
  readonly taskSize?: number;
  /**
   * Whether the architecture selects ARCH_SUPPORTS_PT_RECLAIM, so CONFIG_PT_RECLAIM can free
   * PTE tables a MADV_DONTNEED left empty (x86-64 since v6.14; not arm64 in v6.18). Default: true.
   */
  readonly archSupportsPtReclaim?: boolean;
  /**
   * ptep_clear_flush_young(): whether clearing a PTE's accessed bit for reclaim's aging also
   * flushes its TLB entry. arm64: yes (flush_tlb_page_nosync()), so the next access walks and
   * sets the bit again; x86: no ("clearing the accessed bit without a TLB flush doesn't cause
   * data corruption"), so a cached translation keeps hitting and the page looks unused.
   * Default: false (x86's behaviour).
   */
  readonly clearYoungFlushes?: boolean;
  /**
   * CONFIG_HAVE_ARCH_SOFT_DIRTY: the architecture has a soft-dirty PTE bit, which pte_mkdirty()
   * sets and clear_refs clears (x86: _PAGE_SOFT_DIRTY). Without it VM_SOFTDIRTY is 0 and
   * pagemap never shows soft-dirty (arm64). Default: true.
   */
  readonly softDirty?: boolean;
  /** Tap the system's hooks. Called once, before any run. */
  apply(system: MmSystem): void;
  /**
   * TLB lookup for a user access. Returns the PFN of a cached translation that permits the
   * access (and charges the access), or -1 on a miss. A write through an entry cached read-only
   * or clean (the PTE's dirty bit was clear when it was filled) must also return -1: the walk
   * then sets the dirty bit, as x86 and arm64 with HAFDBS do. Otherwise the PTE stays clean and
   * reclaim would discard the write.
   */
  tlbLookup(cpu: number, mm: MmStruct, vpn: number, write: boolean): number;
  /**
   * After a successful page walk: charge the miss and the walk, and cache the translation.
   * `leafShift` is 12 for a PTE, 21 for a PMD mapping; `pteSlot` is the global index of the
   * leaf entry in the page-table pool (`kernel.pt.fl[pteSlot]`), for models that read its bits.
   */
  tlbFill(
    cpu: number,
    mm: MmStruct,
    vpn: number,
    pfn: number,
    writable: boolean,
    leafShift: number,
    pteSlot: number,
  ): void;
  /**
   * arch_tlbbatch_should_defer(): whether try_to_unmap() on `cpu` defers the flush for `mm` to a
   * batch (set_tlb_ubc_flush_pending) or flushes each PTE at once (should_defer_flush, mm/rmap.c).
   * x86: only when another CPU is in mm_cpumask. Default (absent): always defer.
   */
  tlbbatchShouldDefer?(mm: MmStruct, cpu: number): boolean;
  /** Extra state for the output (e.g. TLB reach); optional. */
  describe?(): Record<string, unknown>;
}

export interface HardwareFactoryOptions {
  cpus?: number;
  [k: string]: unknown;
}

/** A hardware package's factory (its `createHardware` export). */
export type HardwareFactory = (options?: HardwareFactoryOptions) => HardwareModel;
