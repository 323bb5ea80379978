/**
 * /proc/PID/maps and /proc/PID/smaps (fs/proc/task_mmu.c): one entry per VMA with its range,
 * its permissions as show_map_vma() prints them and what smaps_pte_range() /
 * smaps_pmd_entry() count in it. Sizes are in pages here (smaps prints kB).
 */
import type { Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { HPAGE_PMD_NR, PMD_ORDER, pmdIndex, pmdStart, pteIndex } from '../units.js';
import { tableAt } from './pgwalk.js';

export interface SmapsEntry {
  /** [start, end) in pages */
  start: number;
  end: number;
  /** "rw-p" */
  perms: string;
  /** the scenario region the VMA was created for (informational) */
  name: string;
  rss: number;
  anonymous: number;
  anonHugePages: number;
  swap: number;
  sharedClean: number;
  sharedDirty: number;
  privateClean: number;
  privateDirty: number;
  /** pss_locked of a VM_LOCKED VMA, in pages (a page mapped n times counts 1/n; kB precision) */
  locked: number;
  /** pages of clean MADV_FREE folios (anon, PG_swapbacked cleared: kernel/lazyfree.ts) */
  lazyFree: number;
  thpEligible: boolean;
  /** show_smap_vma_flags(), the modelled ones: "rd wr mr mw me ac sd" */
  vmFlags: string;
}

/** show_map_vma(): r/w/x and p (private) or s (VM_SHARED). */
export function vmaPerms(vma: Vma): string {
  return `${vma.flags & VM.read ? 'r' : '-'}${vma.flags & VM.write ? 'w' : '-'}-${vma.flags & VM.shared ? 's' : 'p'}`;
}

/** show_smap_vma_flags() in its order, for the flags mmsim models (VM_MAY* as mmap sets them). */
function vmFlags(vma: Vma): string {
  const f = vma.flags;
  const out: string[] = [];
  if (f & VM.read) out.push('rd');
  if (f & VM.write) out.push('wr');
  if (f & VM.shared) out.push('sh');
  out.push('mr', 'mw', 'me');
  if (f & VM.shared) out.push('ms');
  if (f & VM.locked) out.push('lo');
  if (f & VM.dontcopy) out.push('dc');
  // VM_ACCOUNT: private writable mappings (mmsim's private mappings are mapped writable)
  if ((f & VM.shared) === 0) out.push('ac');
  if (f & VM.wipeonfork) out.push('wf');
  if (f & VM.softDirty) out.push('sd');
  if (f & VM.hugepage) out.push('hg');
  if (f & VM.nohugepage) out.push('nh');
  if (f & VM.uffdMissing) out.push('um');
  if (f & VM.uffdWp) out.push('uw');
  return out.join(' ');
}

/**
 * thp_vma_allowable_order(vma, TVA_SMAPS, PMD_ORDER): an anonymous VMA with room for one aligned
 * PMD, and the order the PMD fault would be allowed (fault.anonOrders, as hugePmdFault() asks it).
 */
function thpEligible(k: Kernel, mm: MmStruct, vma: Vma): boolean {
  if (vma.file !== null) return false;
  const first = pmdStart(vma.start + HPAGE_PMD_NR - 1);
  if (first + HPAGE_PMD_NR > vma.end) return false;
  const h = k.hooks.fault.anonOrders;
  if (!h.isUsed()) return false;
  const vmf = k.vmf.begin(mm, vma, first, k.cpu, false, false);
  return (h.call(1, vmf) & (1 << PMD_ORDER)) !== 0;
}

/** show_smap() of every VMA of `mm` that intersects [a, b). */
export function smaps(k: Kernel, mm: MmStruct, a: number, b: number): SmapsEntry[] {
  return mm.vmasIn(a, b).map((v) => smapsVma(k, mm, v));
}

function smapsVma(k: Kernel, mm: MmStruct, vma: Vma): SmapsEntry {
  const e: SmapsEntry = {
    start: vma.start,
    end: vma.end,
    perms: vmaPerms(vma),
    name: vma.name,
    rss: 0,
    anonymous: 0,
    anonHugePages: 0,
    swap: 0,
    sharedClean: 0,
    sharedDirty: 0,
    privateClean: 0,
    privateDirty: 0,
    locked: 0,
    lazyFree: 0,
    thpEligible: thpEligible(k, mm, vma),
    vmFlags: vmFlags(vma),
  };
  const pt = k.pt;
  const f = k.f;
  // smaps_account(): one page, shared when mapped more than once, dirty by PTE or folio
  const locked = (vma.flags & VM.locked) !== 0;
  let lockedPss = 0;
  const account = (pfn: number, head: number, dirtyPte: boolean, mapcount: number): void => {
    e.rss++;
    if ((f.flags[head]! & PG.anon) !== 0) e.anonymous++;
    const dirty = dirtyPte || (f.flags[head]! & PG.dirty) !== 0;
    // mss->lazyfree: an anon folio without PG_swapbacked (MADV_FREE), clean
    if ((f.flags[head]! & PG.lazyfree) !== 0 && !dirty) e.lazyFree++;
    // mss->pss_locked of a VM_LOCKED VMA: the page's share, PAGE_SIZE / mapcount
    if (locked) lockedPss += 1 / Math.max(1, mapcount);
    if (mapcount >= 2) {
      if (dirty) e.sharedDirty++;
      else e.sharedClean++;
    } else if (dirty) e.privateDirty++;
    else e.privateClean++;
    void pfn;
  };
  for (let v = vma.start; v < vma.end; ) {
    const next = Math.min(vma.end, pmdStart(v) + HPAGE_PMD_NR);
    const pmd = tableAt(k, mm, v, 1, false);
    if (pmd < 0) {
      v = next;
      continue;
    }
    const pk = pt.slot(pmd, pmdIndex(v));
    const pfl = pt.fl[pk]!;
    if ((pfl & PTE.huge) !== 0) {
      // smaps_pmd_entry(): a PMD-mapped THP
      if ((pfl & PTE.present) !== 0) {
        const head = pt.val[pk]!;
        for (let p = v; p < next; p++) {
          const pfn = head + pteIndex(p);
          account(pfn, head, (pfl & PTE.dirty) !== 0, f.mapcount[pfn]! + f.entireMapcount[head]!);
        }
        if ((f.flags[head]! & PG.anon) !== 0) e.anonHugePages += next - v;
      }
      v = next;
      continue;
    }
    if ((pfl & PTE.table) === 0) {
      v = next;
      continue;
    }
    const t = pt.val[pk]!;
    for (let p = v; p < next; p++) {
      const kk = pt.slot(t, pteIndex(p));
      const fl = pt.fl[kk]!;
      if (fl === 0) continue;
      if ((fl & PTE.present) !== 0) {
        const pfn = pt.val[kk]!;
        if (pfn === ZERO_PFN) continue; // vm_normal_page() is NULL: not in Rss
        const head = f.head(pfn);
        account(pfn, head, (fl & PTE.dirty) !== 0, f.mapcount[pfn]! + f.entireMapcount[head]!);
      } else if ((fl & PTE.swap) !== 0) e.swap++;
    }
    v = next;
  }
  // show_smap(): Locked is pss_locked in kB, rounded down (a page is 4 kB)
  e.locked = Math.floor(lockedPss * 4 + 1e-9) / 4;
  return e;
}
