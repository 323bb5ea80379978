/** Unmapping: zap_pte_range(), free_pgtables(), munmap and exit_mmap (mm/memory.c, mm/mmap.c). */
import type { TableChangeReason } from '../api/contexts.js';
import { uffdRangeEvent } from './uffd-ctx.js';
import { type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { munlockVmaFolio, unmapLocked } from './mlock.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { ksmExit, ksmMightUnmapZeroPage } from './ksm-unmerge.js';
import { LEVEL_SPAN, PTRS_PER_TABLE, pmdStart, pteIndex, tableIndex } from '../units.js';
import { CLEARED_PMD, type MmGather } from './tlb-gather.js';
import { vmasForRange } from './mmap.js';
import type { Process } from './task.js';
import { zapHugePmd } from './huge-pmd-ops.js';
import { pteTable, pteTableForWrite, tableAt } from './pgwalk.js';
import { removeRmapPtes } from './rmap.js';
import { unlinkFileVma } from './file-rmap.js';
import { freeSwapAndCache } from './swap-cache.js';
import { reclaimPtIsEnabled, tryToFreePte } from './pt-reclaim.js';
import { folioPteBatch } from './pte-batch.js';

/**
 * zap_pte_range() over [start, end) of one VMA. `reclaimPt`: zap_details.reclaim_pt
 * (MADV_DONTNEED with CONFIG_PT_RECLAIM): a PTE table the zap covered whole is freed when empty.
 */
export function zapRange(
  k: Kernel,
  mm: MmStruct,
  start: number,
  end: number,
  tlb: MmGather,
  reason: TableChangeReason,
  reclaimPt = false,
): void {
  const pt = k.pt;
  const f = k.f;
  const batch = k.config.features.zapPteBatch;
  const costs = k.hw.costs;
  // __folio_remove_rmap() → munlock_vma_folio(): the range lies in one VMA
  const vma = mm.findVma(start);
  const locked = vma !== undefined && (vma.flags & VM.locked) !== 0;
  for (let v = start; v < end; ) {
    const tEnd = Math.min(end, pmdStart(v) + PTRS_PER_TABLE);
    k.condResched(tEnd - v);
    let probe = pteTable(k, mm, v);
    if (probe === -2) {
      // zap_huge_pmd() when the range covers the PMD, else __split_huge_pmd() and zap PTEs
      if (zapHugePmd(k, mm, v, end, tlb, reason)) {
        v = tEnd;
        continue;
      }
      probe = pteTable(k, mm, v);
    }
    if (probe < 0) {
      v = tEnd;
      continue;
    }
    const t = pteTableForWrite(k, mm, v, false, reason, tEnd);
    if (t < 0) {
      v = tEnd; // the table went away while unsharing (a dropped COW table)
      continue;
    }
    const base = pt.slot(t, 0);
    k.hooks.pte.beforeChange.call(mm, v, tEnd, reason);
    for (let a = v; a < tEnd; a++) {
      const i = pteIndex(a);
      const fl = pt.fl[base + i]!;
      if (fl === 0) continue;
      if ((fl & PTE.present) !== 0) {
        const pfn = pt.val[base + i]!;
        pt.clear(t, i);
        k.charge(k.hw.costs.pteUpdate);
        if (pfn === ZERO_PFN) {
          if ((fl & PTE.dirty) !== 0 && k.ksm !== null) ksmMightUnmapZeroPage(k, mm);
          tlb.addRange(a);
          continue;
        }
        const head = f.head(pfn);
        if (batch && f.order[head]! > 0) {
          // zap_present_ptes(): folio_pte_batch(), clear_full_ptes(nr), folio_remove_rmap_ptes(nr)
          const nr = folioPteBatch(k, t, a, tEnd - a, head, pfn, fl, false);
          let dirty = fl & PTE.dirty;
          for (let j = 1; j < nr; j++) {
            dirty |= pt.fl[base + i + j]! & PTE.dirty;
            pt.clear(t, i + j);
          }
          k.charge((nr - 1) * (costs.pteZapBatched ?? costs.pteUpdate));
          if (dirty !== 0) f.flags[head]! |= PG.dirty;
          if (locked) munlockVmaFolio(k, head, vma);
          removeRmapPtes(k, head, pfn, nr, mm);
          for (let j = 0; j < nr; j++) tlb.removePage(head, a + j); // tlb_remove_folio_pages(nr)
          a += nr - 1;
          continue;
        }
        if ((fl & PTE.dirty) !== 0) f.flags[head]! |= PG.dirty;
        if (locked) munlockVmaFolio(k, head, vma);
        removeRmapPtes(k, head, pfn, 1, mm);
        tlb.removePage(head, a);
      } else if ((fl & PTE.swap) !== 0) {
        const slot = pt.val[base + i]!;
        pt.clear(t, i);
        mm.swapEnts--;
        freeSwapAndCache(k, slot);
      } else {
        // zap_nonpresent_ptes(): a guard marker stays unless the zap drops markers
        // (ZAP_FLAG_DROP_MARKER: unmap_vmas() of munmap and exit; not MADV_DONTNEED)
        if ((fl & PTE.guard) !== 0 && (reason === 'madvise_dontneed' || reason === 'madvise')) continue;
        pt.clear(t, i);
      }
    }
    // zap_pte_range(): can_reclaim_pt → free_pte() / try_to_free_pte() (mm/pt_reclaim.c)
    if (reclaimPt && reclaimPtIsEnabled(v, tEnd)) tryToFreePte(k, mm, v, t, tlb);
    v = tEnd;
  }
}

/**
 * free_pgtables(): free the page-table pages whose whole span no longer intersects any VMA
 * (the floor/ceiling rule), bottom-up, for the span [start, end).
 */
export function freePgtables(k: Kernel, mm: MmStruct, start: number, end: number, tlb: MmGather): void {
  for (let level = 0; level <= 2; level++) {
    const span = LEVEL_SPAN[level + 1]!; // pages covered by one table of this level
    const first = start - (start % span);
    for (let v = first; v < end; v += span) {
      k.condResched(1);
      if (mm.covered(v, v + span)) continue;
      const parent = tableAt(k, mm, v, level + 1, false);
      if (parent < 0) continue;
      const pi = tableIndex(v, level + 1);
      const kk = k.pt.slot(parent, pi);
      if ((k.pt.fl[kk]! & PTE.table) === 0) continue;
      const t = k.pt.val[kk]!;
      k.pt.clear(parent, pi);
      k.freeTable(mm, t);
      tlb.freedTables = true;
      // pte_free_tlb() / pmd_free_tlb() / pud_free_tlb(): cleared_pmds / _puds / _p4ds
      tlb.addRange(v, 1, CLEARED_PMD << level);
    }
  }
}

/** munmap() → do_vmi_munmap() → unmap_region(). */
export function munmap(k: Kernel, mm: MmStruct, start: number, end: number): void {
  // userfaultfd_unmap_prep(): UFFD_EVENT_UNMAP for a registered range
  uffdRangeEvent(mm, 'unmap', start, end);
  const vmas = vmasForRange(k, mm, start, end);
  const tlb = k.gather(mm);
  for (const vma of vmas) zapRange(k, mm, vma.start, vma.end, tlb, 'munmap');
  for (const vma of vmas) {
    unmapLocked(mm, vma);
    removeVma(k, mm, vma);
  }
  freePgtables(k, mm, start, end, tlb);
  tlb.finish('munmap');
}

export function removeVma(k: Kernel, mm: MmStruct, vma: Vma): void {
  mm.removeVma(vma);
  if (vma.anonVma >= 0) k.anonVmas.unlink(vma.anonVma, vma);
  if (vma.file !== null) unlinkFileVma(vma.file, vma);
}

/** exit_mmap(): tear the whole address space down. */
export function exitMmap(k: Kernel, mm: MmStruct): void {
  const tlb = k.gather(mm, true);
  const vmas = [...mm.vmas];
  for (const vma of vmas) zapRange(k, mm, vma.start, vma.end, tlb, 'exit');
  for (const vma of vmas) removeVma(k, mm, vma);
  if (vmas.length > 0) freePgtables(k, mm, vmas[0]!.start, vmas[vmas.length - 1]!.end, tlb);
  tlb.finish('exit_mmap');
  k.pt.free(mm.pgd);
  mm.dead = true;
  for (const cpu of k.cpus) {
    if (cpu.loadedMm === mm) cpu.loadedMm = null;
    if (cpu.curr?.proc.mm === mm) cpu.curr = null;
  }
  mm.cpumask.fill(0);
  k.mms.delete(mm);
  if (k.ksm !== null) ksmExit(k, mm);
  k.hooks.mm.destroyed.call(mm);
}

/** do_exit() of every thread of `p`: the threads leave their CPUs (and userfaultfd waits), then exit_mmap(). */
export function exitProcess(k: Kernel, p: Process): void {
  k.runOn(p.main);
  // exit_mm(): setmax_mm_hiwater_rss(&tsk->signal->maxrss, mm) before the mm goes
  p.mm.updateHiwaterRss();
  if (p.mm.hiwaterRss > k.maxRss) k.maxRss = p.mm.hiwaterRss;
  exitMmap(k, p.mm);
  p.alive = false;
  for (const t of p.threads) t.pending = null;
}
