/**
 * Page-table walks: pud_alloc / pmd_alloc / pte_alloc (mm/memory.c) and the lookup half of
 * follow_page / the MMU walk (mm/pagewalk.c, mm/gup.c). Also the unshare of a shared PTE table
 * before it is modified (the COW PTE RFC's break_cow_pte, via fork.unshareTable).
 */
import type { TableChangeReason, TableUnshareRequest } from '../hooks/contexts.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { PTE } from '../mm/pte.js';
import { pmdIndex, pmdStart, tableIndex } from '../units.js';
import { SimError, type Kernel } from './kernel.js';

/**
 * Walk from the pgd down to the table of `level` covering vpn. Missing tables are allocated
 * when `alloc` (pud_alloc / pmd_alloc / pte_alloc). Returns the table id, -1 when missing,
 * -2 when a huge leaf sits above `level`.
 */
export function tableAt(k: Kernel, mm: MmStruct, vpn: number, level: number, alloc: boolean): number {
  const pt = k.pt;
  let t = mm.pgd;
  for (let l = 3; l > level; l--) {
    const s = pt.slot(t, tableIndex(vpn, l));
    const fl = pt.fl[s]!;
    if ((fl & PTE.table) !== 0) {
      t = pt.val[s]!;
      continue;
    }
    if (fl !== 0) return -2;
    if (!alloc) return -1;
    const nt = k.allocTable(mm, l - 1);
    pt.set(t, tableIndex(vpn, l), nt, PTE.present | PTE.write | PTE.table);
    t = nt;
  }
  return t;
}

/**
 * The PTE table covering vpn, ready to be modified: a shared (copy-on-write) table is first
 * unshared through `fork.unshareTable`. -1 when there is none (and !alloc), -2 for a huge PMD.
 */
export function pteTableForWrite(
  k: Kernel,
  mm: MmStruct,
  vpn: number,
  alloc: boolean,
  reason: TableChangeReason,
  end = vpn + 1,
): number {
  const pmd = tableAt(k, mm, vpn, 1, alloc);
  if (pmd < 0) return pmd;
  return pteTableInPmd(k, mm, vpn, pmd, alloc, reason, end);
}

/**
 * pteTableForWrite() below a known PMD table `pmd` (what tableAt(mm, vpn, 1) returns): the
 * fault path walks once (handle_mm_fault keeps the pmd_t pointer from __handle_mm_fault down
 * to handle_pte_fault) and enters here with it.
 */
export function pteTableInPmd(
  k: Kernel,
  mm: MmStruct,
  vpn: number,
  pmd: number,
  alloc: boolean,
  reason: TableChangeReason,
  end = vpn + 1,
): number {
  const i = pmdIndex(vpn);
  const s = k.pt.slot(pmd, i);
  const fl = k.pt.fl[s]!;
  if ((fl & PTE.table) === 0) {
    if (fl !== 0) return -2;
    if (!alloc) return -1;
    const nt = k.allocTable(mm, 0);
    k.pt.set(pmd, i, nt, PTE.present | PTE.write | PTE.table);
    return nt;
  }
  const t = k.pt.val[s]!;
  if (k.pt.refcount[t]! > 1 || (fl & PTE.write) === 0) return unshareTable(k, mm, vpn, end, pmd, i, t, reason);
  return t;
}

function unshareTable(
  k: Kernel,
  mm: MmStruct,
  vpn: number,
  end: number,
  pmd: number,
  i: number,
  t: number,
  reason: TableChangeReason,
): number {
  const req: TableUnshareRequest = {
    mm,
    tableStart: pmdStart(vpn),
    pmdTable: pmd,
    pmdIndex: i,
    table: t,
    reason,
    start: vpn,
    end,
  };
  const nt = k.hooks.fork.unshareTable.call(req);
  if (nt === undefined) {
    throw new SimError(
      `PTE table ${t} is shared or write-protected at the PMD but no policy taps fork.unshareTable`,
      'internal',
    );
  }
  return nt;
}

/**
 * What a page walk finds for vpn right now, without side effects: the PFN, or -1 when the
 * access would fault. `write` asks for write permission. For TLB coherence checking.
 */
export function translate(k: Kernel, mm: MmStruct, vpn: number, write: boolean): number {
  const pt = k.pt;
  let tbl = mm.pgd;
  let w = PTE.write;
  for (let level = 3; level >= 0; level--) {
    const s = pt.slot(tbl, tableIndex(vpn, level));
    const fl = pt.fl[s]!;
    if ((fl & PTE.present) === 0) return -1;
    w &= fl;
    if ((fl & PTE.table) === 0) {
      if ((fl & PTE.protNone) !== 0 || (write && (w & PTE.write) === 0)) return -1;
      const span = level * 9;
      return pt.val[s]! + (span === 0 ? 0 : vpn & ((1 << span) - 1));
    }
    tbl = pt.val[s]!;
  }
  return -1;
}

/** The PTE table covering vpn for reading, or -1 / -2 (huge PMD). */
export function pteTable(k: Kernel, mm: MmStruct, vpn: number): number {
  return tableAt(k, mm, vpn, 0, false);
}
