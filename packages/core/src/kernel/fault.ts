/**
 * Page faults: handle_mm_fault() and the anonymous paths of mm/memory.c.
 * The write-fault decision (reuse or copy) is in doWpPage() → hooks.fault.wpReuse.
 */
import { ME, memcgEvent } from './memcontrol.js';
import { workingsetRefault } from './workingset.js';
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import type { Vma } from '../mm/vma.js';
import { VM } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { C } from '../stats/counters.js';
import { pteIndex, tableIndex } from '../units.js';
import type { Thread } from './task.js';
import type { VmFault } from './vm-fault.js';
import { hugePmdFault } from './huge-pmd-fault.js';
import { reusePteRange, swapinLargeFolio, validCowOrder, wpCopyRange } from './large-folio.js';
import { faultDone } from './fault-done.js';
import { pteTableInPmd, tableAt } from './pgwalk.js';
import { addAnonRmapPtes, addNewAnonRmap, anonVmaPrepare, removeRmapPtes } from './rmap.js';
import { lruAdd, lruAddDrain } from './lru-batch.js';
import { folioFreeSwap, swapFree } from './swap-cache.js';
import { flushPage } from './tlb-flush.js';
import { clearDecider, decider } from '../di/instrument.js';
import { WATERFALL } from '../explain/explainer.js';
import { doFault, doWpFilePage } from './file-fault.js';
import { handleUserfault } from './userfaultfd.js';
import { handlePteMarker, isPteMarker } from './pte-marker.js';
import { mlockVmaFolio, munlockVmaFolio } from './mlock.js';
import { ksmMightUnmapZeroPage } from './ksm-unmerge.js';

/** What handle_mm_fault() ended with (VM_FAULT_*-like). */
export const FaultResult = Object.freeze({
  OK: 0,
  /** the thread blocks in handle_userfault() until the monitor resolves the fault */
  UFFD_MISSING: 1,
  UFFD_WP: 2,
  /** SIGSEGV / SIGBUS */
  SEGV: 3,
} as const);
export type FaultResult = (typeof FaultResult)[keyof typeof FaultResult];

/** What a user access ended with. */
export const AccessResult = Object.freeze({
  OK: 0,
  BLOCKED: 1,
} as const);
export type AccessResult = (typeof AccessResult)[keyof typeof AccessResult];

/** A present entry pointing at a lower-level table (the MMU walks on below it). */
const TABLE_ENTRY = PTE.present | PTE.table;

/**
 * A user access by thread `t` (load or store of one word in page `vpn`): the MMU walk, the
 * hardware's TLB, and faults until the access succeeds. Reads leave the value in
 * `k.lastValue`. Returns BLOCKED when the thread waits on userfaultfd (t.pending is set).
 */
export function userAccess(k: Kernel, t: Thread, vpn: number, write: boolean, value: number): AccessResult {
  k.runOn(t);
  const mm = t.proc.mm;
  const hit = k.hw.tlbLookup(k.cpu, mm, vpn, write);
  if (hit >= 0) {
    if (write) k.f.data[hit] = value;
    else k.lastValue = k.f.data[hit]!;
    return AccessResult.OK;
  }
  return walkAndFault(k, t, mm, vpn, write, value, 0);
}

/**
 * The rest of userAccess() after a TLB miss: the MMU walk and the faults until the access
 * succeeds, from attempt `tries` (the range path in fault-range.ts enters with 1 after it
 * handled the first fault itself).
 */
export function walkAndFault(
  k: Kernel,
  t: Thread,
  mm: MmStruct,
  vpn: number,
  write: boolean,
  value: number,
  tries0: number,
): AccessResult {
  const pt = k.pt;
  for (let tries = tries0; tries < 4; tries++) {
    // hardware page walk from the PGD, one level after the other (constant levels: no loop),
    // down while the entry is a present table; the effective permission is the AND of the
    // write bits on the way down (w only matters when the last entry read is present)
    const fls = pt.fl;
    let level = 3;
    let pmd = -1; // the PMD table, handed to the fault (it starts below the levels walked)
    let k0 = pt.slot(mm.pgd, tableIndex(vpn, 3));
    let fl = fls[k0]!;
    let w = PTE.write & fl;
    if ((fl & TABLE_ENTRY) === TABLE_ENTRY) {
      level = 2;
      k0 = pt.slot(pt.val[k0]!, tableIndex(vpn, 2));
      fl = fls[k0]!;
      w &= fl;
      if ((fl & TABLE_ENTRY) === TABLE_ENTRY) {
        level = 1;
        pmd = pt.val[k0]!;
        k0 = pt.slot(pmd, tableIndex(vpn, 1));
        fl = fls[k0]!;
        w &= fl;
        if ((fl & TABLE_ENTRY) === TABLE_ENTRY) {
          level = 0;
          k0 = pt.slot(pt.val[k0]!, tableIndex(vpn, 0));
          fl = fls[k0]!;
          w &= fl;
        }
      }
    }
    if ((fl & PTE.present) !== 0 && (fl & PTE.protNone) === 0 && (!write || (w & PTE.write) !== 0)) {
      const span = level * 9;
      const pfn = pt.val[k0]! + (span === 0 ? 0 : vpn & ((1 << span) - 1));
      if (
        level === 0 &&
        k.hw.managesAccessFlags === false &&
        ((fl & PTE.young) === 0 || (write && (fl & PTE.dirty) === 0))
      ) {
        // no hardware A/D update: an access-flag (or dirty-bit) fault; the kernel sets it
        // (handle_pte_fault → pte_mkyoung / pte_mkdirty) and the access is retried
        handleMmFault(k, mm, vpn, write, false, pmd);
        continue;
      }
      // hardware accessed / dirty bits (x86, and arm64 with FEAT_HAFDBS)
      pt.fl[k0] = fl | PTE.young | (write ? PTE.dirty : 0);
      k.hw.tlbFill(k.cpu, mm, vpn, pfn, (w & PTE.write) !== 0 && (fl & PTE.write) !== 0, 12 + span, k0);
      if (write) k.f.data[pfn] = value;
      else k.lastValue = k.f.data[pfn]!;
      return AccessResult.OK;
    }
    const r = handleMmFault(k, mm, vpn, write, false, pmd);
    if (r === FaultResult.OK) continue;
    if (r === FaultResult.SEGV) {
      throw new SimError(
        `segmentation fault: ${write ? 'write' : 'read'} at page 0x${vpn.toString(16)} of "${t.proc.pid}"`,
        'segv',
      );
    }
    t.pending = { vpn, write, value, reason: r === FaultResult.UFFD_MISSING ? 'uffd-missing' : 'uffd-wp' };
    return AccessResult.BLOCKED;
  }
  throw new SimError(`fault loop at page 0x${vpn.toString(16)}: the fault handler did not make progress`, 'internal');
}

/**
 * The fault's struct vm_fault: the kernel's one reused VmFault, reset (no allocation per fault).
 * The only place that reads `k.vmf`; the fault paths get the object as a parameter.
 */
export function beginFault(k: Kernel, mm: MmStruct, vma: Vma, vpn: number, write: boolean, unshare: boolean): VmFault {
  return k.vmf.begin(mm, vma, vpn, k.cpu, write, unshare);
}

const OUTCOME = ['ok', 'uffd-missing', 'uffd-wp', 'segv'] as const;

/**
 * handle_mm_fault(): the fault.entered / fault.exited notifications around the fault (no
 * allocation when nobody taps them). `pmd`: the PMD table covering vpn when the caller's walk
 * reached it (userAccess), else -1; used only when no fault.entered tap runs in between.
 */
export function handleMmFault(
  k: Kernel,
  mm: MmStruct,
  vpn: number,
  write: boolean,
  unshare: boolean,
  pmd = -1,
  force = false,
): FaultResult {
  const h = k.hooks.fault;
  if (!h.entered.isUsed() && !h.exited.isUsed()) return doHandleMmFault(k, mm, vpn, write, unshare, pmd, force);
  const cpu = k.cpu;
  h.entered.call({ mm, vpn, cpu, write, unshare });
  const r = doHandleMmFault(k, mm, vpn, write, unshare, -1, force);
  h.exited.call({ mm, vpn, cpu, write, unshare, outcome: OUTCOME[r] });
  return r;
}

/** __handle_mm_fault() → handle_pte_fault(): one walk to the PMD (pud_alloc, pmd_alloc), shared by both levels. */
function doHandleMmFault(
  k: Kernel,
  mm: MmStruct,
  vpn: number,
  write: boolean,
  unshare: boolean,
  pmdHint: number,
  force: boolean,
): FaultResult {
  k.stats.v[C.pgfault]!++;
  // mem_cgroup_charge(folio, vma->vm_mm): new folios go to the faulting mm's memcg
  k.memcgCharge = mm.memcg;
  memcgEvent(k, mm.memcg, ME.pgfault, 1);
  k.charge(k.hw.costs.faultEntry);
  const vma = mm.findVma(vpn);
  if (!vma) return FaultResult.SEGV;
  // access_error() (x86, arm64): a read needs vma_is_accessible() (VM_READ | VM_WRITE); a
  // FOLL_FORCE write (gup-force.ts) may go to a private VMA without VM_WRITE (check_vma_flags())
  if (write ? (vma.flags & VM.write) === 0 && !force : (vma.flags & (VM.read | VM.write)) === 0)
    return FaultResult.SEGV;

  // the one vm_fault of this kernel, reset for this fault and passed down (as Linux's on-stack vmf)
  const vmf = beginFault(k, mm, vma, vpn, write, unshare);

  // the PMD level: huge PMD faults and do_huge_pmd_anonymous_page() (huge-pmd-fault.ts)
  const pmd = pmdHint >= 0 ? pmdHint : tableAt(k, mm, vpn, 1, true);
  const hr = hugePmdFault(k, vmf, pmd);
  if (hr >= 0) return hr as FaultResult;
  const t = pmd < 0 ? pmd : pteTableInPmd(k, mm, vpn, pmd, true, 'fault');
  if (t === -2) throw new SimError('fault on a PMD-mapped THP: PMD mappings are not modelled yet', 'internal');
  const i = pteIndex(vpn);
  vmf.table = t;
  vmf.index = i;
  const kk = k.pt.slot(t, i);
  const fl = k.pt.fl[kk]!;
  // do_pte_missing(): vma_is_anonymous() ? do_anonymous_page() : do_fault() (file-fault.ts)
  if (fl === 0) return vma.file !== null ? (doFault(k, vmf) as FaultResult) : doAnonymousPage(k, vmf);
  // do_swap_page() → handle_pte_marker(): a guard marker is VM_FAULT_SIGSEGV
  if ((fl & PTE.guard) !== 0) return FaultResult.SEGV;
  if ((fl & PTE.swap) !== 0) {
    const r = doSwapPage(k, vmf);
    // do_swap_page(): a write fault on a page mapped read-only continues in do_wp_page()
    const nfl = k.pt.fl[kk]!;
    if (r === FaultResult.OK && write && (nfl & PTE.write) === 0) return doWpPage(k, vmf, nfl);
    return r;
  }
  // handle_pte_fault(): is_pte_marker() → handle_pte_marker() (pte-marker.ts)
  if (isPteMarker(fl)) return handlePteMarker(k, vmf, fl);
  if ((fl & PTE.protNone) !== 0) return FaultResult.SEGV;
  if ((write || unshare) && (fl & PTE.write) === 0) return doWpPage(k, vmf, fl);
  // spurious fault or a stale TLB entry: ptep_set_access_flags()
  k.pt.fl[kk] = fl | PTE.young | (write ? PTE.dirty | k.sd : 0);
  faultDone(k, mm, vpn, write, 'spurious', 0);
  return FaultResult.OK;
}

/** Pick the largest allowed order whose aligned range fits the VMA and has no PTE (alloc_anon_folio). */
function pickAnonOrder(k: Kernel, vma: Vma, vpn: number, table: number, orders: number): number {
  for (let o = 8; o >= 1; o--) {
    if ((orders & (1 << o)) === 0) continue;
    const nr = 1 << o;
    const start = vpn - (vpn & (nr - 1));
    if (start < vma.start || start + nr > vma.end) continue;
    const b = k.pt.slot(table, pteIndex(start));
    let none = true;
    for (let i = 0; i < nr; i++) {
      if (k.pt.fl[b + i] !== 0) {
        none = false;
        break;
      }
    }
    if (none) return o;
  }
  return 0;
}

/** do_anonymous_page(): first touch of an address. */
export function doAnonymousPage(k: Kernel, vmf: VmFault): FaultResult {
  const { mm, vma, vpn, write, table } = vmf;
  if ((vma.flags & VM.uffdMissing) !== 0) {
    handleUserfault(k, mm, vpn, write, false);
    return FaultResult.UFFD_MISSING;
  }
  if (!write) {
    // map the shared zero page read-only (pte_mkspecial(ZERO_PAGE))
    k.pt.set(table, pteIndex(vpn), ZERO_PFN, PTE.present | PTE.young);
    k.charge(k.hw.costs.pteUpdate);
    k.hooks.pte.afterSet.call(mm, vpn, vpn + 1);
    faultDone(k, mm, vpn, false, 'zero', 0);
    return FaultResult.OK;
  }
  // untapped, the answer is order 0 only (and no tap can see the call)
  const ho = k.hooks.fault.anonOrders;
  const orders = (ho.isUsed() ? ho.call(1, vmf) : 1) & 0x1ff; // PMD order is not PTE-mapped on fault
  return anonFolioFault(k, mm, vma, vpn, table, orders);
}

/**
 * The rest of do_anonymous_page() for a write once fault.anonOrders answered `orders`:
 * alloc_anon_folio() (the order), the rmap, the LRU batch and the PTEs. fault-range.ts enters
 * here when a tap allowed large orders.
 */
export function anonFolioFault(
  k: Kernel,
  mm: MmStruct,
  vma: Vma,
  vpn: number,
  table: number,
  orders: number,
): FaultResult {
  let order = orders > 1 ? pickAnonOrder(k, vma, vpn, table, orders) : 0;
  if (k.explain !== null) k.explain.count('fault.anonOrders', `order_${order}`, WATERFALL);
  let head: number;
  for (;;) {
    try {
      head = k.allocFolio(order, true);
      break;
    } catch (e) {
      // alloc_anon_folio(): an order that cannot be allocated counts
      // count_mthp_stat(order, MTHP_STAT_ANON_FAULT_FALLBACK) and the next lower order that
      // fits is tried, then a page
      if (order === 0 || !(e instanceof SimError && e.code === 'enomem')) throw e;
      if (k.config.features.mthpFaultStats) {
        k.stats.v[k.mthpFaultFallback[order]!]!++;
        // mem_cgroup_charge() failed: MTHP_STAT_ANON_FAULT_FALLBACK_CHARGE too
        if (e.field === 'memcg') k.stats.v[k.mthpFaultFallbackCharge[order]!]!++;
      }
      order = pickAnonOrder(k, vma, vpn, table, orders & ((1 << order) - 1));
    }
  }
  const nr = 1 << order;
  const start = vpn - (vpn & (nr - 1));
  k.f.ref[head] = nr; // one reference per mapping PTE (folio_ref_add(nr - 1))
  addNewAnonRmap(k, head, mm, vma, start, nr);
  lruAdd(k, head);
  const b = pteIndex(start);
  // `if (vma->vm_flags & VM_WRITE) entry = pte_mkwrite(pte_mkdirty(entry))`: a FOLL_FORCE
  // write to a read-only VMA (gup-force.ts) maps the page clean and read-only
  const w = (vma.flags & VM.write) !== 0 ? PTE.write | PTE.dirty | k.sd : 0;
  for (let i = 0; i < nr; i++) {
    k.pt.set(table, b + i, head + i, PTE.present | w | PTE.young);
  }
  k.charge(k.hw.costs.pteUpdate * nr);
  k.hooks.pte.afterSet.call(mm, start, start + nr);
  // count_mthp_stat(order, MTHP_STAT_ANON_FAULT_ALLOC) (ec33687c6749, v6.9)
  if (order > 0 && k.config.features.mthpFaultStats) k.stats.v[k.mthpFaultAlloc[order]!]!++;
  faultDone(k, mm, vpn, true, 'anon', order);
  return FaultResult.OK;
}

/** The rule used when no policy taps fault.wpReuse: the v5.9 refcount rule, small folios only. */
export function defaultWpReuse(k: Kernel, head: number): 'reuse' | 'copy' {
  return k.f.order[head] === 0 && k.f.ref[head] === 1 ? 'reuse' : 'copy';
}

/** do_wp_page(): write (or unshare) fault on a present, write-protected PTE. */
function doWpPage(k: Kernel, vmf: VmFault, fl: number): FaultResult {
  const { mm, vma } = vmf;
  const kk = k.pt.slot(vmf.table, vmf.index);
  if ((fl & PTE.uffdWp) !== 0 && (vma.flags & VM.uffdWp) !== 0 && vmf.write) {
    // userfaultfd_pte_wp(): hand the fault to the monitor
    handleUserfault(k, mm, vmf.vpn, true, true);
    return FaultResult.UFFD_WP;
  }
  const pfn = k.pt.val[kk]!;
  if (pfn === ZERO_PFN) {
    // unshare: only a R/O longterm pin in a private mapping asks it (v6.2+): a read-only copy;
    // and break_ksm() for a zero page KSM placed (v6.6)
    vmf.pfn = ZERO_PFN; // fault.cowOrder sees the zero page
    vmf.head = ZERO_PFN;
    wpPageCopy(k, vmf, -1, -1);
    return FaultResult.OK;
  }
  const head = k.f.head(pfn);
  vmf.pfn = pfn;
  vmf.head = head;
  if ((k.f.flags[head]! & PG.filemap) !== 0)
    return doWpFilePage(k, vmf, head, () => wpPageCopy(k, vmf, pfn, head)) as FaultResult;
  if (vmf.unshare && (k.f.flags[pfn]! & PG.anonExclusive) !== 0) return FaultResult.OK;
  if ((k.f.flags[head]! & PG.ksm) !== 0) {
    // a KSM page is never reused by the refcount rules (09854ba94c6a v5.9 `PageKsm(page) ||
    // page_count(page) != 1`; wp_can_reuse_anon_folio(): folio_test_ksm()); v5.8's
    // reuse_ksm_page() (52d1e606ee73) took one mapped once with no other reference
    if (k.config.features.ksmReuseKsmPage && !vmf.unshare && reuseKsmPage(k, vmf, head)) wpPageReuse(k, vmf, kk, pfn);
    else wpPageCopy(k, vmf, pfn, head);
    return FaultResult.OK;
  }
  k.hooks.fault.beforeWpReuse.call(vmf);
  if (k.explain !== null) clearDecider();
  const decision = k.hooks.fault.wpReuse.call(vmf) ?? defaultWpReuse(k, head);
  if (k.explain !== null)
    k.explain.wpReuse(vmf, head, decision === 'copy' || decision === 'reuse' ? decision : 'reuse_range', decider());
  if (decision !== 'copy') {
    // a range answer (validated when the tap answered): make the whole range writable at once
    if (decision !== 'reuse' && !vmf.unshare && decision.nr > 1)
      reusePteRange(k, mm, vmf.table, decision.start, decision.nr, head);
    wpPageReuse(k, vmf, kk, pfn);
    return FaultResult.OK;
  }
  wpPageCopy(k, vmf, pfn, head);
  return FaultResult.OK;
}

/** maybe_mkwrite(): the write bit only in a VMA with VM_WRITE */
export function mkwrite(vma: Vma): number {
  return (vma.flags & VM.write) !== 0 ? PTE.write : 0;
}

/**
 * reuse_ksm_page() (v5.8): not in the swap cache, a live stable node, and page_ref_freeze(page, 1);
 * then page_move_anon_rmap(): the folio is an ordinary anonymous one again (its stable node stale).
 */
function reuseKsmPage(k: Kernel, vmf: VmFault, head: number): boolean {
  const f = k.f;
  if ((f.flags[head]! & PG.swapcache) !== 0 || f.ref[head] !== 1) return false;
  const node = k.ksm?.nodeOfPfn.get(head);
  if (node === undefined || node.kpfn !== head) return false;
  f.flags[head]! &= ~PG.ksm;
  f.anonVma[head] = anonVmaPrepare(k, vmf.mm, vmf.vma);
  f.index[head] = vmf.vma.pgoffOf(vmf.vpn);
  return true;
}

/**
 * handle_mm_fault(vma, addr, FAULT_FLAG_UNSHARE | FAULT_FLAG_REMOTE) from break_ksm()
 * (kernel/ksm-unmerge.ts): handle_mm_fault() checks no VMA permission (a PROT_NONE VMA is
 * faulted too) and an unshare fault is never handed to userfaultfd.
 */
export function breakKsmFault(k: Kernel, mm: MmStruct, vma: Vma, vpn: number): FaultResult {
  k.stats.v[C.pgfault]!++;
  k.memcgCharge = mm.memcg;
  memcgEvent(k, mm.memcg, ME.pgfault, 1);
  k.charge(k.hw.costs.faultEntry);
  const vmf = beginFault(k, mm, vma, vpn, false, true);
  const pmd = tableAt(k, mm, vpn, 1, false);
  const t = pmd < 0 ? pmd : pteTableInPmd(k, mm, vpn, pmd, false, 'fault');
  if (t < 0) return FaultResult.OK;
  vmf.table = t;
  vmf.index = pteIndex(vpn);
  const fl = k.pt.fl[k.pt.slot(t, vmf.index)]!;
  if ((fl & PTE.present) === 0 || (fl & PTE.write) !== 0) return FaultResult.OK;
  return doWpPage(k, vmf, fl);
}

/** wp_page_reuse(): the page is ours alone; make the PTE writable. No flush is needed. */
function wpPageReuse(k: Kernel, vmf: VmFault, kk: number, pfn: number): void {
  const { mm, vpn } = vmf;
  k.f.flags[pfn]! |= PG.anonExclusive;
  if (!vmf.unshare && (k.pt.fl[kk]! & PTE.write) !== 0) {
    // a policy already made this PTE writable with its whole range (reusePteRange)
    k.stats.v[C.pgreuse]!++;
    faultDone(k, mm, vpn, vmf.write, 'wp-reuse', k.f.order[k.f.head(pfn)]!);
    return;
  }
  if (!vmf.unshare) k.hooks.pte.beforeChange.call(mm, vpn, vpn + 1, 'wp_page_reuse');
  const fl = k.pt.fl[kk]!;
  // FAULT_FLAG_UNSHARE only marks the page exclusive; it does not map it writable
  // maybe_mkwrite(pte_mkdirty()): no write bit in a VMA without VM_WRITE (a FOLL_FORCE write)
  k.pt.fl[kk] = vmf.unshare ? fl | PTE.young : fl | PTE.young | PTE.dirty | k.sd | mkwrite(vmf.vma);
  if (!vmf.unshare) k.hooks.pte.afterSet.call(mm, vpn, vpn + 1);
  k.stats.v[C.pgreuse]!++;
  k.charge(k.hw.costs.pteUpdate);
  faultDone(k, mm, vpn, vmf.write, 'wp-reuse', 0);
}

/**
 * wp_page_copy(): give the faulting mm its own copy of the page (or a zeroed page when the
 * PTE mapped the zero page). The old PTE is cleared and flushed (ptep_clear_flush) before
 * the new one is installed.
 */
function wpPageCopy(k: Kernel, vmf: VmFault, oldPfn: number, oldHead: number): void {
  const { mm, vma, vpn } = vmf;
  const zero = oldPfn < 0;
  // fault.cowOrder: a large replacement folio (validated: aligned, inside the VMA and the PTE
  // table, every PTE mapping the same source folio read-only, or none / the zero page)
  const fileSrc = !zero && (k.f.flags[oldHead]! & PG.filemap) !== 0; // a page-cache page: one page copied
  const want = fileSrc ? 0 : k.hooks.fault.cowOrder.call(0, vmf);
  const order = want > 0 ? validCowOrder(k, vma, vpn, vmf.table, want, zero ? -1 : oldHead) : 0;
  if (k.explain !== null) k.explain.count('fault.cowOrder', `order_${order}`, WATERFALL);
  if (order > 0) {
    wpCopyRange(k, mm, vma, vpn, vmf.table, order, zero ? -1 : oldHead, vmf.unshare);
    faultDone(k, mm, vpn, vmf.write, zero ? 'wp-zero' : 'wp-copy', order);
    return;
  }
  const nh = k.allocFolio(0, zero, zero ? -1 : oldHead);
  if (zero) k.stats.v[C.cow_zero]!++;
  else {
    k.f.data[nh] = k.f.data[oldPfn]!;
    k.charge(k.hw.costs.copyPage);
    k.stats.v[C.cow_copy]!++;
  }
  addNewAnonRmap(k, nh, mm, vma, vpn, 1);
  lruAdd(k, nh);
  const t = vmf.table;
  const i = vmf.index;
  const kk = k.pt.slot(t, i);
  const oldFl = k.pt.fl[kk]!;
  // ksm_might_unmap_zero_page(): a zero page KSM placed (pte_dirty) is gone
  if (zero && (oldFl & PTE.dirty) !== 0 && k.ksm !== null) ksmMightUnmapZeroPage(k, mm);
  // ptep_clear_flush()
  k.hooks.pte.beforeChange.call(mm, vpn, vpn + 1, 'wp_page_copy');
  k.pt.clear(t, i);
  flushPage(k, mm, vpn, 'wp_page_copy');
  // wp_page_copy(): an unshare keeps pte_soft_dirty and pte_uffd_wp of the old PTE;
  // mk_pte(vma->vm_page_prot) of a PROT_NONE VMA (only break_ksm() faults one) is protnone
  const keep =
    (oldFl & (vmf.unshare ? PTE.softDirty | PTE.uffdWp : PTE.softDirty)) |
    ((vma.flags & (VM.read | VM.write)) === 0 ? PTE.protNone : 0);
  k.pt.set(t, i, nh, keep | PTE.present | PTE.young | (vmf.unshare ? 0 : PTE.dirty | k.sd | mkwrite(vma)));
  k.charge(k.hw.costs.pteUpdate);
  k.hooks.pte.afterSet.call(mm, vpn, vpn + 1);
  if (!zero) {
    munlockVmaFolio(k, oldHead, vmf.vma); // __folio_remove_rmap() → munlock_vma_folio()
    removeRmapPtes(k, oldHead, oldPfn, 1, mm);
    k.folioPut(oldHead);
  }
  faultDone(k, mm, vpn, vmf.write, zero ? 'wp-zero' : 'wp-copy', 0);
}

/**
 * __collapse_huge_page_swapin() (mm/khugepaged.c): do_swap_page() on the swap PTE at `vpn` of
 * PTE table `table` (a read fault, no handle_mm_fault(): no pgfault, a major fault counted).
 */
export function collapseSwapinPte(k: Kernel, mm: MmStruct, vma: Vma, vpn: number, table: number): boolean {
  const vmf = beginFault(k, mm, vma, vpn, false, false);
  vmf.table = table;
  vmf.index = pteIndex(vpn);
  return doSwapPage(k, vmf) === FaultResult.OK;
}

/** do_swap_page(): the PTE holds a swap entry. */
function doSwapPage(k: Kernel, vmf: VmFault): FaultResult {
  const { mm, vma, vpn, write } = vmf;
  const kk = k.pt.slot(vmf.table, vmf.index);
  const fl = k.pt.fl[kk]!;
  const slot = k.pt.val[kk]!;
  const f = k.f;
  const swap = k.swap;
  vmf.swapSlot = slot;
  vmf.swapExclusive = (fl & PTE.swpExclusive) !== 0;
  let head = swap.cache[slot]!;
  let pfn: number;
  let skipped = false;
  if (head >= 0) {
    // swap cache hit: a minor fault
    pfn = head;
    head = f.head(pfn);
    f.ref[head]!++;
    k.stats.v[C.swapin_cache_hit]!++;
  } else {
    skipped = k.hooks.fault.swapinSkipCache.call(vmf) ?? (swap.opts.synchronousIo && swap.count[slot] === 1);
    // mem_cgroup_swapin_charge_folio(): to the memcg the slot's swap_cgroup record names
    k.memcgCharge = swap.memcg[slot]!;
    // alloc_swap_folio(): a large folio when the neighbouring swap entries allow it (huge-memory.ts)
    if (skipped && swap.opts.synchronousIo && swapinLargeFolio(k, vmf)) {
      k.memcgCharge = mm.memcg;
      return FaultResult.OK;
    }
    head = k.allocFolio(0, false);
    pfn = head;
    f.flags[head]! |= PG.anon;
    if (swap.zeromap[slot] === 1) {
      // swap_read_folio_zeromap(): zero-filled, nothing read from the device
      f.data[head] = 0;
      k.charge(k.hw.costs.zeroPage);
      k.stats.v[C.swpin_zero]!++;
    } else {
      f.data[head] = swap.data[slot]!;
      k.charge(k.hw.costs.swapIoPage);
      k.stats.v[C.pswpin]!++;
    }
    k.stats.v[C.pgmajfault]!++;
    memcgEvent(k, mm.memcg, ME.pgmajfault, 1);
    k.memcgCharge = mm.memcg;
    if (skipped) k.stats.v[C.swapin_skip_swapcache]!++;
    else {
      swap.hasCache[slot] = 1;
      swap.cache[slot] = head;
      f.swap[head] = slot;
      f.flags[head]! |= PG.swapcache;
      f.ref[head]!++;
      swap.cachedPages++;
      k.stats.v[C.swap_cache_add]!++;
    }
    // workingset_refault() with the slot's shadow (v5.9+), before folio_add_lru()
    const shadow = swap.shadow[slot]!;
    if (shadow !== 0) {
      swap.shadow[slot] = 0;
      if (k.config.features.workingsetAnon) workingsetRefault(k, head, shadow);
    }
    lruAdd(k, head);
  }
  vmf.pfn = pfn;
  vmf.head = head;
  vmf.swapCacheBypassed = skipped;
  // v5.18+: a write fault on a swap-cache folio still in this CPU's LRU batch drains it first,
  // so the refcount tells whether we are the exclusive owner
  if (k.config.features.swapinDrainLocal && write && !skipped && (f.flags[head]! & PG.lru) === 0) lruAddDrain(k, k.cpu);
  // a page that never entered the swap cache is certainly exclusive (do_swap_page); a KSM
  // folio met in the swap cache never is, nor mapped writable (`!folio_test_ksm(folio) &&
  // (exclusive || folio_ref_count(folio) == 1)`; v5.8: reuse_swap_page() refuses PageKsm)
  const ksm = (f.flags[head]! & PG.ksm) !== 0;
  const exclusive = !ksm && (vmf.swapExclusive || skipped);
  // swap_free(): the PTE's reference to the slot goes away
  swapFree(k, slot);
  mm.swapEnts--;
  if (k.config.features.swapinFreeOnWrite && write && (f.flags[head]! & PG.swapcache) !== 0 && f.ref[head] === 2) {
    folioFreeSwap(k, head); // should_try_to_free_swap()
  }
  // map it
  if (!ksm && (f.anonVma[head]! < 0 || f.folioMapcount(head) === 0)) {
    f.anonVma[head] = anonVmaPrepare(k, mm, vma);
    f.index[head] = vma.pgoffOf(vpn);
  }
  addAnonRmapPtes(k, head, pfn, 1, mm);
  mlockVmaFolio(k, head, vma); // __folio_add_anon_rmap(): mlock_vma_folio() of a small folio
  if (exclusive) f.flags[pfn]! |= PG.anonExclusive;
  const asks = !ksm && (vma.flags & VM.write) !== 0 && (fl & PTE.uffdWp) === 0;
  if (asks && k.explain !== null) clearDecider();
  const writable = asks && (k.hooks.fault.swapinWritable.call(vmf) ?? false);
  if (asks && k.explain !== null) k.explain.swapinWritable(vmf, head, writable, decider());
  let nfl = PTE.present | PTE.young | (fl & (PTE.uffdWp | PTE.softDirty));
  if (writable) {
    nfl |= PTE.write | (write ? PTE.dirty | k.sd : 0);
    f.flags[pfn]! |= PG.anonExclusive;
    k.stats.v[C.swapin_map_writable]!++;
  }
  k.pt.set(vmf.table, vmf.index, pfn, nfl);
  k.charge(k.hw.costs.pteUpdate);
  k.hooks.pte.afterSet.call(mm, vpn, vpn + 1);
  faultDone(k, mm, vpn, write, 'swapin', 0);
  return FaultResult.OK;
}
