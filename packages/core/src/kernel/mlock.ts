/**
 * mlock (mm/mlock.c as v5.18's munlock rework by Hugh Dickins left it, through v6.18): PG_mlocked
 * and the unevictable LRU, mlock_folio() / munlock_folio() with the folio's mlock_count,
 * mlock_fixup() / mlock_vma_pages_range() / mlock_pte_range() for mlock(), mlock2(), munlock(),
 * mlockall() and munlockall(). The per-CPU mlock_fbatch is not modelled: each folio is handled
 * at once, as the batch would at the latest at the lru_add_drain() that ends mlock, munlock and
 * munmap. Only small folios are mlocked (large folios in a VM_LOCKED VMA stay evictable, but
 * try_to_unmap() does not unmap them); RLIMIT_MEMLOCK is not modelled (CAP_IPC_LOCK).
 */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { LRU } from '../mem/lru.js';
import { C } from '../stats/counters.js';
import { PTRS_PER_TABLE, pmdStart, pteIndex } from '../units.js';
import { mergeVmas, vmasForRange } from './mmap.js';
import { pteTable } from './pgwalk.js';
import { lruAddDrain, lruvecAddFolio, lruvecDelFolio } from './lru-batch.js';
import { mmPopulate } from './populate.js';

/** VM_LOCKED_MASK */
export const VM_LOCKED_MASK = VM.locked | VM.lockonfault;

/** folio_evictable(): no mapping_unevictable() in mmsim, so: not mlocked. */
export function folioEvictable(k: Kernel, head: number): boolean {
  return (k.f.flags[head]! & PG.mlocked) === 0;
}

/** folio_test_set_mlocked(): NR_MLOCK and unevictable_pgs_mlocked on the first mlock. */
function setMlocked(k: Kernel, head: number, nr: number): void {
  const f = k.f;
  if ((f.flags[head]! & PG.mlocked) !== 0) return;
  f.flags[head]! |= PG.mlocked;
  k.stats.v[C.nr_mlock]! += nr;
  k.stats.v[C.unevictable_pgs_mlocked]! += nr;
}

/**
 * mlock_folio() → __mlock_folio(): an mlocked folio on an LRU list moves to the unevictable list
 * (unevictable_pgs_culled) with mlock_count 1, or counts one more mlock there. A folio off the
 * LRU (in an lru_add batch) is left to lru_add(), which culls it.
 */
export function mlockFolio(k: Kernel, head: number): void {
  const f = k.f;
  if (f.order[head]! > 0) return; // large folios: not modelled (see above)
  setMlocked(k, head, 1);
  const fl = f.flags[head]!;
  if ((fl & PG.lru) === 0) return;
  if ((fl & PG.unevictable) !== 0) {
    f.lruPrev[head]!++; // folio->mlock_count++
    return;
  }
  lruvecDelFolio(k, head);
  f.flags[head]! = (f.flags[head]! & ~PG.active) | PG.unevictable;
  lruvecAddFolio(k, head);
  f.lruPrev[head] = 1; // folio->mlock_count = !!folio_test_mlocked()
  k.stats.v[C.unevictable_pgs_culled]!++;
}

/**
 * mlock_new_folio(): a folio a fault in a VM_LOCKED VMA just allocated is mlocked before it is
 * added (folio_add_lru_vma()); lru_add() then puts it on the unevictable list (culled). The
 * kernel queues it on the mlock_fbatch instead of the lru_add batch: the same drains.
 */
export function mlockNewFolio(k: Kernel, head: number): void {
  if (k.f.order[head]! > 0) return;
  setMlocked(k, head, 1);
}

/**
 * munlock_folio() → __munlock_folio(): one mlock fewer; at the last one (mlock_count 0) PG_mlocked
 * is cleared (NR_MLOCK, unevictable_pgs_munlocked; _stranded when an unevictable folio could not
 * be isolated) and the folio goes back to an evictable list (unevictable_pgs_rescued).
 */
export function munlockFolio(k: Kernel, head: number): void {
  const f = k.f;
  const fl = f.flags[head]!;
  const isolated = (fl & PG.lru) !== 0; // folio_test_clear_lru()
  if (isolated && (fl & PG.unevictable) !== 0) {
    if (f.lruPrev[head]! > 0) f.lruPrev[head]!--;
    if (f.lruPrev[head]! > 0) return;
  }
  if ((fl & PG.mlocked) !== 0) {
    f.flags[head]! &= ~PG.mlocked;
    k.stats.v[C.nr_mlock]!--;
    if (isolated || (fl & PG.unevictable) === 0) k.stats.v[C.unevictable_pgs_munlocked]!++;
    else k.stats.v[C.unevictable_pgs_stranded]!++;
  }
  if (isolated && (f.flags[head]! & PG.unevictable) !== 0 && folioEvictable(k, head)) {
    lruvecDelFolio(k, head);
    f.flags[head]! &= ~PG.unevictable;
    lruvecAddFolio(k, head);
    k.stats.v[C.unevictable_pgs_rescued]!++;
  }
}

/** mlock_vma_folio(): a small folio mapped into a VM_LOCKED VMA (folio_add_*_rmap_ptes()). */
export function mlockVmaFolio(k: Kernel, head: number, vma: Vma): void {
  if ((vma.flags & VM.locked) !== 0 && k.f.order[head] === 0) mlockFolio(k, head);
}

/** munlock_vma_folio(): a folio unmapped from a VM_LOCKED VMA (__folio_remove_rmap()). */
export function munlockVmaFolio(k: Kernel, head: number, vma: Vma | undefined): void {
  if (vma !== undefined && (vma.flags & VM.locked) !== 0 && k.f.order[head] === 0) munlockFolio(k, head);
}

/**
 * mlock_pte_range() over [start, end) of `vma` (its new flags set): every present small folio
 * is mlocked (VM_LOCKED) or munlocked; the zero page is not a normal folio.
 */
function mlockPteRange(k: Kernel, mm: MmStruct, vma: Vma, start: number, end: number): void {
  const locked = (vma.flags & VM.locked) !== 0;
  for (let v = start; v < end; ) {
    const tEnd = Math.min(end, pmdStart(v) + PTRS_PER_TABLE);
    k.condResched(tEnd - v);
    const t = pteTable(k, mm, v);
    if (t < 0) {
      v = tEnd; // no table, or a PMD-mapped THP (large folios are not mlocked here)
      continue;
    }
    for (let a = v; a < tEnd; a++) {
      const s = k.pt.slot(t, pteIndex(a));
      if ((k.pt.fl[s]! & PTE.present) === 0) continue;
      const pfn = k.pt.val[s]!;
      if (k.mem.isZeroPfn(pfn)) continue;
      const head = k.f.head(pfn);
      if (k.f.order[head]! > 0) continue;
      if (locked) mlockFolio(k, head);
      else munlockFolio(k, head);
    }
    v = tEnd;
  }
}

/**
 * mlock_fixup(): [start, end) of one VMA gets `newflags`; locked_vm follows. Turning VM_LOCKED on
 * or off walks the present pages (mlock_vma_pages_range(), with lru_add_drain() before and
 * after); changing only VM_LOCKONFAULT of a locked VMA does not ("mlocking twice would be wrong").
 */
function mlockFixup(k: Kernel, mm: MmStruct, vma: Vma, newflags: number): void {
  const old = vma.flags;
  if (newflags === old) return;
  const pages = vma.end - vma.start;
  if ((newflags & VM.locked) === 0) mm.lockedVm -= pages;
  else if ((old & VM.locked) === 0) mm.lockedVm += pages;
  vma.flags = newflags;
  if ((newflags & VM.locked) !== 0 && (old & VM.locked) !== 0) return;
  lruAddDrain(k, k.cpu);
  mlockPteRange(k, mm, vma, vma.start, vma.end);
  lruAddDrain(k, k.cpu);
}

/**
 * apply_vma_lock_flags(): the VMAs of [start, end) get `flags` (VM_LOCKED, | VM_LOCKONFAULT, or
 * none for munlock). A hole is ENOMEM, after the VMAs before it were changed.
 */
function applyVmaLockFlags(k: Kernel, mm: MmStruct, start: number, end: number, flags: number): void {
  let error = false;
  let at = start;
  for (const vma of vmasForRange(k, mm, start, end)) {
    if (vma.start !== at) {
      error = true;
      break;
    }
    mlockFixup(k, mm, vma, (vma.flags & ~VM_LOCKED_MASK) | flags);
    at = vma.end;
  }
  mergeVmas(k, mm);
  if (error || at < end) throw new SimError('mlock: the range has unmapped pages', 'enomem');
}

/**
 * mlock() / mlock2() (`onfault`: MLOCK_ONFAULT) → do_mlock(): the VMAs are locked, then
 * __mm_populate(ignore_errors = 0) faults the range in (not for VM_LOCKONFAULT); a populate error
 * is returned as mlock() does (__mlock_posix_error_return(): EFAULT → ENOMEM, ENOMEM → EAGAIN).
 */
export function doMlock(k: Kernel, mm: MmStruct, start: number, end: number, onfault: boolean): void {
  k.mlockUsed = true;
  k.charge(k.hw.costs.syscall);
  applyVmaLockFlags(k, mm, start, end, VM.locked | (onfault ? VM.lockonfault : 0));
  try {
    mmPopulate(k, mm, start, end, false);
  } catch (e) {
    if (e instanceof SimError && e.code === 'efault') throw new SimError(e.message, 'enomem');
    if (e instanceof SimError && e.code === 'enomem') throw new SimError(e.message, 'eagain');
    throw e;
  }
}

/** munlock(): apply_vma_lock_flags(start, len, 0). */
export function doMunlock(k: Kernel, mm: MmStruct, start: number, end: number): void {
  k.mlockUsed = true;
  k.charge(k.hw.costs.syscall);
  applyVmaLockFlags(k, mm, start, end, 0);
}

/**
 * mlockall() / munlockall() (all flags false) → apply_mlockall_flags(): MCL_FUTURE sets
 * mm->def_flags (VM_LOCKED, | VM_LOCKONFAULT with MCL_ONFAULT) for later mappings; MCL_CURRENT
 * locks every VMA (mlock_fixup()) and mm_populate()s the address space (errors ignored).
 * mlockall() with neither MCL_CURRENT nor MCL_FUTURE is EINVAL.
 */
export function mlockall(
  k: Kernel,
  mm: MmStruct,
  flags: { current: boolean; future: boolean; onfault: boolean },
  unlockAll = false,
): void {
  k.mlockUsed = true;
  k.charge(k.hw.costs.syscall);
  if (!unlockAll && !flags.current && !flags.future)
    throw new SimError('mlockall: neither MCL_CURRENT nor MCL_FUTURE', 'einval');
  mm.defFlags &= ~VM_LOCKED_MASK;
  if (flags.future) mm.defFlags |= VM.locked | (flags.onfault ? VM.lockonfault : 0);
  if (flags.future && !flags.current) return;
  const toAdd = flags.current ? VM.locked | (flags.onfault ? VM.lockonfault : 0) : 0;
  for (const vma of [...mm.vmas]) mlockFixup(k, mm, vma, (vma.flags & ~VM_LOCKED_MASK) | toAdd);
  mergeVmas(k, mm);
  if (flags.current && mm.vmas.length > 0) mmPopulate(k, mm, mm.vmas[0]!.start, mm.vmas[mm.vmas.length - 1]!.end, true);
}

/**
 * mmap_region() of a VMA after mlockall(MCL_FUTURE): it gets mm->def_flags, counts in locked_vm
 * and do_mmap() populates it (populate_vma_page_range() skips VM_LOCKONFAULT).
 */
export function mmapLocked(k: Kernel, mm: MmStruct, vma: Vma): void {
  if ((mm.defFlags & VM.locked) === 0) return;
  vma.flags |= mm.defFlags;
  mm.lockedVm += vma.end - vma.start;
  mmPopulate(k, mm, vma.start, vma.end, true);
}

/** munmap() / exit of a VM_LOCKED VMA: locked_vm shrinks (vms_gather_munmap_vmas()). */
export function unmapLocked(mm: MmStruct, vma: Vma): void {
  if ((vma.flags & VM.locked) !== 0) mm.lockedVm -= vma.end - vma.start;
}

/** Pages on the unevictable list (NR_UNEVICTABLE) of every lruvec. */
export function nrUnevictable(k: Kernel): number {
  let n = 0;
  for (const lv of k.lruvecs) n += lv.pages[LRU.unevictable]!;
  return n;
}
