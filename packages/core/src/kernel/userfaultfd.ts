/** userfaultfd: UFFDIO_REGISTER, UFFDIO_COPY, UFFDIO_WRITEPROTECT, handle_userfault() (fs/userfaultfd.c, mm/userfaultfd.c). */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { C } from '../stats/counters.js';
import { mergeVmas, vmasForRange } from './mmap.js';
import { canChangePteWritable, changeProtection } from './mprotect.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { UFFD_WP_MARKER } from './pte-marker.js';
import { addNewAnonRmap } from './rmap.js';
import { lruAdd } from './lru-batch.js';
import { pteIndex } from '../units.js';
import { UFFDIO, type UffdIoctl, uffdCtx, uffdCtxOf, uffdHas } from './uffd-ctx.js';

export type UffdMode = 'missing' | 'wp' | 'minor';

/**
 * UFFDIO_REGISTER → userfaultfd_register(): no mode is -EINVAL; no VMA in the range -ENOMEM
 * (vma_find() found none); a VMA that cannot take the modes -EINVAL (vma_can_userfault():
 * minor only on shmem and hugetlb, no regular file). Returns uffdio_register.ioctls:
 * UFFD_API_RANGE_IOCTLS of the era less _UFFDIO_WRITEPROTECT without MODE_WP and
 * _UFFDIO_CONTINUE without MODE_MINOR.
 */
export function uffdRegister(
  k: Kernel,
  mm: MmStruct,
  start: number,
  end: number,
  modes: UffdMode | readonly UffdMode[],
): number {
  const list: readonly UffdMode[] = typeof modes === 'string' ? [modes] : modes;
  if (list.length === 0) throw new SimError('uffdRegister: no mode (EINVAL)', 'einval', 'mode');
  const vmas = mm.vmasIn(start, end);
  if (vmas.length === 0) throw new SimError('uffdRegister: no mapping in the range (ENOMEM)', 'enomem', 'region');
  const minor = list.includes('minor');
  for (const v of vmas) {
    const shmem = v.file?.shmem === true;
    if (minor && !shmem)
      throw new SimError(
        'uffdRegister: minor mode needs shmem or hugetlb, not anonymous memory (EINVAL)',
        'einval',
        'mode',
      );
    if (v.file !== null && !shmem)
      throw new SimError('uffdRegister: a regular file mapping cannot be registered (EINVAL)', 'einval', 'region');
  }
  uffdCtx(mm); // userfaultfd(2): a registration without uffdApi is an implicit handshake with no features
  const vmas2 = vmasForRange(k, mm, start, end);
  let add = 0;
  if (list.includes('wp')) add |= VM.uffdWp;
  if (list.includes('missing')) add |= VM.uffdMissing;
  if (minor) add |= VM.uffdMinor;
  for (const v of vmas2) v.flags |= add;
  mergeVmas(k, mm);
  const f = k.config.features;
  let ioctls = (1 << UFFDIO.wake) | (1 << UFFDIO.copy) | (1 << UFFDIO.zeropage) | (1 << UFFDIO.writeprotect);
  if (f.uffdContinue) ioctls |= 1 << UFFDIO.continue;
  if (f.uffdPoison) ioctls |= 1 << UFFDIO.poison;
  if (f.uffdMove) ioctls |= 1 << UFFDIO.move;
  if (!list.includes('wp')) ioctls &= ~(1 << UFFDIO.writeprotect);
  if (!minor) ioctls &= ~(1 << UFFDIO.continue);
  return ioctls;
}

/**
 * UFFDIO_UNREGISTER → userfaultfd_unregister(): no VMA in the range is -ENOMEM; a VMA
 * registered for wp first loses its uffd-wp bits and markers (userfaultfd_clear_vma() →
 * uffd_wp_range(false), f369b07c8614), then the registration. The caller wakes the threads
 * blocked in the range (wake_userfault()): their retry takes an ordinary fault.
 */
export function uffdUnregister(k: Kernel, mm: MmStruct, start: number, end: number): void {
  k.charge(k.hw.costs.syscall);
  if (mm.vmasIn(start, end).length === 0)
    throw new SimError('uffdUnregister: no mapping in the range (ENOMEM)', 'enomem', 'region');
  for (const vma of vmasForRange(k, mm, start, end)) {
    if ((vma.flags & VM.uffdWp) !== 0) {
      const n = changeProtection(
        k,
        mm,
        vma,
        vma.start,
        vma.end,
        'uffd_wp',
        (fl) => fl & ~PTE.uffdWp,
        (fl) => fl & ~PTE.uffdWp,
      );
      k.stats.v[C.uffd_wp_change]! += n;
      if (vma.file === null) k.stats.v[C.uffd_wp_change]! += wpMarkers(k, mm, vma.start, vma.end, false);
    }
    vma.flags &= ~(VM.uffdMissing | VM.uffdWp | VM.uffdMinor);
  }
  mergeVmas(k, mm);
}

/** The names of the ioctls in a uffdio_register.ioctls mask, in bit order. */
export function uffdIoctlNames(mask: number): UffdIoctl[] {
  return (Object.keys(UFFDIO) as UffdIoctl[]).filter((n) => (mask & (1 << UFFDIO[n])) !== 0);
}

/**
 * handle_userfault(): hand the fault to the monitor (a uffd_msg UFFD_EVENT_PAGEFAULT), or
 * with UFFD_FEATURE_SIGBUS raise SIGBUS instead (VM_FAULT_SIGBUS).
 */
export function handleUserfault(k: Kernel, mm: MmStruct, vpn: number, write: boolean, wp: boolean): void {
  k.stats.v[C.uffd_fault]!++;
  const c = uffdCtxOf(mm);
  if (c === undefined) return;
  if (c.has('sigbus'))
    throw new SimError(`SIGBUS: userfault at page 0x${vpn.toString(16)} with UFFD_FEATURE_SIGBUS`, 'sigbus');
  c.msgs.push({ event: 'pagefault', addr: vpn, write, wp });
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
function copyDstVma(mm: MmStruct, start: number, end: number, op = 'uffdCopy') {
  const hex = (v: number) => `0x${v.toString(16)}`;
  const enoent = (msg: string) => new SimError(`${op}: ${msg} (ENOENT)`, 'enoent', 'region');
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
    if (uffdHas(mm, 'wp_unpopulated') && vma.file === null)
      k.stats.v[C.uffd_wp_change]! += wpMarkers(k, mm, s, e, enable);
  }
}

/**
 * change_pte_range() with userfaultfd_wp_use_markers() (UFFD_FEATURE_WP_UNPOPULATED,
 * 2bad466cc9d9, v6.4): protecting installs a PTE_MARKER_UFFD_WP on each none PTE (the page
 * tables allocated as change_pmd_prepare() does); resolving drops the markers.
 */
function wpMarkers(k: Kernel, mm: MmStruct, start: number, end: number, enable: boolean): number {
  const pt = k.pt;
  let n = 0;
  for (let vpn = start; vpn < end; vpn++) {
    k.condResched(1);
    const t0 = pteTable(k, mm, vpn);
    if (t0 === -2 || (t0 < 0 && !enable)) continue; // a huge PMD was handled by change_huge_pmd()
    const t = enable ? pteTableForWrite(k, mm, vpn, true, 'uffd_wp') : t0;
    if (t < 0) continue;
    const fl = pt.fl[pt.slot(t, pteIndex(vpn))]!;
    if (enable ? fl !== 0 : fl !== UFFD_WP_MARKER) continue;
    if (enable) pt.set(t, pteIndex(vpn), 0, UFFD_WP_MARKER);
    else pt.clear(t, pteIndex(vpn));
    k.charge(k.hw.costs.pteUpdate);
    n++;
  }
  return n;
}

/**
 * UFFDIO_ZEROPAGE → mfill_atomic_pte_zeropage(): map the shared zero page read-only
 * (pte_mkspecial(my_zero_pfn)); a PTE that is not none is -EEXIST.
 */
export function uffdZeropage(k: Kernel, mm: MmStruct, start: number, end: number): void {
  k.charge(k.hw.costs.syscall);
  copyDstVma(mm, start, end, 'uffdZeropage');
  for (let vpn = start; vpn < end; vpn++) {
    k.condResched(1);
    const t = pteTableForWrite(k, mm, vpn, true, 'uffd_copy');
    if (k.pt.fl[k.pt.slot(t, pteIndex(vpn))] !== 0)
      throw new SimError(`uffdZeropage: page 0x${vpn.toString(16)} is already populated (EEXIST)`, 'eexist');
    k.pt.set(t, pteIndex(vpn), ZERO_PFN, PTE.present | PTE.young);
    k.charge(k.hw.costs.pteUpdate);
    k.hooks.pte.afterSet.call(mm, vpn, vpn + 1);
    k.stats.v[C.uffd_zeropage]!++;
  }
}

/**
 * UFFDIO_POISON → mfill_atomic_pte_poison() (fc71884a5f59, v6.6): a PTE_MARKER_POISONED on
 * each none PTE ("refuse to overwrite any PTE, even a PTE marker": -EEXIST); an access to it
 * is VM_FAULT_HWPOISON, SIGBUS.
 */
export function uffdPoison(k: Kernel, mm: MmStruct, start: number, end: number): void {
  k.charge(k.hw.costs.syscall);
  copyDstVma(mm, start, end, 'uffdPoison');
  for (let vpn = start; vpn < end; vpn++) {
    k.condResched(1);
    const t = pteTableForWrite(k, mm, vpn, true, 'uffd_copy');
    if (k.pt.fl[k.pt.slot(t, pteIndex(vpn))] !== 0)
      throw new SimError(`uffdPoison: page 0x${vpn.toString(16)} is already populated (EEXIST)`, 'eexist');
    k.pt.set(t, pteIndex(vpn), 0, PTE.poisoned);
    k.charge(k.hw.costs.pteUpdate);
    k.stats.v[C.uffd_poison]!++;
  }
}
