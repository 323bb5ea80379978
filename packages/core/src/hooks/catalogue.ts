import { HookMap, SyncBailHook, SyncHook, SyncWaterfallHook } from 'tapable';
import type { MmStruct } from '../mm/mm-struct.js';
import type {
  FaultEvent,
  FlushRequest,
  ForkContext,
  MadviseEvent,
  ReclaimContext,
  TableUnshareContext,
  Vmf,
  WpDecision,
} from './contexts.js';

/**
 * Every hook of the simulated kernel, in one frozen object grouped by the four decision
 * points (fault, fork, reclaim, tlbFlush) plus notifications. Bail hooks: the first tap that
 * returns a value decides; `undefined` passes. Waterfall hooks: each tap refines the value.
 * Plain hooks: notifications. Each decision documents what happens when nobody taps it.
 */
export function createHooks() {
  return Object.freeze({
    fault: Object.freeze({
      /**
       * Orders a new anonymous folio may have (bit n = order n), as thp_vma_allowable_orders()
       * returns them. do_anonymous_page() / alloc_anon_folio() then pick the highest order whose
       * aligned range fits the VMA and PMD with all PTEs none, falling back to order 0.
       * Untapped: 0b1 (order 0 only).
       */
      anonOrders: new SyncWaterfallHook<[number, Vmf]>(['orders', 'vmf']),
      /**
       * do_wp_page() on an anonymous folio: reuse it in place or copy it.
       * Untapped: reuse iff the folio is order 0 and its refcount is 1 (the v5.9 rule,
       * commit 09854ba94c6a); large folios are copied.
       */
      wpReuse: new SyncBailHook<[Vmf], WpDecision | undefined>(['vmf']),
      /** Order of the replacement folio in wp_page_copy(). Untapped: 0 (one page). */
      cowOrder: new SyncWaterfallHook<[number, Vmf]>(['order', 'vmf']),
      /**
       * do_swap_page(): map the swapped-in page writable (and dirty) right away.
       * Untapped: never (the page is mapped read-only; a write then takes do_wp_page()).
       */
      swapinWritable: new SyncBailHook<[Vmf], boolean | undefined>(['vmf']),
      /**
       * do_swap_page(): skip the swap cache for this swap-in (SWP_SYNCHRONOUS_IO path).
       * Untapped: skip when the device is synchronous and the slot's swap count is 1.
       */
      swapinSkipCache: new SyncBailHook<[Vmf], boolean | undefined>(['vmf']),
      /**
       * GUP with FOLL_PIN and without FOLL_WRITE on a present anon page: unshare it first
       * (FAULT_FLAG_UNSHARE, gup_must_unshare()) so the pin and the mapping stay one page.
       * Untapped: never (the historical behaviour that allowed CVE-2020-29374).
       */
      gupUnshare: new SyncBailHook<[Vmf], boolean | undefined>(['vmf']),
      /** Notification after every handled fault. */
      handled: new SyncHook<[FaultEvent]>(['event']),
    }),
    fork: Object.freeze({
      /**
       * copy_page_range(): per PTE table of a private anon VMA. Return 'copy' for the classic
       * path, or 'shared' after linking the table into the child yourself (copy-on-write page
       * tables, On-Demand Fork). Untapped: 'copy'.
       */
      pteTable: new SyncBailHook<[ForkContext], 'copy' | 'shared' | undefined>(['ctx']),
      /**
       * copy_present_pte(): per anon page, 'share' it (wrprotect both mappings) or 'copy' it
       * eagerly into the child (page_needs_cow_for_dma / folio_try_dup_anon_rmap).
       * Untapped: 'share'.
       */
      page: new SyncBailHook<[ForkContext], 'share' | 'copy' | undefined>(['ctx']),
      /**
       * A shared PTE table is about to be modified: return the table id to use instead
       * (a private copy, or the same table when it can be reused). Untapped: throws, since a
       * table is only shared when a fork.pteTable tap shared it.
       */
      unshareTable: new SyncBailHook<[TableUnshareContext], number | undefined>(['ctx']),
      /** Notification: fork finished. */
      done: new SyncHook<[MmStruct, MmStruct]>(['parent', 'child']),
    }),
    reclaim: Object.freeze({
      /** shrink_folio_list(): reclaim this folio? Untapped: yes. */
      shouldReclaim: new SyncBailHook<[ReclaimContext], boolean | undefined>(['ctx']),
      /**
       * try_to_unmap(): 'batch' the TLB flush (TTU_BATCH_FLUSH, arch_tlbbatch) or flush each
       * PTE 'immediate'ly (ptep_clear_flush). Untapped: 'batch'.
       */
      unmapFlush: new SyncBailHook<[ReclaimContext], 'batch' | 'immediate' | undefined>(['ctx']),
      /** Notification: a folio was freed by reclaim. */
      reclaimed: new SyncHook<[ReclaimContext]>(['ctx']),
    }),
    tlbFlush: Object.freeze({
      /**
       * Every TLB flush the kernel asks for. The hardware model taps this to invalidate its
       * TLBs, send IPIs or broadcast TLBIs, count nr_tlb_* and charge cycles.
       */
      request: new SyncHook<[FlushRequest]>(['req']),
    }),
    pte: Object.freeze({
      /**
       * PTEs of [start, end) in `mm` are about to change frame or permission (not just the
       * accessed/dirty bits). Hardware models with multi-entry TLB mappings (arm64 contpte)
       * unfold here, break-before-make. `reason` names the kernel path.
       */
      beforeChange: new SyncHook<[MmStruct, number, number, string]>(['mm', 'start', 'end', 'reason']),
      /** PTEs of [start, end) in `mm` were installed or changed (set_ptes); fold points. */
      afterSet: new SyncHook<[MmStruct, number, number]>(['mm', 'start', 'end']),
    }),
    sched: Object.freeze({
      /** switch_mm(): `cpu` now runs `next` (prev may be null). */
      switchMm: new SyncHook<[number, MmStruct | null, MmStruct]>(['cpu', 'prev', 'next']),
    }),
    mm: Object.freeze({
      created: new SyncHook<[MmStruct]>(['mm']),
      destroyed: new SyncHook<[MmStruct]>(['mm']),
    }),
    /** Notifications per madvise advice, e.g. `hooks.madvise.for('pageout')`. */
    madvise: new HookMap<SyncHook<[MadviseEvent]>>(() => new SyncHook<[MadviseEvent]>(['event'])),
  });
}

export type Hooks = ReturnType<typeof createHooks>;
