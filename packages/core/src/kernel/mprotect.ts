/** mprotect() → change_protection() (mm/mprotect.c). */
import type { TableChangeReason } from '../api/contexts.js';
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { C } from '../stats/counters.js';
import { PTRS_PER_TABLE, pmdStart, pteIndex } from '../units.js';
import { mergeVmas, vmasForRange } from './mmap.js';
import { changeHugePmd } from './huge-pmd-ops.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { flush } from './tlb-flush.js';

/**
 * `w`: PROT_WRITE alone (VM_WRITE without VM_READ). The hardware cannot map a page write-only
 * (x86 and arm64 protection_map: the PTE is readable), so user reads work, but GUP
 * (check_vma_flags(): MADV_POPULATE_READ, read pins) refuses the mapping.
 */
export type Prot = 'r' | 'w' | 'rw' | 'none';

export function mprotect(k: Kernel, mm: MmStruct, start: number, end: number, prot: Prot): void {
  k.charge(k.hw.costs.syscall);
  if (mm.vmasIn(start, end).length === 0) throw new SimError('mprotect: no mapping in the range', 'einval');
  const newFlags = prot === 'rw' ? VM.read | VM.write : prot === 'r' ? VM.read : prot === 'w' ? VM.write : 0;
  for (const vma of vmasForRange(k, mm, start, end)) {
    // mprotect_fixup(): nothing to do when the protection does not change
    if ((vma.flags & (VM.read | VM.write)) === newFlags) continue;
    vma.flags = (vma.flags & ~(VM.read | VM.write)) | newFlags;
    changeProtection(k, mm, vma, vma.start, vma.end, 'mprotect', (fl, pfn) => {
      let n = fl & ~(PTE.write | PTE.protNone);
      if (prot === 'none') n |= PTE.protNone;
      else if (prot !== 'r' && k.config.features.tryChangeWritable && canChangePteWritable(k, vma, n, pfn))
        n |= PTE.write;
      return n;
    });
  }
  mergeVmas(k, mm);
}

/** can_change_pte_writable(): only an exclusive anonymous page may become writable without a fault. */
export function canChangePteWritable(k: Kernel, vma: Vma, fl: number, pfn: number): boolean {
  if ((vma.flags & VM.write) === 0 || (fl & PTE.uffdWp) !== 0 || pfn === ZERO_PFN) return false;
  // vma_soft_dirty_enabled() && !pte_soft_dirty(): the write fault must set soft-dirty
  if (k.sd !== 0 && (vma.flags & VM.softDirty) === 0 && (fl & PTE.softDirty) === 0) return false;
  return (k.f.flags[pfn]! & PG.anonExclusive) !== 0;
}

/**
 * change_pte_range() over present PTEs of [start, end): `update` maps old flags to new ones.
 * Flushes the range when a present PTE changed (flush_tlb_range). `swapUpdate`: the same for
 * swap PTEs (is_swap_pte(): uffd-wp's pte_swp_mkuffd_wp / pte_swp_clear_uffd_wp), which need
 * no flush. Returns the number of PTEs changed.
 */
export function changeProtection(
  k: Kernel,
  mm: MmStruct,
  _vma: Vma,
  start: number,
  end: number,
  reason: TableChangeReason,
  update: (fl: number, pfn: number) => number,
  swapUpdate?: (fl: number) => number,
): number {
  let pages = 0;
  let swapPages = 0;
  for (let v = start; v < end; ) {
    const tEnd = Math.min(end, pmdStart(v) + PTRS_PER_TABLE);
    k.condResched(tEnd - v);
    let probe = pteTable(k, mm, v);
    if (probe === -2) {
      // change_huge_pmd() when the range covers the PMD, else split it and change the PTEs
      const n = changeHugePmd(k, mm, v, end, reason, update);
      if (n >= 0) {
        pages += n;
        v = tEnd;
        continue;
      }
      probe = pteTable(k, mm, v);
    }
    if (probe >= 0) {
      let t = probe;
      let writable = false;
      for (let a = v; a < tEnd; a++) {
        const kk = k.pt.slot(t, pteIndex(a));
        const fl = k.pt.fl[kk]!;
        if ((fl & PTE.present) === 0) {
          if ((fl & PTE.swap) === 0 || !swapUpdate) continue;
          const ns = swapUpdate(fl);
          if (ns === fl) continue;
          if (!writable) {
            t = pteTableForWrite(k, mm, a, false, reason);
            writable = true;
            k.hooks.pte.beforeChange.call(mm, v, tEnd, reason);
          }
          k.pt.fl[k.pt.slot(t, pteIndex(a))] = ns;
          k.charge(k.hw.costs.pteUpdate);
          swapPages++;
          continue;
        }
        let n = update(fl, k.pt.val[kk]!);
        if (n === fl) continue;
        if (!writable) {
          t = pteTableForWrite(k, mm, a, false, reason);
          writable = true;
          k.hooks.pte.beforeChange.call(mm, v, tEnd, reason);
          // the hardware may have rewritten the entries (contpte unfold): recompute
          const k2 = k.pt.slot(t, pteIndex(a));
          n = update(k.pt.fl[k2]!, k.pt.val[k2]!);
        }
        k.pt.fl[k.pt.slot(t, pteIndex(a))] = n;
        k.charge(k.hw.costs.pteUpdate);
        pages++;
      }
      if (writable) k.hooks.pte.afterSet.call(mm, v, tEnd);
    }
    v = tEnd;
  }
  k.stats.v[C.mprotect_pte]! += pages + swapPages;
  if (pages > 0) flush(k, 'range', mm, start, end, reason);
  return pages + swapPages;
}
