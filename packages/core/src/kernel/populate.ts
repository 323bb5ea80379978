/**
 * Prefaulting through GUP without pinning: MADV_POPULATE_(READ|WRITE) (madvise_populate() →
 * faultin_page_range(), 4ca9b3859dac, v5.14) and MAP_POPULATE / mlock (__mm_populate() →
 * populate_vma_page_range()).
 */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { pteIndex } from '../units.js';
import { FaultResult, handleMmFault } from './fault.js';
import { followHugePmd } from './huge-memory.js';
import { pteTable } from './pgwalk.js';
import { folioMarkAccessed } from './filemap-rw.js';
import { lruAddDrain } from './lru-batch.js';

/**
 * follow_page_mask() with FOLL_TOUCH: the PFN mapped at vpn when the access needs no fault (a
 * write needs a writable PTE: can_follow_write_pte() without FOLL_FORCE), else -1.
 */
function followPage(k: Kernel, mm: MmStruct, vpn: number, write: boolean): number {
  const t = pteTable(k, mm, vpn);
  if (t === -2) {
    const h = followHugePmd(k, mm, vpn);
    if (h === null || (h.fl & PTE.protNone) !== 0 || (write && (h.fl & PTE.write) === 0)) return -1;
    followedFl = h.fl;
    return h.pfn;
  }
  if (t < 0) return -1;
  const s = k.pt.slot(t, pteIndex(vpn));
  const fl = k.pt.fl[s]!;
  if ((fl & PTE.present) === 0 || (fl & PTE.protNone) !== 0 || (write && (fl & PTE.write) === 0)) return -1;
  followedFl = fl;
  return k.pt.val[s]!;
}

/** The entry followPage() found (no allocation per page). */
let followedFl = 0;

/**
 * madvise_populate() → faultin_page_range(): __get_user_pages() of [start, end) with
 * FOLL_MADV_POPULATE, then lru_add_drain(). Errors as madvise_populate() returns them: no VMA at
 * an address ENOMEM (the pages before it stay populated), a VMA without the permission EINVAL
 * (check_vma_flags() without FOLL_FORCE), a fault that fails (VM_FAULT_SIGSEGV / SIGBUS) EFAULT.
 */
export function madvisePopulate(k: Kernel, mm: MmStruct, start: number, end: number, write: boolean): void {
  try {
    let vma: Vma | undefined;
    for (let vpn = start; vpn < end; ) {
      if (vma === undefined || vpn >= vma.end) {
        // FOLL_MADV_POPULATE: vma_lookup() fails → -ENOMEM; check_vma_flags() fails → -EINVAL
        vma = mm.findVma(vpn);
        if (vma === undefined)
          throw new SimError(`madvise(populate): no mapping at page 0x${vpn.toString(16)}`, 'enomem');
        if ((vma.flags & (write ? VM.write : VM.read)) === 0)
          throw new SimError(
            `madvise(populate_${write ? 'write' : 'read'}): the mapping at page 0x${vpn.toString(16)} is not ${write ? 'writable' : 'readable'}`,
            'einval',
          );
      }
      const e = Math.min(end, vma.end);
      getUserPages(k, mm, vpn, e, write);
      vpn = e;
    }
  } finally {
    lruAddDrain(k, k.cpu);
  }
}

/**
 * __mm_populate(start, len, ignore_errors) after mmap(MAP_POPULATE) (ignore_errors = 1), mlock()
 * (0) and mlockall(MCL_CURRENT) (1): populate_vma_page_range() per VMA: nothing for
 * VM_LOCKONFAULT; private writable mappings are write-faulted (breaking CoW), the others
 * read-faulted with FOLL_FORCE (so a PROT_WRITE-only shared mapping too). mmsim skips PROT_NONE
 * VMAs (v6.18 read-faults them with FOLL_FORCE, mapping the zero page PROT_NONE). A fault that
 * fails is EFAULT, ignored with ignore_errors. From v5.18 each VMA ends with lru_add_drain()
 * (`populateLruDrain`).
 */
export function mmPopulate(k: Kernel, mm: MmStruct, start: number, end: number, ignoreErrors: boolean): void {
  for (const vma of mm.vmasIn(start, end)) {
    if ((vma.flags & (VM.read | VM.write)) === 0 || (vma.flags & VM.lockonfault) !== 0) continue;
    const write = (vma.flags & (VM.write | VM.shared)) === VM.write;
    try {
      getUserPages(k, mm, Math.max(start, vma.start), Math.min(end, vma.end), write);
    } catch (e) {
      if (!ignoreErrors || !(e instanceof SimError) || e.code !== 'efault') throw e;
    } finally {
      if (k.config.features.populateLruDrain) lruAddDrain(k, k.cpu);
    }
  }
}

/**
 * __get_user_pages() of [start, end) inside one VMA, without pinning: a page that needs it is
 * faulted in (faultin_page() → handle_mm_fault() with regs == NULL: mm_account_fault() counts
 * pgfault (and the task's min_flt / maj_flt), not the perf events), a present one is touched
 * (FOLL_TOUCH: folio_mark_dirty() for a write, folio_mark_accessed()).
 */
function getUserPages(k: Kernel, mm: MmStruct, start: number, end: number, write: boolean): void {
  const f = k.f;
  for (let vpn = start; vpn < end; vpn++) {
    k.condResched(1);
    let pfn = followPage(k, mm, vpn, write);
    for (let tries = 0; pfn < 0 && tries < 4; tries++) {
      const r = handleMmFault(k, mm, vpn, write, false);
      if (r === FaultResult.SEGV) throw new SimError(`populate: fault at page 0x${vpn.toString(16)} failed`, 'efault');
      if (r !== FaultResult.OK)
        throw new SimError(
          'populating a userfaultfd-registered range that needs the monitor is not modelled yet',
          'internal',
        );
      pfn = followPage(k, mm, vpn, write);
    }
    if (pfn < 0) throw new SimError(`populate: page 0x${vpn.toString(16)} could not be faulted in`, 'internal');
    if (k.mem.isZeroPfn(pfn)) continue;
    const head = f.head(pfn);
    // FOLL_TOUCH: folio_mark_dirty() when neither the PTE nor the folio is dirty yet
    if (write && (followedFl & PTE.dirty) === 0) f.flags[head]! |= PG.dirty;
    folioMarkAccessed(k, head);
  }
}
