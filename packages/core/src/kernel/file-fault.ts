/**
 * Faults on file and shmem mappings (mm/memory.c): do_fault() → do_read_fault() (with
 * do_fault_around() → filemap_map_pages()), do_cow_fault(), do_shared_fault(); and the
 * write-protect fault on a page-cache page (do_wp_page(): wp_page_shared() for a shared
 * mapping, wp_page_copy() for a private one: a page-cache page is never reused).
 */
import { PG } from '../mem/folios.js';
import { mlockVmaFolio } from './mlock.js';
import { PTE } from '../mm/pte.js';
import { VM, type Vma } from '../mm/vma.js';
import { pteIndex } from '../units.js';
import type { Kernel } from './kernel.js';
import type { VmFault } from './vm-fault.js';
import { addFileRmapPtes } from './file-rmap.js';
import { filemapFault, folioMarkDirty } from './filemap.js';
import { addNewAnonRmap } from './rmap.js';
import { lruAdd } from './lru-batch.js';

/** fault_around_bytes (64 KiB, mm/memory.c): the pages do_fault_around() may map. */
export const FAULT_AROUND_PAGES = 16;

// FaultResult values (fault.ts)
const OK = 0;
const SEGV = 3;

/**
 * vm_page_prot of a file VMA: writable only for a shared writable mapping that wants no write
 * notification (shmem: no page_mkwrite, no dirty accounting); a regular file's shared mapping
 * starts read-only so that the first write faults (vma_wants_writenotify()).
 */
function protWritable(vma: Vma): boolean {
  return (vma.flags & (VM.shared | VM.write)) === (VM.shared | VM.write) && vma.file!.shmem;
}

/** set_pte_range() of one page-cache page (the caller holds the reference the PTE takes). */
function setFilePte(k: Kernel, vmf: VmFault, vpn: number, head: number, write: boolean): void {
  const vma = vmf.vma;
  let fl = PTE.present | PTE.young;
  // maybe_mkwrite(pte_mkdirty()) on a shared write; a writable prot maps writable anyway
  if (write) fl |= PTE.dirty | k.sd | PTE.write;
  else if (protWritable(vma)) fl |= PTE.write | ((k.f.flags[head]! & PG.dirty) !== 0 ? PTE.dirty : 0);
  addFileRmapPtes(k, head, head, 1, vmf.mm);
  mlockVmaFolio(k, head, vma); // __folio_add_file_rmap(): mlock_vma_folio()
  k.pt.set(vmf.table, pteIndex(vpn), head, fl);
  k.charge(k.hw.costs.pteUpdate);
  k.hooks.pte.afterSet.call(vmf.mm, vpn, vpn + 1);
}

/** do_fault(): a none PTE in a VMA with vm_ops. */
export function doFault(k: Kernel, vmf: VmFault): number {
  const vma = vmf.vma;
  const as = vma.file!;
  const index = vma.pgoffOf(vmf.vpn);
  // beyond i_size: SIGBUS (reported as a segmentation fault)
  if (index >= as.pages) return SEGV;
  if (!vmf.write) return doReadFault(k, vmf, index);
  if ((vma.flags & VM.shared) === 0) return doCowFault(k, vmf, index);
  return doSharedFault(k, vmf, index);
}

/** do_read_fault(): fault around first; if that did not map the address, filemap_fault(). */
function doReadFault(k: Kernel, vmf: VmFault, index: number): number {
  if ((vmf.vma.flags & VM.uffdMissing) === 0 && doFaultAround(k, vmf, index)) return OK;
  const head = filemapFault(k, vmf.vma.file!, index);
  setFilePte(k, vmf, vmf.vpn, head, false);
  return OK;
}

/**
 * do_fault_around() → filemap_map_pages(): map the folios already in the page cache over the
 * fault_around_bytes window around the address (inside the VMA, the PTE table and the file),
 * for the PTEs that are none. Whether the faulting address itself got mapped (VM_FAULT_NOPAGE).
 */
function doFaultAround(k: Kernel, vmf: VmFault, index: number): boolean {
  const { vma, vpn } = vmf;
  const as = vma.file!;
  const pteOff = pteIndex(vpn);
  const vmaOff = vpn - vma.start;
  const from = Math.max(pteOff - (pteOff % FAULT_AROUND_PAGES), pteOff - Math.min(pteOff, vmaOff));
  const to = Math.min(from + FAULT_AROUND_PAGES, 512, pteOff + (vma.end - vma.start) - vmaOff) - 1;
  const pt = k.pt;
  let mapped = false;
  for (let p = from; p <= to; p++) {
    const i = index + p - pteOff;
    if (i < 0 || i >= as.pages) continue;
    const head = as.folio[i]!;
    if (head < 0) continue; // next_uptodate_folio(): only folios in the page cache
    if (pt.fl[pt.slot(vmf.table, p)] !== 0) continue;
    k.f.ref[head]!++;
    setFilePte(k, vmf, vpn + p - pteOff, head, false);
    if (p === pteOff) mapped = true;
  }
  return mapped;
}

/** do_cow_fault(): a private write: a new anon folio with a copy of the page-cache page. */
function doCowFault(k: Kernel, vmf: VmFault, index: number): number {
  const { mm, vma, vpn } = vmf;
  const nh = k.allocFolio(0, false); // folio_prealloc()
  const src = filemapFault(k, vma.file!, index);
  k.f.data[nh] = k.f.data[src]!;
  k.charge(k.hw.costs.copyPage);
  addNewAnonRmap(k, nh, mm, vma, vpn, 1);
  lruAdd(k, nh);
  k.pt.set(vmf.table, pteIndex(vpn), nh, PTE.present | PTE.young | PTE.dirty | k.sd | PTE.write);
  k.charge(k.hw.costs.pteUpdate);
  k.hooks.pte.afterSet.call(mm, vpn, vpn + 1);
  k.folioPut(src); // put_page(vmf->page)
  return OK;
}

/** do_shared_fault(): filemap_fault(), page_mkwrite, a writable dirty PTE, fault_dirty_shared_page(). */
function doSharedFault(k: Kernel, vmf: VmFault, index: number): number {
  const head = filemapFault(k, vmf.vma.file!, index);
  setFilePte(k, vmf, vmf.vpn, head, true);
  folioMarkDirty(k, head);
  return OK;
}

/**
 * do_wp_page() on a present read-only PTE of a page-cache folio. Shared: wp_page_shared()
 * (page_mkwrite, wp_page_reuse(), the folio dirtied). Private: `copy` (wp_page_copy()), never a
 * reuse. An unshare fault (a R/O longterm pin in a private mapping, v6.2+: gup.ts) copies the
 * page into a read-only anonymous one; in a shared mapping there is nothing to unshare.
 */
export function doWpFilePage(k: Kernel, vmf: VmFault, head: number, copy: () => void): number {
  if (vmf.unshare && (vmf.vma.flags & VM.shared) !== 0) return OK;
  if ((vmf.vma.flags & VM.shared) === 0) {
    copy();
    return OK;
  }
  const { mm, vpn } = vmf;
  const kk = k.pt.slot(vmf.table, vmf.index);
  k.hooks.pte.beforeChange.call(mm, vpn, vpn + 1, 'wp_page_reuse');
  k.pt.fl[kk] = k.pt.fl[kk]! | PTE.young | PTE.dirty | k.sd | PTE.write;
  k.hooks.pte.afterSet.call(mm, vpn, vpn + 1);
  k.charge(k.hw.costs.pteUpdate);
  folioMarkDirty(k, head);
  return OK;
}
