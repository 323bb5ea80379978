/**
 * echo N > /proc/PID/clear_refs (fs/proc/task_mmu.c clear_refs_write()):
 * - 1 (all) / 2 (anon): clear the accessed bits of the mapped anonymous pages and PG_referenced
 *   (clear_refs_pte_range(): ptep_test_and_clear_young(), folio_clear_referenced()); there are
 *   no file pages to tell 1 from 2 here;
 * - 4 (soft-dirty): clear VM_SOFTDIRTY on every VMA and write-protect every soft-dirty PTE while
 *   clearing its bit (clear_soft_dirty(): pte_wrprotect + pte_clear_soft_dirty; swap PTEs:
 *   pte_swp_clear_soft_dirty; PMDs: clear_soft_dirty_pmd()), so the next write faults and sets
 *   it again. Then flush_tlb_mm().
 */
import type { MmStruct } from '../mm/mm-struct.js';
import { PTE } from '../mm/pte.js';
import { VM } from '../mm/vma.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { PTRS_PER_TABLE, pmdIndex, pmdStart, pteIndex } from '../units.js';
import { SimError, type Kernel } from './kernel.js';
import { pteTableForWrite, tableAt } from './pgwalk.js';
import { flushMm } from './tlb-flush.js';

export function clearRefs(k: Kernel, mm: MmStruct, value: number): void {
  k.charge(k.hw.costs.syscall);
  if (value === 4) {
    // CLEAR_REFS_SOFT_DIRTY: only where the arch has soft-dirty (else the write is ignored)
    if (k.sd === 0) return;
    for (const vma of mm.vmas) vma.flags &= ~VM.softDirty;
  } else if (value !== 1 && value !== 2) {
    throw new SimError(`clear_refs: value ${value} is not modelled (1, 2 and 4 are)`, 'einval', 'value');
  }
  let changed = false;
  const pt = k.pt;
  const f = k.f;
  for (const vma of mm.vmas) {
    for (let v = vma.start; v < vma.end; ) {
      const tEnd = Math.min(vma.end, pmdStart(v) + PTRS_PER_TABLE);
      k.condResched(tEnd - v);
      const pmd = tableAt(k, mm, v, 1, false);
      if (pmd < 0) {
        v = tEnd;
        continue;
      }
      const pk = pt.slot(pmd, pmdIndex(v));
      const pfl = pt.fl[pk]!;
      if ((pfl & PTE.huge) !== 0) {
        if (value === 4) {
          if ((pfl & PTE.softDirty) !== 0) {
            pt.fl[pk] = pfl & ~(PTE.softDirty | PTE.write);
            changed = true;
          }
        } else if ((pfl & PTE.young) !== 0) {
          pt.fl[pk] = pfl & ~PTE.young;
          f.flags[f.head(pt.val[pk]!)]! &= ~PG.referenced;
          changed = true;
        }
        v = tEnd;
        continue;
      }
      if ((pfl & PTE.table) === 0) {
        v = tEnd;
        continue;
      }
      let t = pt.val[pk]!;
      let writable = false;
      for (let a = v; a < tEnd; a++) {
        const fl = pt.fl[pt.slot(t, pteIndex(a))]!;
        let n = fl;
        if (value === 4) {
          if ((fl & PTE.softDirty) === 0) continue;
          n = (fl & PTE.present) !== 0 ? fl & ~(PTE.softDirty | PTE.write) : fl & ~PTE.softDirty;
        } else {
          if ((fl & PTE.present) === 0 || (fl & PTE.young) === 0) continue;
          n = fl & ~PTE.young;
          const pfn = pt.val[pt.slot(t, pteIndex(a))]!;
          if (pfn !== ZERO_PFN) f.flags[f.head(pfn)]! &= ~PG.referenced;
        }
        if (!writable) {
          // a shared (COW PTE) table is unshared first. The policy API's reasons have no
          // clear_refs: it write-protects as change_protection() does, so it is 'mprotect'
          t = pteTableForWrite(k, mm, a, false, 'mprotect');
          writable = true;
          k.hooks.pte.beforeChange.call(mm, v, tEnd, 'mprotect');
        }
        pt.fl[pt.slot(t, pteIndex(a))] = n;
        k.charge(k.hw.costs.pteUpdate);
        changed = true;
      }
      if (writable) k.hooks.pte.afterSet.call(mm, v, tEnd);
      v = tEnd;
    }
  }
  if (changed) flushMm(k, mm, 'clear_refs');
}
