/**
 * `no-flush-cow`: a DELIBERATELY UNSAFE demo policy that skips a required TLB flush. On a
 * write fault to a shared order-0 page (mapped more than once) it performs the copy itself,
 * like wp_page_copy(), but installs the new PTE without ptep_clear_flush(): other CPUs running
 * the mm keep the old read-only translation and read the old page. Only a hardware model with
 * a TLB and coherence checking (strict-tlb, or hw-x86 / hw-arm64 with `coherenceCheck`) sees it.
 *
 * It answers 'reuse' for the remapped PTE (the new page is exclusive and writable), and puts
 * the old page's PageAnonExclusive bit back once core's wp_page_reuse() has set it.
 */
import { PG, PTE, PTRS_PER_TABLE, type KernelPlugin, type MmSystem, type VmFault } from '@mmsim/core';

/** A kernel-level plugin (it installs PTEs itself, which no policy API allows). */
export function noFlushCowPolicy(): KernelPlugin {
  return {
    name: 'no-flush-cow',
    internal: true,
    apply(sys: MmSystem) {
      const k = sys.kernel;
      const f = k.f;
      let fixup = -1;
      sys.hooks.fault.wpReuse.tap({ name: 'no-flush-cow', stage: -200 }, (ctx) => {
        const vmf = ctx as VmFault;
        const pfn = vmf.pfn;
        if (vmf.unshare || pfn < 0 || f.order[vmf.head] !== 0 || f.mapcount[pfn]! < 2) return undefined;
        const kk = vmf.table * PTRS_PER_TABLE + vmf.index;
        const fl = k.pt.fl[kk]!;
        const nh = k.allocFolio(0, false);
        f.data[nh] = f.data[pfn]!;
        k.addNewAnonRmap(nh, vmf.mm, vmf.vma, vmf.vpn, 1);
        k.lruAdd(nh);
        k.hooks.pte.beforeChange.call(vmf.mm, vmf.vpn, vmf.vpn + 1, 'wp_page_copy');
        // the bug: no ptep_clear_flush() between the old and the new translation
        k.pt.set(vmf.table, vmf.index, nh, (fl & PTE.softDirty) | PTE.present | PTE.young);
        k.removeRmapPtes(vmf.head, pfn, 1, vmf.mm);
        k.folioPut(vmf.head);
        fixup = pfn;
        return 'reuse';
      });
      // wp_page_reuse() marks the (old) page exclusive and then calls pte.afterSet: undo the mark
      sys.hooks.pte.afterSet.tap('no-flush-cow', () => {
        if (fixup < 0) return;
        if (f.mapcount[fixup]! > 0) f.flags[fixup]! &= ~PG.anonExclusive;
        fixup = -1;
      });
    },
  };
}

export default noFlushCowPolicy;
