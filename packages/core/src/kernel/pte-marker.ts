/**
 * PTE markers (include/linux/swapops.h, mm/memory.c handle_pte_marker()): non-present PTEs
 * that carry no page. PTE_MARKER_UFFD_WP (flag word `PTE.uffdWp` alone, installed by
 * UFFDIO_WRITEPROTECT with UFFD_FEATURE_WP_UNPOPULATED on none PTEs) and PTE_MARKER_POISONED
 * (`PTE.poisoned`, UFFDIO_POISON). zap_pte_range() drops them on anonymous VMAs; pagemap
 * reports the uffd-wp one as PM_UFFD_WP.
 */
import { SimError, type Kernel } from './kernel.js';
import { PTE } from '../mm/pte.js';
import { VM } from '../mm/vma.js';
import { pteIndex } from '../units.js';
import type { VmFault } from './vm-fault.js';
import { doAnonymousPage, FaultResult } from './fault.js';
import { doFault } from './file-fault.js';

/** is_pte_marker(): neither present nor a swap entry, and not none */
export function isPteMarker(fl: number): boolean {
  return fl !== 0 && (fl & (PTE.present | PTE.swap)) === 0;
}

/**
 * handle_pte_marker(): a poisoned marker is VM_FAULT_HWPOISON (SIGBUS); a uffd-wp marker in a
 * VMA no longer registered for wp is cleared (pte_marker_clear()), else
 * pte_marker_handle_uffd_wp() → do_pte_missing() with vmf->orig_pte carrying the bit: the page
 * do_anonymous_page() maps (the zero page or a new folio) gets pte_mkuffd_wp(), which on x86
 * also write-protects it, so a write faults again into handle_userfault(VM_UFFD_WP).
 */
export function handlePteMarker(k: Kernel, vmf: VmFault, fl: number): FaultResult {
  const { vma, vpn, table } = vmf;
  const i = pteIndex(vpn);
  if ((fl & PTE.poisoned) !== 0)
    throw new SimError(`SIGBUS: page 0x${vpn.toString(16)} is poisoned (UFFDIO_POISON)`, 'sigbus');
  k.pt.clear(table, i);
  k.charge(k.hw.costs.pteUpdate);
  if ((vma.flags & VM.uffdWp) === 0) return FaultResult.OK;
  const r = vma.file !== null ? (doFault(k, vmf) as FaultResult) : doAnonymousPage(k, vmf);
  if (r !== FaultResult.OK) {
    // handle_userfault() for a missing fault left the marker in place
    if (k.pt.fl[k.pt.slot(table, i)] === 0) k.pt.set(table, i, 0, fl);
    return r;
  }
  // pte_mkuffd_wp() on every PTE set_ptes() installed for the folio
  const s = k.pt.slot(table, i);
  const pfn = k.pt.val[s]!;
  const zero = k.mem.isZeroPfn(pfn);
  const head = zero ? pfn : k.f.head(pfn);
  const nr = zero ? 1 : 1 << k.f.order[head]!;
  const first = vpn - (pfn - head);
  for (let j = 0; j < nr; j++) {
    const sj = k.pt.slot(table, pteIndex(first + j));
    k.pt.fl[sj] = (k.pt.fl[sj]! | PTE.uffdWp) & ~PTE.write;
  }
  k.hooks.pte.afterSet.call(vmf.mm, first, first + nr);
  return FaultResult.OK;
}

/** UFFDIO_WRITEPROTECT with UFFD_FEATURE_WP_UNPOPULATED: a uffd-wp marker on a none PTE */
export const UFFD_WP_MARKER = PTE.uffdWp;
