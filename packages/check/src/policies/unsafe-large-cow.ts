/**
 * `unsafe-large-cow`: a DELIBERATELY UNSAFE demo policy reproducing the hazard of seed 004
 * (David Hildenbrand on the variable-order anon folio RFC): on a write fault to a shared
 * (not PageAnonExclusive) sub-page of a large folio, it "copies the whole folio range": every
 * other sub-page of the folio that this mm maps in the same PTE table is replaced by a fresh
 * copy, exclusive or not. A sub-page that is still exclusive may be pinned; after the
 * replacement the pin and the mapping are different pages, so the pin no longer sees the
 * process's writes (kernel-notes §6). The faulting page itself is then copied by the kernel.
 *
 * `respectExclusive: true` is the fix from the thread: only replace sub-pages already marked
 * maybe-shared; checking with it finds nothing.
 */
import { PG, PTE, PTRS_PER_TABLE, type Kernel, type KernelPlugin, type MmSystem, type VmFault } from '@mmsim/core';

export interface UnsafeLargeCowOptions {
  respectExclusive?: boolean;
}

/** A kernel-level plugin (it remaps PTEs itself, which no policy API allows). */
export function unsafeLargeCowPolicy(options: UnsafeLargeCowOptions = {}): KernelPlugin {
  const respectExclusive = options.respectExclusive ?? false;
  return {
    name: respectExclusive ? 'large-cow(exclusive-safe)' : 'unsafe-large-cow',
    internal: true,
    apply(sys: MmSystem) {
      const k = sys.kernel;
      // before the preset's reuse rule: this runs first and then lets the rule decide
      sys.hooks.fault.wpReuse.tap({ name: 'unsafe-large-cow', stage: -200 }, (ctx) => {
        const vmf = ctx as VmFault;
        if (vmf.unshare || vmf.head < 0 || k.f.order[vmf.head] === 0) return undefined;
        if ((k.f.flags[vmf.pfn]! & PG.anonExclusive) !== 0) return undefined;
        copyNeighbours(k, vmf, respectExclusive);
        return 'copy';
      });
    },
  };
}

/** Replace the other sub-pages of vmf.head that this mm maps (same table, same folio offset). */
function copyNeighbours(k: Kernel, vmf: VmFault, respectExclusive: boolean): void {
  const f = k.f;
  const head = vmf.head;
  const nr = 1 << f.order[head]!;
  const mm = vmf.mm;
  const t = vmf.table;
  // the folio's pages sit at vpn - (pfn - head) ... if the folio is mapped linearly here
  const base = vmf.vpn - (vmf.pfn - head);
  for (let i = 0; i < nr; i++) {
    const vpn = base + i;
    const pfn = head + i;
    if (pfn === vmf.pfn) continue;
    if (vpn - (vpn & 511) !== vmf.vpn - (vmf.vpn & 511)) continue; // another PTE table
    const vma = mm.findVma(vpn);
    if (!vma) continue;
    const kk = t * PTRS_PER_TABLE + (vpn & 511);
    const fl = k.pt.fl[kk]!;
    if ((fl & PTE.present) === 0 || k.pt.val[kk] !== pfn) continue;
    if (respectExclusive && (f.flags[pfn]! & PG.anonExclusive) !== 0) continue;
    const nh = k.allocFolio(0, false);
    f.data[nh] = f.data[pfn]!;
    k.charge(k.hw.costs.copyPage);
    k.addNewAnonRmap(nh, mm, vma, vpn, 1);
    k.lruAdd(nh);
    k.hooks.pte.beforeChange.call(mm, vpn, vpn + 1, 'wp_page_copy');
    k.pt.clear(t, vpn & 511);
    k.flushPage(mm, vpn, 'wp_page_copy');
    k.pt.set(t, vpn & 511, nh, PTE.present | PTE.young | PTE.dirty | PTE.write | (fl & PTE.softDirty));
    k.hooks.pte.afterSet.call(mm, vpn, vpn + 1);
    k.removeRmapPtes(head, pfn, 1, mm);
    k.folioPut(head);
  }
}

export default unsafeLargeCowPolicy;
