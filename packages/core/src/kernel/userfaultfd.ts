/** userfaultfd: UFFDIO_REGISTER, UFFDIO_COPY, UFFDIO_WRITEPROTECT (fs/userfaultfd.c, mm/userfaultfd.c). */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { C } from '../stats/counters.js';
import { mergeVmas, vmasForRange } from './mmap.js';
import { canChangePteWritable, changeProtection } from './mprotect.js';
import { pteTableForWrite } from './pgwalk.js';
import { addNewAnonRmap } from './rmap.js';
import { lruAdd } from './lru-batch.js';
import { pteIndex } from '../units.js';

export function uffdRegister(k: Kernel, mm: MmStruct, start: number, end: number, mode: 'wp' | 'missing'): void {
  const vmas = vmasForRange(k, mm, start, end);
  if (vmas.length === 0) throw new SimError('uffdRegister: no mapping in the range', 'einval');
  for (const v of vmas) v.flags |= mode === 'wp' ? VM.uffdWp : VM.uffdMissing;
  mergeVmas(k, mm);
}

/**
 * UFFDIO_COPY → mfill_atomic_pte_copy(): allocate pages holding `values` and map them;
 * with `wp` they are mapped write-protected with the uffd-wp bit (UFFDIO_COPY_MODE_WP).
 */
export function uffdCopy(
  k: Kernel,
  mm: MmStruct,
  start: number,
  end: number,
  wp: boolean,
  value: (i: number) => number,
): void {
  k.charge(k.hw.costs.syscall);
  const vma = copyDstVma(mm, start, end);
  // mfill_atomic(): a UFFDIO_COPY_MODE_WP copy needs a VMA registered in wp mode, else -EINVAL
  if (wp && (vma.flags & VM.uffdWp) === 0)
    throw new SimError('uffdCopy: wp is set but the range is not registered in wp mode (EINVAL)', 'einval', 'wp');
  // mfill_atomic_pte_copy(): mem_cgroup_charge(folio, dst_vma->vm_mm)
  k.memcgCharge = mm.memcg;
  for (let vpn = start; vpn < end; vpn++) {
    k.condResched(1);
    const t = pteTableForWrite(k, mm, vpn, true, 'uffd_copy');
    if (k.pt.fl[k.pt.slot(t, pteIndex(vpn))] !== 0)
      throw new SimError(`uffdCopy: page 0x${vpn.toString(16)} is already populated (EEXIST)`, 'eexist');
    const head = k.allocFolio(0, false);
    k.f.data[head] = value(vpn - start) >>> 0;
    k.charge(k.hw.costs.copyPage);
    addNewAnonRmap(k, head, mm, vma, vpn, 1);
    // mfill_atomic_install_pte(): folio_add_lru_vma() parks it in this CPU's batch
    lruAdd(k, head, false);
    const writable = (vma.flags & VM.write) !== 0 && !wp;
    k.pt.set(
      t,
      pteIndex(vpn),
      head,
      PTE.present | PTE.dirty | k.sd | PTE.young | (writable ? PTE.write : 0) | (wp ? PTE.uffdWp : 0),
    );
    k.charge(k.hw.costs.pteUpdate);
    k.hooks.pte.afterSet.call(mm, vpn, vpn + 1);
    k.stats.v[C.uffd_copy]!++;
  }
}

/**
 * mfill_atomic() → find_dst_vma(): the range must lie inside one VMA registered with
 * userfaultfd (in either mode), else -ENOENT.
 */
function copyDstVma(mm: MmStruct, start: number, end: number) {
  const hex = (v: number) => `0x${v.toString(16)}`;
  const enoent = (msg: string) => new SimError(`uffdCopy: ${msg} (ENOENT)`, 'enoent', 'region');
  const vma = mm.findVma(start);
  if (!vma) throw enoent(`page ${hex(start)} is not mapped`);
  if (vma.end < end) {
    const next = mm.findVma(vma.end);
    throw enoent(
      next
        ? `the range spans more than one VMA (split at page ${hex(vma.end)}); a copy must stay inside one`
        : `page ${hex(vma.end)} is not mapped`,
    );
  }
  if ((vma.flags & (VM.uffdMissing | VM.uffdWp)) === 0)
    throw enoent(
      `${end - start === 1 ? `page ${hex(start)} is` : `pages ${hex(start)}-${hex(end - 1)} are`} not registered with userfaultfd (no uffdRegister covers them)`,
    );
  return vma;
}

/**
 * UFFDIO_WRITEPROTECT → mwriteprotect_range() → change_protection(MM_CP_UFFD_WP[_RESOLVE]).
 * Swap PTEs get or lose the bit too (pte_swp_mkuffd_wp / pte_swp_clear_uffd_wp), so a page
 * swapped out while protected is not protected again by its swap-in after un-protecting.
 * Resolving keeps the PTE read-only unless the kernel upgrades exclusive pages
 * (MM_CP_TRY_CHANGE_WRITABLE); the retried write then goes through do_wp_page().
 */
export function uffdWriteProtect(k: Kernel, mm: MmStruct, start: number, end: number, enable: boolean): void {
  k.charge(k.hw.costs.syscall);
  const vmas = mm.vmasIn(start, end);
  // mwriteprotect_range(): err = -ENOENT unless every VMA of the range is registered in wp mode
  if (vmas.length === 0) throw new SimError('uffdWriteProtect: no mapping in the range (ENOENT)', 'enoent', 'region');
  for (const vma of vmas) {
    if ((vma.flags & VM.uffdWp) === 0)
      throw new SimError('uffdWriteProtect: the range is not registered in wp mode (ENOENT)', 'enoent', 'region');
    const s = Math.max(start, vma.start);
    const e = Math.min(end, vma.end);
    const n = changeProtection(
      k,
      mm,
      vma,
      s,
      e,
      'uffd_wp',
      (fl, pfn) => {
        if (enable) return (fl | PTE.uffdWp) & ~PTE.write;
        let nf = fl & ~PTE.uffdWp;
        if (k.config.features.uffdTryChangeWritable && canChangePteWritable(k, vma, nf, pfn)) nf |= PTE.write;
        return nf;
      },
      (fl) => (enable ? fl | PTE.uffdWp : fl & ~PTE.uffdWp),
    );
    k.stats.v[C.uffd_wp_change]! += n;
  }
}
