/**
 * move_page_tables() as mm/mremap.c runs it, extent by extent (get_extent(): up to the next PMD
 * boundary of the old or the new address): a huge PMD moves whole (move_huge_pmd), a whole PTE
 * table moves by its PMD entry when both addresses are PMD-aligned and the new PMD entry is
 * empty (move_normal_pmd, CONFIG_HAVE_MOVE_PMD), else move_ptes() moves the entries one by one
 * (move_soft_dirty_pte()). Each extent flushes its old range as the kernel does: move_ptes()
 * when it moved a present PTE, move_normal_pmd() and move_huge_pmd() always.
 */
import type { Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { C } from '../stats/counters.js';
import { HPAGE_PMD_NR, PTRS_PER_TABLE, pmdIndex, pmdStart, pteIndex } from '../units.js';
import { moveHugePmd } from './huge-pmd-ops.js';
import { splitHugePmdAt } from './huge-memory.js';
import { pteTable, pteTableForWrite, tableAt } from './pgwalk.js';
import { flush } from './tlb-flush.js';

/** Move [start, end) of `vma` to nstart; counts mremap_pte_move and mremap_table_move. */
export function movePageTablesExtents(
  k: Kernel,
  mm: MmStruct,
  vma: Vma,
  start: number,
  end: number,
  nstart: number,
): number {
  const pt = k.pt;
  let moved = 0;
  for (let v = start; v < end; ) {
    const na = nstart + (v - start);
    const ext = Math.min(pmdStart(v) + PTRS_PER_TABLE - v, pmdStart(na) + PTRS_PER_TABLE - na, end - v);
    k.condResched(ext);
    let probe = pteTable(k, mm, v);
    if (probe === -1) {
      v += ext; // get_old_pmd(): nothing mapped
      continue;
    }
    if (probe === -2) {
      if (ext === HPAGE_PMD_NR && moveHugePmd(k, mm, v, end, na)) {
        k.stats.v[C.mremap_pte_move]! += HPAGE_PMD_NR;
        moved += HPAGE_PMD_NR;
        flush(k, 'range', mm, v, v + HPAGE_PMD_NR, 'move_huge_pmd');
        v += ext;
        continue;
      }
      // split_huge_pmd(), then move_ptes()
      if (pteTable(k, mm, v) === -2) splitHugePmdAt(k, mm, pmdStart(v), 'mremap');
      probe = pteTable(k, mm, v);
    } else if (ext === PTRS_PER_TABLE && moveNormalPmd(k, mm, vma, v, na)) {
      k.stats.v[C.mremap_table_move]!++;
      moved += pt.used[pt.val[pt.slot(tableAt(k, mm, na, 1, false), pmdIndex(na))]!]!;
      flush(k, 'range', mm, v, v + PTRS_PER_TABLE, 'move_normal_pmd');
      v += ext;
      continue;
    }
    if (probe >= 0) moved += movePtes(k, mm, probe, v, v + ext, na);
    v += ext;
  }
  return moved;
}

/** move_normal_pmd(): the PTE table moves by its PMD entry (false when it cannot). */
function moveNormalPmd(k: Kernel, mm: MmStruct, vma: Vma, v: number, na: number): boolean {
  const pt = k.pt;
  // vma_has_uffd_without_event_remap(): a registered VMA moves entry by entry
  if ((vma.flags & (VM.uffdMissing | VM.uffdWp)) !== 0) return false;
  const pmd = tableAt(k, mm, v, 1, false);
  const i = pmdIndex(v);
  const table = pt.val[pt.slot(pmd, i)]!;
  if (pt.refcount[table] !== 1) return false; // a shared (copy-on-write) table stays
  const dpmd = tableAt(k, mm, na, 1, true);
  const di = pmdIndex(na);
  if (pt.fl[pt.slot(dpmd, di)] !== 0) return false; // "if we have a dest pmd entry, fail"
  k.hooks.pte.beforeChange.call(mm, v, v + PTRS_PER_TABLE, 'mremap');
  const fl = pt.fl[pt.slot(pmd, i)]!;
  pt.clear(pmd, i);
  pt.set(dpmd, di, table, fl);
  k.charge(k.hw.costs.pteUpdate);
  k.hooks.pte.afterSet.call(mm, na, na + PTRS_PER_TABLE);
  return true;
}

/** move_ptes() of [v, e) (one PTE table) to na; the flush when a present PTE moved. */
function movePtes(k: Kernel, mm: MmStruct, probe: number, v: number, e: number, na0: number): number {
  const pt = k.pt;
  let st = -1;
  let dt = -1;
  let n = 0;
  let present = false;
  for (let a = v; a < e; a++) {
    const fl = pt.fl[pt.slot(probe, pteIndex(a))]!;
    if (fl === 0) continue;
    if (st < 0) {
      st = pteTableForWrite(k, mm, a, false, 'mremap');
      k.hooks.pte.beforeChange.call(mm, v, e, 'mremap');
    }
    const sk = pt.slot(st, pteIndex(a));
    const val = pt.val[sk]!;
    const ofl = pt.fl[sk]!;
    if ((ofl & PTE.present) !== 0) present = true;
    // move_soft_dirty_pte()
    const sfl = ofl | ((ofl & (PTE.present | PTE.swap)) !== 0 ? k.sd : 0);
    pt.clear(st, pteIndex(a));
    const na = na0 + (a - v);
    if (dt < 0) dt = pteTableForWrite(k, mm, na, true, 'mremap');
    pt.set(dt, pteIndex(na), val, sfl);
    k.charge(k.hw.costs.pteUpdate);
    n++;
  }
  if (dt >= 0) k.hooks.pte.afterSet.call(mm, na0, na0 + (e - v));
  k.stats.v[C.mremap_pte_move]! += n;
  if (present) flush(k, 'range', mm, v, e, 'move_ptes');
  return n;
}
