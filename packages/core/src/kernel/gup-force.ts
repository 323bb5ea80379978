/**
 * A FOLL_FORCE write: access_remote_vm() → __get_user_pages(FOLL_FORCE | FOLL_WRITE), as a
 * write(2) to /proc/PID/mem or ptrace(PTRACE_POKEDATA) does it (mm/gup.c, mm/memory.c).
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

/**
 * can_follow_write_pte() / can_follow_write_pmd(). Since 5535be309971 (v6.2): a writable
 * entry, or FOLL_FORCE in a private VMA without VM_WRITE on an exclusive anonymous page
 * (PageAnonExclusive) whose entry needs no write fault for soft-dirty or uffd-wp. Before:
 * a writable entry, or FOLL_FORCE with FOLL_COW (set after a fault that returned
 * VM_FAULT_WRITE in a VMA without VM_WRITE) and the entry dirty.
 */
function canFollowWrite(k: Kernel, vma: Vma, fl: number, pfn: number, follCow: boolean): boolean {
  if ((fl & PTE.write) !== 0) return true;
  if (!k.config.features.gupForceAnonExclusive) return follCow && (fl & PTE.dirty) !== 0;
  if ((vma.flags & (VM.shared | VM.write)) !== 0) return false;
  if (k.mem.isZeroPfn(pfn)) return false;
  const head = k.f.head(pfn);
  if ((k.f.flags[head]! & PG.anon) === 0 || (k.f.flags[pfn]! & PG.anonExclusive) === 0) return false;
  // vma_soft_dirty_enabled(vma) && !pte_soft_dirty(pte)
  if (k.sd !== 0 && (vma.flags & VM.softDirty) === 0 && (fl & PTE.softDirty) === 0) return false;
  return !((fl & PTE.uffdWp) !== 0 && (vma.flags & VM.uffdWp) !== 0);
}

/**
 * Write `value` into page `vpn` of `mm` with FOLL_FORCE: check_vma_flags() lets a write into a
 * private VMA without VM_WRITE through (-EFAULT in a shared one); follow_page_mask() fails
 * until the entry can be followed for writing, faultin_page() takes a write fault
 * (FAULT_FLAG_WRITE: CoW or reuse, the PTE made dirty but not writable: maybe_mkwrite()).
 * The write goes to the page the walk found; the user's mapping stays read-only.
 * Returns the faults taken.
 */
export function accessRemoteVmWrite(k: Kernel, mm: MmStruct, vpn: number, value: number): number {
  k.charge(k.hw.costs.syscall);
  const hex = `0x${vpn.toString(16)}`;
  const vma = mm.findVma(vpn);
  if (!vma) throw new SimError(`pokeMem: page ${hex} is not mapped (EFAULT)`, 'efault', 'region');
  if ((vma.flags & VM.write) === 0 && (vma.flags & VM.shared) !== 0)
    throw new SimError(`pokeMem: page ${hex} is in a read-only shared mapping (EFAULT)`, 'efault', 'region');
  if ((vma.flags & VM.read) === 0)
    throw new SimError('pokeMem: a FOLL_FORCE write to a PROT_NONE mapping is not modelled', 'internal');
  let follCow = false;
  let faults = 0;
  for (let tries = 0; tries < 4; tries++) {
    const t = pteTable(k, mm, vpn);
    const huge = t === -2 ? followHugePmd(k, mm, vpn) : null;
    const fl = huge ? huge.fl : t >= 0 ? k.pt.fl[k.pt.slot(t, pteIndex(vpn))]! : 0;
    const pfn = huge ? huge.pfn : t >= 0 ? k.pt.val[k.pt.slot(t, pteIndex(vpn))]! : -1;
    if ((fl & PTE.present) !== 0 && (fl & PTE.protNone) === 0 && canFollowWrite(k, vma, fl, pfn, follCow)) {
      // copy_to_user_page() and set_page_dirty_lock()
      k.f.data[pfn] = value >>> 0;
      k.f.flags[k.f.head(pfn)]! |= PG.dirty;
      k.charge(k.hw.costs.copyPage);
      return faults;
    }
    faults++;
    const r = handleMmFault(k, mm, vpn, true, false, -1, true);
    if (r === FaultResult.UFFD_MISSING || r === FaultResult.UFFD_WP)
      throw new SimError(
        `pokeMem: the fault at page ${hex} waits for userfaultfd (not modelled for a remote access)`,
        'internal',
      );
    if (r !== FaultResult.OK)
      throw new SimError(`pokeMem: the fault at page ${hex} failed (EFAULT)`, 'efault', 'region');
    // faultin_page(): `if ((ret & VM_FAULT_WRITE) && !(vma->vm_flags & VM_WRITE)) *flags |= FOLL_COW`
    // (do_wp_page() returned VM_FAULT_WRITE; do_anonymous_page() did not)
    if ((vma.flags & VM.write) === 0 && (fl & PTE.present) !== 0) follCow = true;
  }
  throw new SimError(`pokeMem: no progress at page ${hex}`, 'internal');
}
