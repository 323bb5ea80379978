/**
 * The user side of KSM (mm/ksm.c): ksm_madvise() (MADV_MERGEABLE / MADV_UNMERGEABLE),
 * PR_SET_MEMORY_MERGE (ksm_enable_merge_any() / ksm_disable_merge_any(), v6.4), break_ksm()
 * and unmerge_ksm_pages(), `run = 2` (unmerge_and_remove_all_rmap_items()), ksm_fork(),
 * __ksm_exit() and the KSM zero-page counters (ksm_might_unmap_zero_page(), v6.6).
 */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { pteIndex } from '../units.js';
import { pteTable } from './pgwalk.js';
import { mergeVmas, vmasForRange } from './mmap.js';
import { breakKsmFault } from './fault.js';
import type { RmapItem } from './ksm-state.js';
import { findMergeableVma, ksmDropSlot, ksmEnter, ksmOf, ksmPublish, removeTrailingRmapItems } from './ksm.js';

/** vma_ksm_compatible(): no shared mappings (VM_SHARED) */
function ksmCompatible(vma: Vma): boolean {
  return (vma.flags & VM.shared) === 0;
}

/** Whether the PTE at vpn maps a KSM page, or the zero page KSM placed (is_ksm_zero_pte(): pte_dirty, v6.6). */
function isKsmPte(k: Kernel, mm: MmStruct, vpn: number): boolean {
  const t = pteTable(k, mm, vpn);
  if (t < 0) return false;
  const kk = k.pt.slot(t, pteIndex(vpn));
  const fl = k.pt.fl[kk]!;
  if ((fl & PTE.present) === 0) return false;
  const pfn = k.pt.val[kk]!;
  if (pfn === ZERO_PFN) return (fl & PTE.dirty) !== 0 && k.config.features.ksmZeroPages;
  return (k.f.flags[k.f.head(pfn)]! & PG.ksm) !== 0;
}

/**
 * break_ksm(): while the address maps a KSM page (or a KSM zero page), fault it with
 * FAULT_FLAG_UNSHARE: do_wp_page() gives the mm its own read-only copy (a uffd-wp PTE is not
 * handed to the monitor, a PROT_NONE VMA is no obstacle).
 */
export function breakKsm(k: Kernel, mm: MmStruct, vma: Vma, vpn: number): void {
  for (let tries = 0; tries < 4 && isKsmPte(k, mm, vpn); tries++) breakKsmFault(k, mm, vma, vpn);
  if (isKsmPte(k, mm, vpn)) throw new SimError(`break_ksm() could not unshare page 0x${vpn.toString(16)}`, 'internal');
}

/** break_cow(): break_ksm() at an rmap_item's address if its VMA is still mergeable. */
export function breakCow(k: Kernel, item: RmapItem): void {
  const vma = findMergeableVma(item.mm, item.vpn);
  if (vma) breakKsm(k, item.mm, vma, item.vpn);
}

/** unmerge_ksm_pages(): break_ksm() on every page of [start, end) of the VMA. */
export function unmergeKsmPages(k: Kernel, mm: MmStruct, vma: Vma, start: number, end: number): void {
  for (let v = Math.max(start, vma.start); v < Math.min(end, vma.end); v++) {
    k.condResched(1);
    breakKsm(k, mm, vma, v);
  }
}

/**
 * ksm_madvise(): MADV_MERGEABLE sets VM_MERGEABLE on the compatible VMAs of the range and
 * registers the mm with ksmd (__ksm_enter()); MADV_UNMERGEABLE breaks every KSM page of the
 * range, then clears it. The rmap_items stay until ksmd's next pass over the mm frees them.
 */
export function ksmMadvise(k: Kernel, mm: MmStruct, start: number, end: number, mergeable: boolean): void {
  if (!mergeable && k.ksm === null) {
    for (const v of vmasForRange(k, mm, start, end)) v.flags &= ~VM.mergeable;
    mergeVmas(k, mm);
    return;
  }
  ksmOf(k);
  for (const v of vmasForRange(k, mm, start, end)) {
    if (mergeable) {
      if ((v.flags & VM.mergeable) !== 0 || !ksmCompatible(v)) continue;
      if (!mm.ksmMergeable) ksmEnter(k, mm);
      v.flags |= VM.mergeable;
    } else {
      if ((v.flags & VM.mergeable) === 0) continue;
      if (v.anonVma >= 0) unmergeKsmPages(k, mm, v, start, end);
      v.flags &= ~VM.mergeable;
    }
  }
  mergeVmas(k, mm);
  ksmPublish(k);
}

/**
 * prctl(PR_SET_MEMORY_MERGE, value) (d7597f59d1d3, v6.4): 1 sets MMF_VM_MERGE_ANY and
 * VM_MERGEABLE on every compatible VMA (ksm_add_vmas(); mmap adds it to new ones); 0 unmerges
 * and clears them (ksm_del_vmas()).
 */
export function ksmPrctlMemoryMerge(k: Kernel, mm: MmStruct, value: number): void {
  ksmOf(k);
  if (value === 1) {
    if (mm.ksmMergeAny) return;
    if (!mm.ksmMergeable) ksmEnter(k, mm);
    mm.ksmMergeAny = true;
    for (const v of mm.vmas) if (ksmCompatible(v)) v.flags |= VM.mergeable;
  } else {
    if (!mm.ksmMergeAny) return;
    for (const v of mm.vmas) {
      if ((v.flags & VM.mergeable) === 0) continue;
      if (v.anonVma >= 0) unmergeKsmPages(k, mm, v, v.start, v.end);
      v.flags &= ~VM.mergeable;
    }
    mm.ksmMergeAny = false;
  }
  mergeVmas(k, mm);
  ksmPublish(k);
}

/** ksm_vma_flags() at mmap: VM_MERGEABLE for a new VMA of an MMF_VM_MERGE_ANY mm. */
export function ksmVmaFlags(mm: MmStruct, flags: number): number {
  return mm.ksmMergeAny && (flags & VM.shared) === 0 ? flags | VM.mergeable : flags;
}

/**
 * echo 2 > /sys/kernel/mm/ksm/run: unmerge_and_remove_all_rmap_items(): every KSM page of
 * every mergeable VMA is broken and every rmap_item freed; the mms stay registered.
 */
export function ksmUnmergeAll(k: Kernel): void {
  const s = ksmOf(k);
  for (const slot of [...s.slots]) {
    const mm = slot.mm;
    for (const v of [...mm.vmas]) {
      if ((v.flags & VM.mergeable) === 0 || v.anonVma < 0) continue;
      unmergeKsmPages(k, mm, v, v.start, v.end);
    }
    removeTrailingRmapItems(k, slot, 0);
  }
  s.cursor = null;
  s.address = 0;
  s.pos = 0;
  ksmPublish(k);
}

/** ksm_fork(): the child of a registered mm is registered too; MMF_VM_MERGE_ANY is inherited (MMF_INIT_MASK). */
export function ksmFork(k: Kernel, parent: MmStruct, child: MmStruct): void {
  child.ksmMergeAny = parent.ksmMergeAny;
  if (parent.ksmMergeable) ksmEnter(k, child);
}

/** copy_present_pte() copied a KSM zero-page PTE into the child (it stays one: pte_dirty is kept). */
export function ksmZeroPteCopied(k: Kernel, child: MmStruct): void {
  if (!k.config.features.ksmZeroPages) return;
  child.ksmZeroPages++;
  k.ksm!.zeroPages++;
}

/** ksm_might_unmap_zero_page(): a KSM zero-page PTE was zapped or replaced. */
export function ksmMightUnmapZeroPage(k: Kernel, mm: MmStruct): void {
  if (!k.config.features.ksmZeroPages) return;
  mm.ksmZeroPages--;
  k.ksm!.zeroPages--;
}

/**
 * __ksm_exit(): the mm leaves ksmd's list. Approximation: its rmap_items are freed now (the
 * kernel leaves a slot with items for ksmd's next pass to free).
 */
export function ksmExit(k: Kernel, mm: MmStruct): void {
  const slot = k.ksm!.slotOf.get(mm);
  if (slot) ksmDropSlot(k, slot);
  ksmPublish(k);
}
