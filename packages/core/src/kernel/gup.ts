/** GUP with FOLL_PIN: pin_user_pages() / unpin_user_pages() (mm/gup.c). */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { PTE } from '../mm/pte.js';
import { VM } from '../mm/vma.js';
import { GUP_PIN_COUNTING_BIAS, PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { C } from '../stats/counters.js';
import { pteIndex } from '../units.js';
import { beginFault, FaultResult, handleMmFault } from './fault.js';
import { followHugePmd } from './huge-memory.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { clearDecider, decider } from '../di/instrument.js';

export interface Pin {
  id: string;
  mm: MmStruct;
  write: boolean;
  longterm: boolean;
  /** pinned PFNs, one per page */
  pfns: number[];
}

/**
 * pin_user_pages() over [start, end): fault pages in (writable for a write pin, unshared for a
 * read-only pin when fault.gupUnshare says so), then take a pin on each page.
 */
export function pinUserPages(
  k: Kernel,
  mm: MmStruct,
  start: number,
  end: number,
  write: boolean,
  longterm: boolean,
  id: string,
): Pin {
  const pfns: number[] = [];
  mm.hasPinned = true; // MMF_HAS_PINNED
  const f = k.f;
  for (let vpn = start; vpn < end; vpn++) {
    k.condResched(1);
    let pfn = -1;
    for (let tries = 0; tries < 4 && pfn < 0; tries++) {
      const t = pteTable(k, mm, vpn);
      // follow_huge_pmd(): a PMD-mapped THP is pinned through its PMD
      const huge = t === -2 ? followHugePmd(k, mm, vpn) : null;
      const fl = huge ? huge.fl : t >= 0 ? k.pt.fl[k.pt.slot(t, pteIndex(vpn))]! : 0;
      const present = (fl & PTE.present) !== 0 && (fl & PTE.protNone) === 0;
      if (!present || (write && (fl & PTE.write) === 0)) {
        // faultin_page(): FOLL_WRITE breaks CoW, a read maps the zero page
        const r = handleMmFault(k, mm, vpn, write, false);
        if (r !== FaultResult.OK) throw new SimError(`pin: fault at page 0x${vpn.toString(16)} failed`, 'segv');
        continue;
      }
      // a pin must not sit in a shared (copy-on-write) page table: unshare it first
      const wt = huge ? -1 : pteTableForWrite(k, mm, vpn, false, 'gup');
      // the table was unshared (a copy-on-write PTE table broken): re-check the new PTE
      if (!huge && wt !== t) continue;
      const cand = huge ? huge.pfn : k.pt.val[k.pt.slot(wt, pteIndex(vpn))]!;
      // gup_must_unshare() of a page that is not anonymous (the zero page, a page-cache page):
      // only a R/O FOLL_LONGTERM pin in a COW (private) mapping, from v6.2 ("mm/gup: reliable
      // R/O long-term pinning in COW mappings"); never through the anon-page decision below
      const anon = !k.mem.isZeroPfn(cand) && (f.flags[f.head(cand)]! & PG.anon) !== 0;
      if (!write && !anon) {
        const vma = mm.findVma(vpn)!;
        if (longterm && k.config.features.gupUnshareCowMappings && (vma.flags & VM.shared) === 0) {
          k.stats.v[C.gup_unshare]!++;
          const r = handleMmFault(k, mm, vpn, false, true);
          if (r !== FaultResult.OK)
            throw new SimError(`pin: unshare fault at page 0x${vpn.toString(16)} failed`, 'segv');
          continue;
        }
      } else if (!write && (f.flags[cand]! & PG.anonExclusive) === 0) {
        const vmf = beginFault(k, mm, mm.findVma(vpn)!, vpn, false, true);
        vmf.table = huge ? -1 : wt;
        vmf.index = pteIndex(vpn);
        vmf.pfn = cand;
        vmf.head = f.head(cand);
        if (k.explain !== null) clearDecider();
        const unshare = k.hooks.fault.gupUnshare.call(vmf) === true;
        if (k.explain !== null) k.explain.gupUnshare(vmf, vmf.head, unshare, decider());
        if (unshare) {
          k.stats.v[C.gup_unshare]!++;
          const r = handleMmFault(k, mm, vpn, false, true);
          if (r !== FaultResult.OK)
            throw new SimError(`pin: unshare fault at page 0x${vpn.toString(16)} failed`, 'segv');
          const nt = pteTable(k, mm, vpn);
          pfn = nt === -2 ? followHugePmd(k, mm, vpn)!.pfn : k.pt.val[k.pt.slot(nt, pteIndex(vpn))]!;
          break;
        }
      }
      pfn = cand;
    }
    if (pfn < 0) throw new SimError(`pin: page 0x${vpn.toString(16)} could not be faulted in`, 'internal');
    if (pfn !== ZERO_PFN) {
      const head = f.head(pfn);
      // try_grab_folio(FOLL_PIN)
      f.ref[head]! += f.order[head] === 0 ? GUP_PIN_COUNTING_BIAS : 1;
      f.pincount[head]!++;
    }
    pfns.push(pfn);
    k.stats.v[C.gup_pin]!++;
  }
  const pin: Pin = { id, mm, write, longterm, pfns };
  k.livePins.add(pin);
  return pin;
}

export function unpinUserPages(k: Kernel, pin: Pin): void {
  for (const pfn of pin.pfns) {
    if (pfn === ZERO_PFN) continue;
    k.unpinFolio(k.f.head(pfn));
    k.stats.v[C.gup_unpin]!++;
  }
  pin.pfns.length = 0;
  k.livePins.delete(pin);
}

/** Read every pinned page through the pin (what a device doing DMA would see). */
export function readPin(k: Kernel, pin: Pin): number[] {
  return pin.pfns.map((pfn) => k.f.data[pfn]!);
}
