/**
 * The khugepaged thread (mm/khugepaged.c): the mm_slot list that khugepaged_enter_vma() fills,
 * khugepaged_do_scan() → khugepaged_scan_mm_slot() → hpage_collapse_scan_pmd() with
 * cc->is_khugepaged, and the sysfs counters khugepaged/full_scans and pages_collapsed.
 * mmsim has no clock: the scenario's `khugepaged` step runs the passes the thread would run
 * while the selftests wait for full_scans to move.
 */
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { HPAGE_PMD_NR, PMD_ORDER } from '../units.js';
import type { Kernel } from './kernel.js';
import { khugepagedKnobs } from './khugepaged-knobs.js';
import { type CollapseControl, hpageCollapseScanPmd, SCAN, type ScanResult } from './khugepaged.js';
import { lruAddDrainAll } from './lru-batch.js';

interface KhugepagedScan {
  /** khugepaged_scan.mm_head: the registered mms (MMF_VM_HUGEPAGE), in registration order */
  slots: MmStruct[];
  /** khugepaged_scan.mm_slot (null: at the list head) and .address (a page number) */
  cursor: MmStruct | null;
  address: number;
  /** the result of the last hpage_collapse_scan_pmd() of khugepaged_scan_mm_slot() */
  result: ScanResult;
}

const scans = new WeakMap<Kernel, KhugepagedScan>();

function scanState(k: Kernel): KhugepagedScan {
  let s = scans.get(k);
  if (!s) {
    s = { slots: [], cursor: null, address: 0, result: SCAN.SUCCEED };
    scans.set(k, s);
  }
  return s;
}

/** Forget a kernel's khugepaged state (resetKernelState()). */
export function forgetKhugepagedState(k: Kernel): void {
  scans.delete(k);
}

const KHUGEPAGED_CONTROL: CollapseControl = { isKhugepaged: true, mmapLocked: true };

/** The PMD size's `enabled`, resolved through "inherit" (hugepages-2048kB/enabled, v6.8; the top switch before). */
function pmdMode(k: Kernel): string {
  const m = k.config.thp['2048K'] ?? 'inherit';
  return m === 'inherit' ? (k.config.thp.top ?? 'never') : m;
}

/** hugepage_pmd_enabled(): the PMD size is always, madvise, or inherits a global always / madvise. */
function hugepagePmdEnabled(k: Kernel): boolean {
  const m = pmdMode(k);
  return m === 'always' || m === 'madvise';
}

/**
 * khugepaged_enter_vma(): register the mm with khugepaged (__khugepaged_enter(): at the list's
 * tail, MMF_VM_HUGEPAGE) when THP is enabled for the PMD size and the VMA qualifies under the
 * sysfs settings (thp_vma_allowable_order(TVA_ENFORCE_SYSFS)): anonymous, not VM_NOHUGEPAGE,
 * `always`, or `madvise` and VM_HUGEPAGE. Called at mmap, MADV_HUGEPAGE and the PMD fault.
 */
export function khugepagedEnterVma(k: Kernel, mm: MmStruct, vma: Vma): void {
  if (mm.vmHugepage || !hugepagePmdEnabled(k)) return;
  if (vma.file !== null || (vma.flags & VM.nohugepage) !== 0) return;
  const m = pmdMode(k);
  if (m === 'always' || (vma.flags & VM.hugepage) !== 0) enter(k, mm);
}

/** khugepaged_fork(): a child of a registered mm is registered too. */
export function khugepagedFork(k: Kernel, mm: MmStruct, oldmm: MmStruct): void {
  if (oldmm.vmHugepage && !mm.vmHugepage) enter(k, mm);
}

/** __khugepaged_enter(): test_and_set_bit(MMF_VM_HUGEPAGE), the mm_slot at the list's tail. */
function enter(k: Kernel, mm: MmStruct): void {
  mm.vmHugepage = true;
  scanState(k).slots.push(mm);
}

/**
 * thp_vma_allowable_order(vma, TVA_ENFORCE_SYSFS, PMD_ORDER) at scan time: the policies'
 * `fault.anonOrders` answer for the VMA (the rule faults use; untapped, order 0 only: nothing
 * is collapsed), for anonymous VMAs without VM_NOHUGEPAGE.
 */
function vmaAllowsPmd(k: Kernel, mm: MmStruct, vma: Vma): boolean {
  if (vma.file !== null || (vma.flags & VM.nohugepage) !== 0) return false;
  const h = k.hooks.fault.anonOrders;
  if (!h.isUsed()) return false;
  const vmf = k.vmf.begin(mm, vma, vma.start, k.cpu, false, false);
  return (h.call(1, vmf) & (1 << PMD_ORDER)) !== 0;
}

/** How many khugepaged_do_scan() passes a `khugepaged` step may run before it gives up. */
const MAX_PASSES = 1 << 24;

/**
 * The `khugepaged` step: run khugepaged_do_scan() passes until full_scans advanced by
 * `fullScans`, or `passes` passes. The thread sleeps when it has no work (no registered mm, or
 * THP disabled for the PMD size): the step then ends at once.
 */
export function runKhugepaged(k: Kernel, opts: { fullScans?: number; passes?: number }): void {
  const ids = counterIds(k);
  const target = k.stats.v[ids.full_scans]! + (opts.fullScans ?? (opts.passes === undefined ? 1 : 0));
  const passes = opts.passes ?? MAX_PASSES;
  for (let n = 0; n < passes; n++) {
    if (!hasWork(k)) return;
    if (opts.passes === undefined && k.stats.v[ids.full_scans]! >= target) return;
    khugepagedDoScan(k, ids);
  }
}

/** khugepaged_has_work(): a registered mm and THP enabled for the PMD size. */
function hasWork(k: Kernel): boolean {
  const s = scans.get(k);
  return s !== undefined && s.slots.some((mm) => !mm.dead || mm === s.cursor) && hugepagePmdEnabled(k);
}

/** khugepaged_do_scan(): pages_to_scan of progress, through the list head at most once. */
function khugepagedDoScan(k: Kernel, ids: CounterIds): void {
  const s = scanState(k);
  const pages = khugepagedKnobs(k).pagesToScan;
  // __khugepaged_exit(): an exited mm leaves the list unless the cursor is on it
  s.slots = s.slots.filter((mm) => !mm.dead || mm === s.cursor);
  lruAddDrainAll(k);
  let progress = 0;
  let passThroughHead = 0;
  let wait = true;
  s.result = SCAN.SUCCEED;
  for (;;) {
    k.condResched(1);
    if (s.cursor === null) passThroughHead++;
    if (hasWork(k) && passThroughHead < 2) progress += khugepagedScanMmSlot(k, s, pages - progress, ids);
    else progress = pages;
    if (progress >= pages) break;
    if ((s.result as ScanResult) === SCAN.ALLOC_HUGE_PAGE_FAIL) {
      // khugepaged_alloc_sleep() after the first failure; the second cancels the pass
      if (!wait) break;
      wait = false;
    }
  }
}

/** khugepaged_scan_mm_slot(): scan the cursor's mm from khugepaged_scan.address; returns the progress. */
function khugepagedScanMmSlot(k: Kernel, s: KhugepagedScan, pages: number, ids: CounterIds): number {
  s.result = SCAN.FAIL;
  if (s.cursor === null) {
    s.cursor = s.slots[0]!;
    s.address = 0;
  }
  const mm = s.cursor;
  let progress = 1;
  let scannedAll = false;
  if (!mm.dead) {
    scan: {
      const vmas = mm.vmas;
      let i = 0;
      while (i < vmas.length && vmas[i]!.end <= s.address) i++;
      for (; i < vmas.length; i++) {
        const vma = vmas[i]!;
        k.condResched(1);
        if (!vmaAllowsPmd(k, mm, vma)) {
          progress++;
          continue;
        }
        const hstart = Math.ceil(vma.start / HPAGE_PMD_NR) * HPAGE_PMD_NR;
        const hend = Math.floor(vma.end / HPAGE_PMD_NR) * HPAGE_PMD_NR;
        if (s.address > hend) {
          progress++;
          continue;
        }
        if (s.address < hstart) s.address = hstart;
        while (s.address < hend) {
          k.condResched(HPAGE_PMD_NR);
          s.result = hpageCollapseScanPmd(k, mm, vma, s.address, KHUGEPAGED_CONTROL);
          if (s.result === SCAN.SUCCEED) k.stats.v[ids.pages_collapsed]!++;
          s.address += HPAGE_PMD_NR;
          progress += HPAGE_PMD_NR;
          // collapse_huge_page() dropped mmap_lock, whatever its result: break out
          if (!KHUGEPAGED_CONTROL.mmapLocked) break scan;
          if (progress >= pages) break scan;
        }
      }
      scannedAll = true;
    }
  }
  // release the mm_slot if the mm is dying or every VMA was scanned
  if (mm.dead || scannedAll) {
    const at = s.slots.indexOf(mm);
    if (at + 1 < s.slots.length) {
      s.cursor = s.slots[at + 1]!;
      s.address = 0;
    } else {
      s.cursor = null;
      k.stats.v[ids.full_scans]!++;
    }
    // collect_mm_slot(): an exited mm's slot is freed
    if (mm.dead) s.slots.splice(at, 1);
  }
  return progress;
}

interface CounterIds {
  full_scans: number;
  pages_collapsed: number;
}
const counters = new WeakMap<Kernel, CounterIds>();

/** khugepaged/full_scans and khugepaged/pages_collapsed, defined when a `khugepaged` step runs. */
function counterIds(k: Kernel): CounterIds {
  let c = counters.get(k);
  if (!c) {
    c = {
      full_scans: k.stats.define('khugepaged_full_scans'),
      pages_collapsed: k.stats.define('khugepaged_pages_collapsed'),
    };
    counters.set(k, c);
  }
  return c;
}
