/**
 * /proc/PID/pagemap (fs/proc/task_mmu.c: pte_to_pagemap_entry(), pagemap_pmd_range_thp()): what
 * one virtual page's entry says. Read-only: no fault, no accessed bit, no cost.
 */
import type { MmStruct } from '../mm/mm-struct.js';
import { VM } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { pmdIndex, pteIndex } from '../units.js';
import type { Kernel } from './kernel.js';
import { tableAt } from './pgwalk.js';

/** The pagemap bits mmsim reports (PM_* of task_mmu.c), as a mask. */
export const PM = Object.freeze({
  /** PM_PRESENT (bit 63) */
  present: 1 << 0,
  /** PM_SWAP (bit 62) */
  swap: 1 << 1,
  /** PM_FILE (bit 61): file page or shared-anon */
  file: 1 << 2,
  /** PM_MMAP_EXCLUSIVE (bit 56): the page is mapped exactly once */
  exclusive: 1 << 3,
  /** PM_SOFT_DIRTY (bit 55) */
  softDirty: 1 << 4,
  /** PM_UFFD_WP (bit 57) */
  uffdWp: 1 << 5,
  /** mapped by a PMD (pmd_trans_huge): what kpageflags' KPF_THP shows for an order-9 folio */
  pmdMapped: 1 << 6,
  /** PM_GUARD_REGION (bit 58, v6.15): a guard marker (MADV_GUARD_INSTALL); it is a swap-type entry, so PM_SWAP too */
  guard: 1 << 7,
  /** /proc/kpageflags of the frame: KPF_MLOCKED (bit 33), PG_mlocked */
  mlocked: 1 << 8,
  /** /proc/kpageflags of the frame: KPF_UNEVICTABLE (bit 18), PG_unevictable */
  unevictable: 1 << 9,
  /** /proc/kpageflags of the frame: KPF_SWAPBACKED (bit 14): anonymous and not lazyfree, or shmem */
  swapbacked: 1 << 10,
} as const);

/** The kpageflags bits mmsim reports of a folio (stable_page_flags()). */
function kpageflags(fl: number): number {
  const swapbacked = (fl & PG.swapbacked) !== 0 || ((fl & PG.anon) !== 0 && (fl & PG.lazyfree) === 0);
  return (
    ((fl & PG.mlocked) !== 0 ? PM.mlocked : 0) |
    ((fl & PG.unevictable) !== 0 ? PM.unevictable : 0) |
    (swapbacked ? PM.swapbacked : 0)
  );
}

export interface PagemapEntry {
  /** PM.* bits */
  flags: number;
  /** the page frame (present), else -1 (the kernel shows PFNs to CAP_SYS_ADMIN only; mmsim's are comparable, not absolute) */
  pfn: number;
  /** order of the folio mapped there (present pages), else -1 */
  order: number;
}

/** pagemap_read() of one page of `mm`. */
export function pagemapEntry(k: Kernel, mm: MmStruct, vpn: number): PagemapEntry {
  const out: PagemapEntry = { flags: 0, pfn: -1, order: -1 };
  const vma = mm.findVma(vpn);
  const pmd = tableAt(k, mm, vpn, 1, false);
  if (!vma) return out;
  // pte_to_pagemap_entry() / pagemap_pte_hole(): a VM_SOFTDIRTY VMA is soft-dirty everywhere
  const vsd = (vma.flags & VM.softDirty) !== 0 ? PM.softDirty : 0;
  out.flags = vsd;
  if (pmd < 0) return out;
  const pt = k.pt;
  const f = k.f;
  const pk = pt.slot(pmd, pmdIndex(vpn));
  const pfl = pt.fl[pk]!;
  if ((pfl & PTE.huge) !== 0) {
    // pagemap_pmd_range_thp()
    if ((pfl & PTE.present) === 0) return out;
    const pfn = pt.val[pk]! + pteIndex(vpn);
    out.flags = vsd | PM.present | PM.pmdMapped;
    out.pfn = pfn;
    const head = f.head(pfn);
    out.order = f.order[head]!;
    // !folio_maybe_mapped_shared(): one PMD mapping and no PTE mapping of the folio
    if (f.largeMapcount[head] === 1) out.flags |= PM.exclusive;
    out.flags |= kpageflags(f.flags[head]!);
    if ((pfl & PTE.softDirty) !== 0) out.flags |= PM.softDirty;
    if ((pfl & PTE.uffdWp) !== 0) out.flags |= PM.uffdWp;
    return out;
  }
  if ((pfl & PTE.table) === 0) return out;
  const t = pt.val[pk]!;
  const kk = pt.slot(t, pteIndex(vpn));
  const fl = pt.fl[kk]!;
  if (fl === 0) return out;
  if ((fl & PTE.present) !== 0) {
    const pfn = pt.val[kk]!;
    out.flags = vsd | PM.present;
    out.pfn = pfn;
    if ((fl & PTE.softDirty) !== 0) out.flags |= PM.softDirty;
    if ((fl & PTE.uffdWp) !== 0) out.flags |= PM.uffdWp;
    if (pfn === ZERO_PFN) return out; // vm_normal_page() is NULL for the zero page
    const head = f.head(pfn);
    out.order = f.order[head]!;
    if ((f.flags[head]! & PG.anon) === 0) out.flags |= PM.file;
    // folio_precise_page_mapcount(folio, page) == 1
    if (f.mapcount[pfn]! + f.entireMapcount[head]! === 1) out.flags |= PM.exclusive;
    out.flags |= kpageflags(f.flags[head]!);
    return out;
  }
  // pte_to_pagemap_entry(): a PTE marker is is_swap_pte() (PM_SWAP); is_guard_swp_entry() adds
  // PM_GUARD_REGION, pte_marker_entry_uffd_wp() PM_UFFD_WP
  out.flags = vsd | PM.swap;
  if ((fl & PTE.guard) !== 0) out.flags |= PM.guard;
  if ((fl & PTE.softDirty) !== 0) out.flags |= PM.softDirty;
  if ((fl & PTE.uffdWp) !== 0) out.flags |= PM.uffdWp;
  return out;
}
