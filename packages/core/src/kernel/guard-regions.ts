/**
 * Guard regions (662df3e5c376, v6.13): MADV_GUARD_INSTALL puts a PTE_MARKER_GUARD marker in
 * every PTE of the range, MADV_GUARD_REMOVE clears them (mm/madvise.c madvise_guard_install /
 * madvise_guard_remove). A marker is neither present nor swap: a fault on it is SIGSEGV
 * (handle_pte_marker), fork copies it (copy_pte_marker), mremap moves it, MADV_DONTNEED keeps
 * it and munmap drops it (ZAP_FLAG_DROP_MARKER).
 */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { PTE } from '../mm/pte.js';
import { VM } from '../mm/vma.js';
import { PTRS_PER_TABLE, pmdStart, pteIndex } from '../units.js';
import { anonVmaPrepare } from './rmap.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { zapRange } from './zap.js';

export const GUARD_ADVICES = ['guard_install', 'guard_remove'] as const;
export type GuardAdvice = (typeof GUARD_ADVICES)[number];

/** madvise(MADV_GUARD_INSTALL / MADV_GUARD_REMOVE) over [start, end). */
export function madviseGuard(k: Kernel, mm: MmStruct, start: number, end: number, advice: GuardAdvice): void {
  k.charge(k.hw.costs.syscall);
  const vmas = mm.vmasIn(start, end);
  if (vmas.length === 0) throw new SimError(`madvise(${advice}): no mapping in the range`, 'einval');
  for (const vma of vmas) {
    const s = Math.max(start, vma.start);
    const e = Math.min(end, vma.end);
    if (advice === 'guard_remove') {
      guardRemove(k, mm, s, e);
      continue;
    }
    // is_valid_guard_vma(vma, allow_locked = false): MADV_GUARD_INSTALL refuses a VM_LOCKED VMA
    // (madvise_walk_vmas(): the VMAs before it are done); MADV_GUARD_REMOVE allows it
    if ((vma.flags & VM.locked) !== 0)
      throw new SimError('madvise(guard_install): a VM_LOCKED mapping in the range', 'einval');
    // is_valid_guard_vma(): anonymous VMAs (file-backed ones from v6.15 are not modelled)
    if (vma.file !== null)
      throw new SimError(
        'madvise(guard_install): guard regions in file or shared mappings are not modelled yet',
        'internal',
      );
    // "the range is no longer empty from a page table perspective": fork must copy it
    anonVmaPrepare(k, mm, vma);
    // the walk finds present or swap entries: zap_page_range_single() (keeps markers), then install
    let mapped = false;
    for (let v = s; v < e && !mapped; v++) {
      const t = pteTable(k, mm, v);
      if (t === -2) mapped = true;
      else if (t >= 0) {
        const fl = k.pt.fl[k.pt.slot(t, pteIndex(v))]!;
        if (fl !== 0 && (fl & PTE.guard) === 0) mapped = true;
      } else v = pmdStart(v) + PTRS_PER_TABLE - 1;
    }
    if (mapped) {
      const tlb = k.gather(mm);
      zapRange(k, mm, s, e, tlb, 'madvise');
      tlb.finish('madvise_guard_install');
    }
    // guard_install_set_pte(): set_pte_at(make_pte_marker(PTE_MARKER_GUARD)) on every none PTE
    for (let v = s; v < e; ) {
      const tEnd = Math.min(e, pmdStart(v) + PTRS_PER_TABLE);
      const t = pteTableForWrite(k, mm, v, true, 'madvise');
      k.hooks.pte.beforeChange.call(mm, v, tEnd, 'madvise');
      for (let a = v; a < tEnd; a++) {
        if (k.pt.fl[k.pt.slot(t, pteIndex(a))] !== 0) continue;
        k.pt.set(t, pteIndex(a), 0, PTE.guard);
        k.charge(k.hw.costs.pteUpdate);
      }
      k.hooks.pte.afterSet.call(mm, v, tEnd);
      v = tEnd;
    }
  }
}

/** guard_remove_pte_entry(): pte_clear() of each guard marker; everything else stays. */
function guardRemove(k: Kernel, mm: MmStruct, s: number, e: number): void {
  for (let v = s; v < e; ) {
    const tEnd = Math.min(e, pmdStart(v) + PTRS_PER_TABLE);
    const probe = pteTable(k, mm, v);
    if (probe >= 0) {
      let t = -1;
      for (let a = v; a < tEnd; a++) {
        if ((k.pt.fl[k.pt.slot(probe, pteIndex(a))]! & PTE.guard) === 0) continue;
        if (t < 0) {
          t = pteTableForWrite(k, mm, a, false, 'madvise');
          k.hooks.pte.beforeChange.call(mm, v, tEnd, 'madvise');
        }
        k.pt.clear(t, pteIndex(a));
        k.charge(k.hw.costs.pteUpdate);
      }
      if (t >= 0) k.hooks.pte.afterSet.call(mm, v, tEnd);
    }
    v = tEnd;
  }
}
