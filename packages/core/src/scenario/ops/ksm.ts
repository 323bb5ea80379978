/** KSM ops: `ksm` (/sys/kernel/mm/ksm), `ksmd` (its scan), `prctl` (PR_SET/GET_MEMORY_MERGE), `ksmStat`. */
import { SimError } from '../../kernel/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { MmStruct } from '../../mm/mm-struct.js';
import { ksmDoScan, ksmOf, ksmPublish, RMAP_ITEM_SIZE } from '../../kernel/ksm.js';
import { ksmPrctlMemoryMerge, ksmUnmergeAll } from '../../kernel/ksm-unmerge.js';
import type { OpExecutor, OpHandler } from './executor.js';

const bool = (v: boolean | 0 | 1): boolean => v === true || v === 1;

/** What /sys/kernel/mm/ksm shows now (the files of this kernel's era only). */
export function ksmSysfs(k: Kernel): Record<string, number> {
  const s = ksmOf(k);
  const ft = k.config.features;
  const out: Record<string, number> = {
    run: s.knobs.run,
    pages_to_scan: s.knobs.pages_to_scan,
    use_zero_pages: s.knobs.use_zero_pages ? 1 : 0,
    max_page_sharing: s.knobs.max_page_sharing,
    full_scans: s.seqnr,
    pages_shared: s.pagesShared,
    pages_sharing: s.pagesSharing,
    pages_unshared: s.pagesUnshared,
    pages_volatile: s.rmapItems - s.pagesShared - s.pagesSharing - s.pagesUnshared,
  };
  if (ft.ksmSmartScan) {
    out.smart_scan = s.knobs.smart_scan ? 1 : 0;
    out.pages_scanned = k.stats.v[s.ids.ksm_pages_scanned!]!;
    out.pages_skipped = s.pagesSkipped;
  }
  if (ft.ksmZeroPages) out.ksm_zero_pages = s.zeroPages;
  if (ft.ksmProfit) out.general_profit = k.stats.v[s.ids.ksm_general_profit!]!;
  return out;
}

/** /proc/PID/ksm_stat (fs/proc/base.c proc_pid_ksm_stat()), the lines of this kernel's era; null before v6.1. */
export function ksmStat(k: Kernel, mm: MmStruct): Record<string, number> | null {
  const ft = k.config.features;
  if (!ft.ksmStat) return null;
  const out: Record<string, number> = { ksm_rmap_items: mm.ksmRmapItems };
  if (ft.ksmZeroPages) out.ksm_zero_pages = mm.ksmZeroPages;
  if (ft.ksmProfit) {
    out.ksm_merging_pages = mm.ksmMergingPages;
    // ksm_process_profit(): (merging + zero pages) * PAGE_SIZE - rmap_items * sizeof(rmap_item)
    out.ksm_process_profit =
      (mm.ksmMergingPages + (ft.ksmZeroPages ? mm.ksmZeroPages : 0)) * 4096 - mm.ksmRmapItems * RMAP_ITEM_SIZE;
  }
  return out;
}

/** Compare what a step read with its `expect`; a field this era's file lacks is bad input. */
function checkExpect(
  x: OpExecutor,
  where: string,
  file: string,
  got: Record<string, number> | null,
  want: Record<string, number | undefined>,
): void {
  const checks: Array<{ what: string; got: number; want: number }> = [];
  for (const [key, w] of Object.entries(want)) {
    if (w === undefined) continue;
    const g = got?.[key];
    if (g === undefined) x.fail(where, `expect.${key}`, `${file} has no "${key}" on this kernel`);
    checks.push({ what: `${file} ${key}`, got: g, want: w });
  }
  x.observer.onValueChecks?.(where, checks);
}

/** echo to /sys/kernel/mm/ksm/* (run 2 unmerges everything), then read what `expect` names. */
export const ksmOp: OpHandler<'ksm'> = (x, s, where) => {
  const k = x.k;
  const st = ksmOf(k);
  if (s.smart_scan !== undefined && !k.config.features.ksmSmartScan)
    x.fail(where, 'smart_scan', '/sys/kernel/mm/ksm/smart_scan does not exist before v6.7');
  if (s.pages_to_scan !== undefined) st.knobs.pages_to_scan = s.pages_to_scan;
  if (s.use_zero_pages !== undefined) st.knobs.use_zero_pages = bool(s.use_zero_pages);
  if (s.smart_scan !== undefined) st.knobs.smart_scan = bool(s.smart_scan);
  if (s.max_page_sharing !== undefined && s.max_page_sharing !== st.knobs.max_page_sharing) {
    // max_page_sharing_store(): only while no stable node is left (remove_all_stable_nodes())
    if (st.stable.size > 0) throw new SimError('max_page_sharing: stable nodes exist', 'ebusy', 'max_page_sharing');
    st.knobs.max_page_sharing = s.max_page_sharing;
  }
  if (s.run !== undefined) {
    st.knobs.run = s.run;
    if (s.run === 2) ksmUnmergeAll(k);
  }
  ksmPublish(k);
  if (s.expect !== undefined) checkExpect(x, where, '/sys/kernel/mm/ksm', ksmSysfs(k), s.expect);
};

/**
 * ksmd wakes up: ksm_do_scan(pages_to_scan) once (`pages`: that many pages instead), or
 * batches of pages_to_scan until full_scans advanced by `fullScans`. ksmd only scans with
 * run = 1; waiting for full scans that cannot come is bad input.
 */
export const ksmdOp: OpHandler<'ksmd'> = (x, s, where) => {
  const k = x.k;
  const st = ksmOf(k);
  if (st.knobs.run !== 1) {
    if (s.fullScans !== undefined)
      x.fail(where, 'fullScans', `ksmd does not scan with /sys/kernel/mm/ksm/run = ${st.knobs.run}`);
    return;
  }
  if (s.fullScans !== undefined) {
    if (s.pages !== undefined) x.fail(where, 'pages', 'give pages or fullScans, not both');
    const target = st.seqnr + s.fullScans;
    const batch = Math.max(1, st.knobs.pages_to_scan);
    while (st.seqnr < target) {
      if (st.slots.length === 0)
        x.fail(where, 'fullScans', 'no mm is registered with ksmd: full_scans would never advance');
      ksmDoScan(k, batch);
    }
    return;
  }
  ksmDoScan(k, s.pages ?? st.knobs.pages_to_scan);
};

/** prctl(PR_SET_MEMORY_MERGE, value) and/or prctl(PR_GET_MEMORY_MERGE) == expect. */
export const prctlOp: OpHandler<'prctl'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  if (s.value === undefined && s.expect === undefined)
    x.fail(where, 'value', 'give value (PR_SET_MEMORY_MERGE) or expect (PR_GET_MEMORY_MERGE)');
  x.k.charge(x.k.hw.costs.syscall);
  if (s.value !== undefined) ksmPrctlMemoryMerge(x.k, p.mm, s.value);
  if (s.expect !== undefined)
    x.observer.onValueChecks?.(where, [{ what: 'PR_GET_MEMORY_MERGE', got: p.mm.ksmMergeAny ? 1 : 0, want: s.expect }]);
};

/** cat /proc/PID/ksm_stat */
export const ksmStatOp: OpHandler<'ksmStat'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  if (!x.k.config.features.ksmStat) x.fail(where, 'op', '/proc/PID/ksm_stat does not exist before v6.1');
  if (x.k.ksm === null) ksmOf(x.k);
  if (s.expect !== undefined) checkExpect(x, where, `/proc/${s.pid}/ksm_stat`, ksmStat(x.k, p.mm), s.expect);
};
