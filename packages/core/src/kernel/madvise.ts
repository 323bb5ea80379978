/** madvise() (mm/madvise.c). */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { PTRS_PER_TABLE, pmdStart, pteIndex } from '../units.js';
import { mergeVmas, vmasForRange } from './mmap.js';
import { zapRange } from './zap.js';
import { ptReclaimEnabled } from './pt-reclaim.js';
import { reclaimFolios } from './reclaim.js';
import { pageoutHugePmd } from './huge-pmd-ops.js';
import { splitFolio } from './huge-memory.js';
import { madviseCollapse } from './khugepaged.js';
import { maybeMappedShared } from './mapped-shared.js';
import { khugepagedEnterVma } from './khugepaged-scan.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { folioDeactivate, isolateLru, lruAddDrain } from './lru-batch.js';
import { flushBatchedPending } from './tlb-flush.js';
import { uffdRangeEvent } from './uffd-ctx.js';
import { madvisePopulate } from './populate.js';
import { madviseFree } from './lazyfree.js';
import { ksmMadvise } from './ksm-unmerge.js';

export const ADVICES = [
  'pageout',
  'cold',
  'dontneed',
  'hugepage',
  'nohugepage',
  'dontfork',
  'dofork',
  'wipeonfork',
  'keeponfork',
  'collapse',
  'populate_read',
  'populate_write',
  'dontneed_locked',
  'free',
  'mergeable',
  'unmergeable',
] as const;
export type Advice = (typeof ADVICES)[number];

export function madvise(k: Kernel, mm: MmStruct, start: number, end: number, advice: Advice): void {
  k.charge(k.hw.costs.syscall);
  if (advice === 'populate_read' || advice === 'populate_write') {
    // MADV_POPULATE_(READ|WRITE) (v5.14): no VMA walk; a hole is ENOMEM (populate.ts)
    madvisePopulate(k, mm, start, end, advice === 'populate_write');
    k.hooks.madvise.get(advice)?.call({ mm, start, end, cpu: k.cpu });
    return;
  }
  if (mm.vmasIn(start, end).length === 0) throw new SimError(`madvise(${advice}): no mapping in the range`, 'einval');
  switch (advice) {
    case 'pageout':
    case 'cold':
      coldOrPageout(k, mm, start, end, advice === 'pageout');
      break;
    case 'dontneed':
    case 'dontneed_locked': {
      // madvise_dontneed_free(): userfaultfd_remove() first (UFFD_EVENT_REMOVE)
      uffdRangeEvent(mm, 'remove', start, end);
      // madvise_dontneed_single_vma(): zap_page_range_single() with details.reclaim_pt;
      // madvise_dontneed_free_valid_vma(): a VM_LOCKED VMA is EINVAL unless MADV_DONTNEED_LOCKED
      const tlb = k.gather(mm);
      const reclaimPt = ptReclaimEnabled(k);
      try {
        for (const v of mm.vmasIn(start, end)) {
          if (advice === 'dontneed' && (v.flags & VM.locked) !== 0)
            throw new SimError('madvise(dontneed): the range has a VM_LOCKED mapping', 'einval');
          zapRange(k, mm, Math.max(start, v.start), Math.min(end, v.end), tlb, 'madvise_dontneed', reclaimPt);
        }
      } finally {
        tlb.finish('madvise_dontneed');
      }
      break;
    }
    case 'hugepage':
      setFlags(k, mm, start, end, VM.hugepage, VM.nohugepage);
      // hugepage_madvise(): khugepaged_enter_vma() without waiting for a fault
      for (const vma of mm.vmasIn(start, end)) khugepagedEnterVma(k, mm, vma);
      break;
    case 'nohugepage':
      setFlags(k, mm, start, end, VM.nohugepage, VM.hugepage);
      break;
    case 'dontfork':
      setFlags(k, mm, start, end, VM.dontcopy, 0);
      break;
    case 'dofork':
      setFlags(k, mm, start, end, 0, VM.dontcopy);
      break;
    case 'wipeonfork':
      setFlags(k, mm, start, end, VM.wipeonfork, 0);
      break;
    case 'keeponfork':
      setFlags(k, mm, start, end, 0, VM.wipeonfork);
      break;
    case 'collapse':
      madviseCollapse(k, mm, start, end);
      break;
    case 'free':
      madviseFree(k, mm, start, end); // MADV_FREE (lazyfree.ts)
      break;
    case 'mergeable':
    case 'unmergeable':
      ksmMadvise(k, mm, start, end, advice === 'mergeable');
      break;
  }
  k.hooks.madvise.get(advice)?.call({ mm, start, end, cpu: k.cpu });
}

function setFlags(k: Kernel, mm: MmStruct, start: number, end: number, set: number, clear: number): void {
  for (const v of vmasForRange(k, mm, start, end)) v.flags = (v.flags | set) & ~clear;
  mergeVmas(k, mm);
}

/** madvise_cold_or_pageout_pte_range() + reclaim_pages(). */
function coldOrPageout(k: Kernel, mm: MmStruct, start: number, end: number, pageout: boolean): void {
  const f = k.f;
  const pt = k.pt;
  // madvise_pageout() / madvise_cold(): lru_add_drain() on this CPU first
  lruAddDrain(k, k.cpu);
  const tlb = k.gather(mm);
  // v6.9+: MADV_PAGEOUT does not age the PTEs (`!pageout && pte_young()`)
  const keepYoung = pageout && k.config.features.pageoutKeepsYoung;
  const avoidSplit = k.config.features.madviseAvoidSplit;
  // madvise_cold() / madvise_pageout(): !can_madv_lru_vma() (VM_LOCKED) is EINVAL; the walk
  // stops there, the VMAs before it done
  const vmas = mm.vmasIn(start, end);
  const stop = vmas.findIndex((v) => (v.flags & VM.locked) !== 0);
  if (stop >= 0) vmas.length = stop;
  for (const vma of vmas) {
    const s = Math.max(start, vma.start);
    const e = Math.min(end, vma.end);
    for (let v = s; v < e; ) {
      const tEnd = Math.min(e, pmdStart(v) + PTRS_PER_TABLE);
      k.condResched(tEnd - v);
      let probe = pteTable(k, mm, v);
      if (probe === -2) {
        // a PMD-mapped THP: swapped out whole when the range covers it (huge-memory.ts)
        const h = pageoutHugePmd(k, mm, v, e, pageout, tlb);
        if (h !== -2) {
          if (h >= 0) reclaimFolios(k, [h], 'pageout');
          v = tEnd;
          continue;
        }
        probe = pteTable(k, mm, v);
      }
      if (probe < 0) {
        v = tEnd;
        continue;
      }
      flushBatchedPending(k, mm);
      const list: number[] = [];
      let t = probe;
      for (let a = v; a < tEnd; a++) {
        const kk = pt.slot(t, pteIndex(a));
        const fl = pt.fl[kk]!;
        if ((fl & PTE.present) === 0) continue;
        const pfn = pt.val[kk]!;
        if (pfn === ZERO_PFN) continue;
        const head = f.head(pfn);
        if (f.order[head]! > 0) {
          const nr = 1 << f.order[head]!;
          if (!avoidSplit) {
            // before v6.10: "Split it if we are only owner": folio_estimated_sharers() (the
            // first page's mapcount) != 1 or a failed split_folio() ends this PMD's walk (break);
            // after a split the same PTE is handled again (pte--; addr -= PAGE_SIZE; continue)
            if (f.mapcount[head]! + f.entireMapcount[head]! !== 1 || !splitForMadvise(k, head)) break;
            a--;
            continue;
          }
          // v6.10+ ("mm: madvise: avoid split during MADV_PAGEOUT and MADV_COLD"):
          // madvise_folio_pte_batch(): the PTEs from here on mapping the folio's next pages, in range
          let n = 1;
          const left = nr - (pfn - head);
          while (n < left && a + n < tEnd) {
            const kn = pt.slot(t, pteIndex(a + n));
            if ((pt.fl[kn]! & PTE.present) === 0 || pt.val[kn] !== pfn + n) break;
            n++;
          }
          if (n < nr) {
            // the range does not cover the folio: split_folio() unless folio_maybe_mapped_shared()
            // (v6.15; folio_likely_mapped_shared() before); after a split the same PTE is
            // handled again (nr = 0), else the batch is skipped
            if (!maybeMappedShared(k, t, a - (pfn - head), head, v) && splitForMadvise(k, head)) a--;
            else a += n - 1;
            continue;
          }
          // covered whole: kept whole when all its pages are mapped here by this mm only
          if (f.largeMapcount[head] !== nr || (f.flags[head]! & PG.lru) === 0) {
            a += nr - 1;
            continue;
          }
          let young = false;
          for (let j = 0; j < nr; j++) if ((pt.fl[pt.slot(t, pteIndex(a + j))]! & PTE.young) !== 0) young = true;
          if (young && !keepYoung) {
            t = pteTableForWrite(k, mm, a, false, 'madvise');
            for (let j = 0; j < nr; j++) pt.fl[pt.slot(t, pteIndex(a + j))]! &= ~PTE.young;
            tlb.addRange(a, nr);
          }
          f.flags[head]! &= ~PG.referenced;
          if (pageout) {
            if (isolateLru(k, head)) list.push(head);
          } else folioDeactivate(k, head);
          a += nr - 1;
          continue;
        }
        // do not interfere with other mappings of this folio, nor with non-LRU folios
        if ((f.flags[head]! & PG.lru) === 0 || f.folioMapcount(head) !== 1) continue;
        if ((fl & PTE.young) !== 0 && !keepYoung) {
          t = pteTableForWrite(k, mm, a, false, 'madvise');
          pt.fl[pt.slot(t, pteIndex(a))] = fl & ~PTE.young; // ptep_test_and_clear_young()
          tlb.addRange(a); // tlb_remove_tlb_entry()
        }
        f.flags[head]! &= ~PG.referenced;
        if (pageout) {
          if (isolateLru(k, head)) list.push(head);
        } else {
          folioDeactivate(k, head);
        }
      }
      if (list.length > 0) reclaimFolios(k, list, 'pageout');
      v = tEnd;
    }
  }
  tlb.finish(pageout ? 'madvise_pageout' : 'madvise_cold');
  k.completeWriteback();
  if (stop >= 0)
    throw new SimError(`madvise(${pageout ? 'pageout' : 'cold'}): the range has a VM_LOCKED mapping`, 'einval');
}

/** madvise's split_folio() under folio_get() / folio_put(). */
function splitForMadvise(k: Kernel, head: number): boolean {
  k.folioGet(head);
  const ok = splitFolio(k, head, null);
  k.folioPut(head);
  return ok;
}
