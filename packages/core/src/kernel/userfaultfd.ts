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
  for (let vpn = start; vpn < end; vpn++) {
    const vma = mm.findVma(vpn);
    if (!vma) throw new SimError(`uffdCopy: page 0x${vpn.toString(16)} is not mapped`, 'einval');
    const t = pteTableForWrite(k, mm, vpn, true, 'uffd_copy');
    if (k.pt.fl[k.pt.slot(t, pteIndex(vpn))] !== 0)
      throw new SimError(`uffdCopy: page 0x${vpn.toString(16)} is already populated (EEXIST)`, 'eexist');
    const head = k.allocFolio(0, false);
    k.f.data[head] = value(vpn - start) >>> 0;
    k.charge(k.hw.costs.copyPage);
    addNewAnonRmap(k, head, mm, vma, vpn, 1);
    // mfill_atomic_install_pte(): folio_add_lru_vma() parks it in this CPU's batch
    lruAdd(k, head);
    const writable = (vma.flags & VM.write) !== 0 && !wp;
    k.pt.set(
      t,
      pteIndex(vpn),
      head,
      PTE.present | PTE.dirty | PTE.young | (writable ? PTE.write : 0) | (wp ? PTE.uffdWp : 0),
    );
    k.charge(k.hw.costs.pteUpdate);
    k.hooks.pte.afterSet.call(mm, vpn, vpn + 1);
    k.stats.v[C.uffd_copy]!++;
  }
}

/**
 * UFFDIO_WRITEPROTECT → mwriteprotect_range() → change_protection(MM_CP_UFFD_WP[_RESOLVE]).
 * Resolving keeps the PTE read-only unless the kernel upgrades exclusive pages
 * (MM_CP_TRY_CHANGE_WRITABLE); the retried write then goes through do_wp_page().
 */
export function uffdWriteProtect(k: Kernel, mm: MmStruct, start: number, end: number, enable: boolean): void {
  k.charge(k.hw.costs.syscall);
  const vmas = mm.vmasIn(start, end);
  if (vmas.length === 0) throw new SimError('uffdWriteProtect: no mapping in the range', 'einval');
  for (const vma of vmas) {
    if ((vma.flags & VM.uffdWp) === 0)
      throw new SimError('uffdWriteProtect: the range is not registered in wp mode', 'einval');
    const s = Math.max(start, vma.start);
    const e = Math.min(end, vma.end);
    const n = changeProtection(k, mm, vma, s, e, 'uffd_wp', (fl, pfn) => {
      if (enable) return (fl | PTE.uffdWp) & ~PTE.write;
      let nf = fl & ~PTE.uffdWp;
      if (k.config.features.uffdTryChangeWritable && canChangePteWritable(k, vma, nf, pfn)) nf |= PTE.write;
      return nf;
    });
    k.stats.v[C.uffd_wp_change]! += n;
  }
}
