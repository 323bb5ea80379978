/**
 * PTE-mapped large folios in the anonymous fault paths of mm/memory.c: wp_page_copy() of a
 * whole range (validCowOrder, wpCopyRange), wp_page_reuse() of a whole range (reusePteRange),
 * the mapcount-per-mm test of __wp_can_reuse_large_anon_folio() (mappingsInMm), and
 * alloc_swap_folio() / the large-folio part of do_swap_page() (swapinLargeFolio).
 */
import { ME, memcgEvent } from './memcontrol.js';
import { munlockVmaFolio } from './mlock.js';
import { SimError, type Kernel } from './kernel.js';
import type { VmFault } from './vm-fault.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { C } from '../stats/counters.js';
import { PMD_ORDER, pteIndex } from '../units.js';
import { pteTable } from './pgwalk.js';
import { addNewAnonRmap, removeRmapPtes } from './rmap.js';
import { lruAdd } from './lru-batch.js';
import { swapFree } from './swap-cache.js';
import { flush } from './tlb-flush.js';
import { faultDone } from './fault-done.js';
import { hugePmdSlot, thpState } from './huge-memory.js';

/**
 * For wp_page_copy() of a large range: the largest order <= `order` whose naturally aligned
 * range around vpn lies in the VMA and the PTE table and whose PTEs all map pages of `oldHead`
 * read-only (or, for the zero page, are none or the zero page). Exclusivity is not checked here:
 * that is the policy's job (see policy-large-folio's unsafe variant).
 */
export function validCowOrder(k: Kernel, vma: Vma, vpn: number, table: number, order: number, oldHead: number): number {
  const f = k.f;
  const pt = k.pt;
  for (let o = Math.min(order, PMD_ORDER - 1); o > 0; o--) {
    const nr = 1 << o;
    const start = vpn - (vpn & (nr - 1));
    if (start < vma.start || start + nr > vma.end) continue;
    const b = pt.slot(table, pteIndex(start));
    let ok = true;
    for (let j = 0; j < nr && ok; j++) {
      const fl = pt.fl[b + j]!;
      if (oldHead < 0) {
        if (fl !== 0 && ((fl & PTE.present) === 0 || pt.val[b + j] !== ZERO_PFN || (fl & PTE.uffdWp) !== 0)) ok = false;
      } else if (
        (fl & PTE.present) === 0 ||
        (fl & (PTE.write | PTE.uffdWp | PTE.protNone)) !== 0 ||
        f.head(pt.val[b + j]!) !== oldHead
      )
        ok = false;
    }
    if (ok) return o;
  }
  return 0;
}

/**
 * wp_page_copy() of 2^order pages around vpn (order from fault.cowOrder, validated by
 * validCowOrder): one new folio, the old PTEs cleared and flushed as one range, the new ones
 * installed writable (just young for an unshare). `oldHead` -1: the zero page (a zeroed folio).
 */
export function wpCopyRange(
  k: Kernel,
  mm: MmStruct,
  vma: Vma,
  vpn: number,
  table: number,
  order: number,
  oldHead: number,
  unshare: boolean,
): void {
  const f = k.f;
  const pt = k.pt;
  const nr = 1 << order;
  const start = vpn - (vpn & (nr - 1));
  const zero = oldHead < 0;
  const nh = k.allocFolio(order, zero, oldHead);
  const b = pt.slot(table, pteIndex(start));
  const old: number[] = [];
  for (let j = 0; j < nr; j++) {
    const fl = pt.fl[b + j]!;
    const pfn = fl !== 0 ? pt.val[b + j]! : ZERO_PFN;
    old.push(fl !== 0 ? pfn : -1);
    f.data[nh + j] = zero ? 0 : f.data[pfn]!;
  }
  if (zero) k.stats.v[C.cow_zero]!++;
  else {
    k.charge(k.hw.costs.copyPage * nr);
    k.stats.v[C.cow_copy]!++;
  }
  const copied = thpState(k).ids.cow_copy_pages; // before reading stats.v (define() may replace it)
  k.stats.v[copied]! += zero ? 0 : nr;
  f.ref[nh] = nr;
  addNewAnonRmap(k, nh, mm, vma, start, nr);
  lruAdd(k, nh);
  if (k.config.features.mthpFaultStats) k.stats.v[k.mthpFaultAlloc[order]!]!++;
  // clear + flush the old range, then install the new PTEs
  k.hooks.pte.beforeChange.call(mm, start, start + nr, 'wp_page_copy');
  let keep = 0;
  for (let j = 0; j < nr; j++) {
    keep |= pt.fl[b + j]! & PTE.softDirty;
    pt.clear(table, pteIndex(start) + j);
  }
  flush(k, 'range', mm, start, start + nr, 'wp_page_copy');
  for (let j = 0; j < nr; j++)
    pt.set(
      table,
      pteIndex(start) + j,
      nh + j,
      keep | PTE.present | PTE.young | (unshare ? 0 : PTE.dirty | k.sd | PTE.write),
    );
  k.charge(k.hw.costs.pteUpdate * nr);
  k.hooks.pte.afterSet.call(mm, start, start + nr);
  if (!zero) {
    for (const pfn of old) {
      munlockVmaFolio(k, oldHead, vma);
      removeRmapPtes(k, oldHead, pfn, 1, mm);
      k.folioPut(oldHead);
    }
  }
}

/**
 * Make the PTEs of [start, start + nr) writable at once (a reuse of a whole exclusive range,
 * wp_page_reuse() batched like set_ptes(): one beforeChange/afterSet bracket, so an arm64
 * contpte block is rewritten whole and can fold again). Every PTE must map a page of `head`.
 * The pages become PageAnonExclusive. Used by policy-large-folio; the faulting PTE is included.
 */
export function reusePteRange(k: Kernel, mm: MmStruct, table: number, start: number, nr: number, head: number): number {
  const f = k.f;
  const pt = k.pt;
  const b = pt.slot(table, pteIndex(start));
  for (let j = 0; j < nr; j++) {
    const fl = pt.fl[b + j]!;
    if ((fl & PTE.present) === 0 || f.head(pt.val[b + j]!) !== head)
      throw new SimError(`reusePteRange: PTE ${start + j} does not map folio ${head}`, 'internal');
  }
  k.hooks.pte.beforeChange.call(mm, start, start + nr, 'wp_page_reuse');
  for (let j = 0; j < nr; j++) {
    const fl = pt.fl[b + j]!;
    f.flags[pt.val[b + j]!]! |= PG.anonExclusive;
    pt.fl[b + j] = fl | PTE.young | PTE.dirty | k.sd | PTE.write;
  }
  k.charge(k.hw.costs.pteUpdate * nr);
  k.hooks.pte.afterSet.call(mm, start, start + nr);
  const reused = thpState(k).ids.pgreuse_range; // before reading stats.v (define() may replace it)
  k.stats.v[reused]!++;
  return nr;
}

/**
 * How many PTE mappings of folio `head` the address space `mm` holds (an rmap walk over the
 * folio's anon_vma restricted to `mm`): the exclusivity scan after fork + exit (RFC patch 10)
 * and the "maybe mapped shared" test of __wp_can_reuse_large_anon_folio (CONFIG_MM_ID tracks
 * the same thing with per-mm mapcounts).
 */
export function mappingsInMm(k: Kernel, head: number, mm: MmStruct): number {
  const f = k.f;
  const fam = f.anonVma[head]!;
  if (fam < 0) return 0;
  const nr = f.nrPages(head);
  let n = 0;
  for (const m of k.anonVmas.members(fam)) {
    if (m.mm !== mm) continue;
    for (let i = 0; i < nr; i++) {
      const vpn = m.vma.addressOf(f.index[head]! + i);
      if (vpn < 0) continue;
      const t = pteTable(k, mm, vpn);
      if (t === -2) {
        if (i === 0 && k.pt.val[hugePmdSlot(k, mm, vpn)] === head) n++;
        continue;
      }
      if (t < 0) continue;
      const kk = k.pt.slot(t, pteIndex(vpn));
      if ((k.pt.fl[kk]! & PTE.present) !== 0 && k.pt.val[kk] === head + i) n++;
    }
  }
  return n;
}

/* ------------------------------------------------------------------ mTHP swap-in */

/**
 * alloc_swap_folio() (v6.12+, synchronous swap devices only): when do_swap_page() skips the
 * swap cache, swap in a large folio of the highest order allowed by fault.anonOrders (below
 * the PMD order) whose aligned range lies in the VMA and the PTE table and whose PTEs are swap
 * entries with contiguous slots congruent with the addresses (thp_swap_suitable_orders,
 * can_swapin_thp), each with swap count 1 and none in the swap cache. Maps every page (the
 * folio is fresh, so exclusive); `fault.swapinWritable` decides writability for all of them.
 * Returns false when no large order fits (do_swap_page continues with one page).
 */
export function swapinLargeFolio(k: Kernel, vmf: VmFault): boolean {
  const { mm, vma, vpn, write, table } = vmf;
  const pt = k.pt;
  const swap = k.swap;
  const slot = pt.val[pt.slot(table, vmf.index)]!;
  const orders = k.hooks.fault.anonOrders.call(1, vmf) & ((1 << PMD_ORDER) - 1) & ~1;
  if (orders === 0) return false;
  let order = 0;
  for (let o = PMD_ORDER - 1; o > 0 && order === 0; o--) {
    if ((orders & (1 << o)) === 0) continue;
    const nr = 1 << o;
    const start = vpn - (vpn & (nr - 1));
    const s0 = slot - (vpn - start);
    if (start < vma.start || start + nr > vma.end || s0 < 0 || s0 % nr !== 0) continue;
    const b = pt.slot(table, pteIndex(start));
    let ok = true;
    for (let j = 0; j < nr && ok; j++) {
      const fl = pt.fl[b + j]!;
      if ((fl & PTE.swap) === 0 || pt.val[b + j] !== s0 + j || swap.count[s0 + j] !== 1 || swap.cache[s0 + j]! >= 0)
        ok = false;
      // can_swapin_thp(): the zeromap bits of the range must all be equal (swap_zeromap_batch())
      else if (swap.zeromap[s0 + j] !== swap.zeromap[s0]) ok = false;
    }
    if (ok) order = o;
  }
  if (order === 0) return false;
  const nr = 1 << order;
  const start = vpn - (vpn & (nr - 1));
  const s0 = slot - (vpn - start);
  const b = pt.slot(table, pteIndex(start));
  let head: number;
  try {
    head = k.allocFolio(order, false);
  } catch (e) {
    if (e instanceof SimError && e.code === 'enomem') {
      // alloc_swap_folio(): count_mthp_stat(order, MTHP_STAT_SWPIN_FALLBACK), then a small folio
      // (a stat newer than swpin's v6.12; `mthpSwapStats` here)
      if (k.config.features.mthpSwapStats) k.stats.v[k.mthpSwpinFallback[order]!]!++;
      return false;
    }
    throw e;
  }
  const f = k.f;
  const keep: number[] = [];
  // swap_read_folio_zeromap(): a zero-filled range is not read from the device
  const zero = swap.zeromap[s0] === 1;
  for (let j = 0; j < nr; j++) {
    f.data[head + j] = zero ? 0 : swap.data[s0 + j]!;
    keep.push(pt.fl[b + j]! & (PTE.uffdWp | PTE.softDirty));
  }
  if (zero) {
    k.charge(k.hw.costs.zeroPage * nr);
    k.stats.v[C.swpin_zero]! += nr;
  } else {
    k.charge(k.hw.costs.swapIoPage * nr);
    k.stats.v[C.pswpin]! += nr;
    // swap_read_folio_bdev_sync(): count_mthp_stat(order, MTHP_STAT_SWPIN)
    if (k.config.features.mthpSwapStats) k.stats.v[k.mthpSwpin[order]!]!++;
  }
  k.stats.v[C.pgmajfault]!++;
  memcgEvent(k, mm.memcg, ME.pgmajfault, 1);
  k.stats.v[C.swapin_skip_swapcache]!++;
  f.ref[head] = nr;
  addNewAnonRmap(k, head, mm, vma, start, nr);
  lruAdd(k, head);
  vmf.pfn = head + (vpn - start);
  vmf.head = head;
  vmf.swapSlot = slot;
  vmf.swapExclusive = (pt.fl[pt.slot(table, vmf.index)]! & PTE.swpExclusive) !== 0;
  vmf.swapCacheBypassed = true;
  for (let j = 0; j < nr; j++) swapFree(k, s0 + j);
  mm.swapEnts -= nr;
  const uffd = keep.some((x) => (x & PTE.uffdWp) !== 0);
  const writable = (vma.flags & VM.write) !== 0 && !uffd && (k.hooks.fault.swapinWritable.call(vmf) ?? false);
  k.hooks.pte.beforeChange.call(mm, start, start + nr, 'do_swap_page');
  for (let j = 0; j < nr; j++) {
    let nfl = PTE.present | PTE.young | keep[j]!;
    if (writable) nfl |= PTE.write | (write && start + j === vpn ? PTE.dirty | k.sd : 0);
    pt.set(table, pteIndex(start) + j, head + j, nfl);
  }
  if (writable) k.stats.v[C.swapin_map_writable]!++;
  k.charge(k.hw.costs.pteUpdate * nr);
  k.hooks.pte.afterSet.call(mm, start, start + nr);
  faultDone(k, mm, vpn, write, 'swapin', order);
  return true;
}
