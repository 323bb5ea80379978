/**
 * Reclaim of empty PTE tables on MADV_DONTNEED (CONFIG_PT_RECLAIM, mm/pt_reclaim.c): commit
 * 6375e95f381e "mm: pgtable: reclaim empty PTE page in madvise(MADV_DONTNEED)", v6.14, with
 * 4817f70c25b6 "x86: select ARCH_SUPPORTS_PT_RECLAIM if X86_64" (arm64 does not select it in 6.18).
 */
import type { Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { PTE } from '../mm/pte.js';
import { PTRS_PER_TABLE, pmdStart, tableIndex } from '../units.js';
import { CLEARED_PMD, type MmGather } from './tlb-gather.js';
import { tableAt } from './pgwalk.js';

/** CONFIG_PT_RECLAIM: the era's feature and the architecture's ARCH_SUPPORTS_PT_RECLAIM. */
export function ptReclaimEnabled(k: Kernel): boolean {
  return k.config.features.ptReclaim && k.hw.archSupportsPtReclaim !== false;
}

/** reclaim_pt_is_enabled(): details->reclaim_pt and the zap covers the whole table (end - start >= PMD_SIZE). */
export function reclaimPtIsEnabled(start: number, end: number): boolean {
  return end - start >= PTRS_PER_TABLE;
}

/**
 * try_to_free_pte() / free_pte(): if every entry of the PTE table `t` covering `vpn` is none,
 * pmd_clear() it and pte_free_tlb() (tlb->freed_tables, the table's first page in the range)
 * and mm_dec_nr_ptes(). Returns whether the table was freed.
 */
export function tryToFreePte(k: Kernel, mm: MmStruct, vpn: number, t: number, tlb: MmGather): boolean {
  const pt = k.pt;
  const base = pt.slot(t, 0);
  for (let i = 0; i < PTRS_PER_TABLE; i++) if (pt.fl[base + i] !== 0) return false;
  const pmd = tableAt(k, mm, vpn, 1, false);
  if (pmd < 0) return false;
  const pi = tableIndex(vpn, 1);
  const s = pt.slot(pmd, pi);
  if ((pt.fl[s]! & PTE.table) === 0 || pt.val[s] !== t) return false;
  pt.clear(pmd, pi);
  k.freeTable(mm, t);
  tlb.freedTables = true;
  tlb.addRange(pmdStart(vpn), 1, CLEARED_PMD); // pte_free_tlb(): cleared_pmds
  return true;
}
