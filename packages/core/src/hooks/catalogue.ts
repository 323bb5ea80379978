import { HookMap, SyncBailHook, SyncHook, SyncWaterfallHook } from 'tapable';
import type { MmStruct } from '../mm/mm-struct.js';
import type {
  FaultContext,
  FaultEnteredEvent,
  FaultEvent,
  FaultExitedEvent,
  ForkPageContext,
  ForkTableContext,
  MadviseEvent,
  ReclaimContext,
  TableFreedEvent,
  TableUnshareContext,
  WpAnswer,
} from '../api/contexts.js';
import type { FlushRequest } from './contexts.js';
import type { Advice } from '../kernel/madvise.js';

/**
 * Every hook of the simulated kernel, in one frozen object grouped by the four decision
 * points (fault, fork, reclaim, tlbFlush) plus notifications. Bail hooks: the first tap that
 * returns a value decides; `undefined` passes. Waterfall hooks: each tap refines the value.
 * Plain hooks: notifications. Each decision documents what happens when nobody taps it.
 * docs/policy-api.md has the guide; HOOK_SPECS below says what each hook accepts as an answer.
 */
export function createHooks() {
  return Object.freeze({
    fault: Object.freeze({
      /**
       * Notification: handle_mm_fault() was entered, before pgfault is counted and the entry
       * cost charged. Tools (e.g. @mmsim/trace) take a fault's begin time here.
       */
      entered: new SyncHook<[FaultEnteredEvent]>(['event']),
      /**
       * Notification: handle_mm_fault() returned, with its outcome. Exactly one per `entered`
       * (and per pgfault), unless the fault threw (the run then stops). A fault may report
       * several `handled` events in between (a swap-in that continues in do_wp_page()) or none
       * (userfaultfd, SIGSEGV, an unshare with nothing to do).
       */
      exited: new SyncHook<[FaultExitedEvent]>(['event']),
      /**
       * Orders a new anonymous folio may have (bit n = order n), as thp_vma_allowable_orders()
       * returns them. do_anonymous_page() / alloc_anon_folio() then pick the highest order whose
       * aligned range fits the VMA and PMD with all PTEs none, falling back to order 0.
       * Untapped: 0b1 (order 0 only).
       */
      anonOrders: new SyncWaterfallHook<[number, FaultContext]>(['orders', 'ctx']),
      /**
       * do_wp_page(), before the reuse decision: a side-effect point (drain a batch, free the
       * swap cache) for policies that change what `wpReuse` will see. No answer.
       */
      beforeWpReuse: new SyncHook<[FaultContext]>(['ctx']),
      /**
       * do_wp_page() on an anonymous folio: 'reuse' it in place, 'copy' it, or reuse a range of
       * a large folio (`ctx.reuseRange(start, nr)`, applied by core).
       * Untapped: reuse iff the folio is order 0 and its refcount is 1 (the v5.9 rule,
       * commit 09854ba94c6a); large folios are copied (PMD: reuse when exclusive or refcount 1).
       */
      wpReuse: new SyncBailHook<[FaultContext], WpAnswer | undefined>(['ctx']),
      /** Order of the replacement folio in wp_page_copy(). Untapped: 0 (one page). */
      cowOrder: new SyncWaterfallHook<[number, FaultContext]>(['order', 'ctx']),
      /**
       * do_swap_page(): map the swapped-in page writable (and dirty) right away.
       * Untapped: never (the page is mapped read-only; a write then takes do_wp_page()).
       */
      swapinWritable: new SyncBailHook<[FaultContext], boolean | undefined>(['ctx']),
      /**
       * do_swap_page(): skip the swap cache for this swap-in (SWP_SYNCHRONOUS_IO path).
       * Untapped: skip when the device is synchronous and the slot's swap count is 1.
       */
      swapinSkipCache: new SyncBailHook<[FaultContext], boolean | undefined>(['ctx']),
      /**
       * GUP with FOLL_PIN and without FOLL_WRITE on a present anon page: unshare it first
       * (FAULT_FLAG_UNSHARE, gup_must_unshare()) so the pin and the mapping stay one page.
       * Untapped: never (the historical behaviour that allowed CVE-2020-29374).
       */
      gupUnshare: new SyncBailHook<[FaultContext], boolean | undefined>(['ctx']),
      /** Notification after every handled fault. */
      handled: new SyncHook<[FaultEvent]>(['event']),
    }),
    fork: Object.freeze({
      /**
       * copy_page_range(): per PTE table of a private anon VMA. Return 'copy' for the classic
       * path, or 'shared' after linking the table into the child (`ctx.tables.share()`;
       * copy-on-write page tables, On-Demand Fork). Untapped: 'copy'.
       */
      pteTable: new SyncBailHook<[ForkTableContext], 'copy' | 'shared' | undefined>(['ctx']),
      /**
       * copy_present_pte(): per anon page, 'share' it (wrprotect both mappings) or 'copy' it
       * eagerly into the child (page_needs_cow_for_dma / folio_try_dup_anon_rmap).
       * Untapped: 'share'.
       */
      page: new SyncBailHook<[ForkPageContext], 'share' | 'copy' | undefined>(['ctx']),
      /**
       * A shared PTE table is about to be modified: return the table id to use instead
       * (`ctx.tables.copy()`, `.reuse()`, `.keep()`, or -1 after `.drop()`). Untapped: an
       * internal error, since a table is only shared when a fork.pteTable tap shared it.
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
    pgtable: Object.freeze({
      /**
       * A page-table page left an address space: freed (free_pte_range, free_pgtables), or a
       * shared table lost one user's reference. Notification.
       */
      freed: new SyncHook<[TableFreedEvent]>(['event']),
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
    madvise: new HookMap<SyncHook<[MadviseEvent]>>(() => new SyncHook<[MadviseEvent]>(['event'])) as HookMap<
      SyncHook<[MadviseEvent]>
    > & { for(key: Advice): SyncHook<[MadviseEvent]> },
  });
}

/** The whole catalogue, with the internal types hardware models see. */
export type Hooks = ReturnType<typeof createHooks>;

/** tapable kind of a hook, by meaning. */
export type HookKind = 'bail' | 'waterfall' | 'notify';

/** What a hook accepts back from a tap: null when the answer is fine, else what was expected. */
export interface HookSpec {
  readonly kind: HookKind;
  /** the answers the hook takes, for messages */
  readonly expected: string;
  check(answer: unknown, args: readonly unknown[]): string | null;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const oneOf =
  (...xs: readonly unknown[]) =>
  (v: unknown) =>
    v === undefined || xs.includes(v);
const bail = (expected: string, ok: (v: unknown, args: readonly unknown[]) => boolean | string): HookSpec => ({
  kind: 'bail',
  expected,
  check(v, args) {
    const r = ok(v, args);
    return r === true ? null : typeof r === 'string' ? r : `expected ${expected}`;
  },
});
const waterfall = (expected: string, ok: (v: unknown) => boolean): HookSpec => ({
  kind: 'waterfall',
  expected,
  check: (v) => (ok(v) ? null : `expected ${expected}`),
});
const notify: HookSpec = { kind: 'notify', expected: 'nothing', check: () => null };

/** Range answers of fault.wpReuse: the object from ctx.reuseRange(), naming PTEs of this folio around the fault. */
function checkRange(v: unknown, args: readonly unknown[]): boolean | string {
  const ctx = args[0] as FaultContext & { range?: unknown };
  if (v !== ctx.range) return 'a range answer must be the value of ctx.reuseRange(start, nr)';
  const { start, nr } = v as { start: number; nr: number };
  if (ctx.level !== 'pte') return 'a range answer is only valid on a PTE-mapped folio (level "pte")';
  if (!isInt(start) || !isInt(nr) || nr < 1 || nr > ctx.folio.nrPages)
    return `range [${start}, +${nr}) is not 1..${ctx.folio.nrPages} pages`;
  if (ctx.address < start || ctx.address >= start + nr)
    return `range [${start}, +${nr}) does not contain the faulting address ${ctx.address}`;
  if (start < ctx.vma.start || start + nr > ctx.vma.end) return `range [${start}, +${nr}) leaves the VMA`;
  for (let v2 = start; v2 < start + nr; v2++) {
    const pfn = ctx.pfnAt(v2);
    if (pfn < 0 || !ctx.folio.contains(pfn) || ctx.markedAt(v2))
      return `PTE ${v2} of range [${start}, +${nr}) does not map this folio`;
  }
  return true;
}

/** The answer contract of every hook (see docs/policy-api.md). */
export const HOOK_SPECS: Readonly<Record<string, HookSpec>> = Object.freeze({
  'fault.entered': notify,
  'fault.exited': notify,
  'fault.anonOrders': waterfall('an order bitmask (integer 0..0x3ff)', (v) => isInt(v) && v >= 0 && v <= 0x3ff),
  'fault.beforeWpReuse': notify,
  'fault.wpReuse': bail(
    "'reuse', 'copy', ctx.reuseRange(start, nr) or undefined",
    (v, a) => oneOf('reuse', 'copy')(v) || (typeof v === 'object' && v !== null ? checkRange(v, a) : false),
  ),
  'fault.cowOrder': waterfall('a folio order (integer 0..9)', (v) => isInt(v) && v >= 0 && v <= 9),
  'fault.swapinWritable': bail('true, false or undefined', oneOf(true, false)),
  'fault.swapinSkipCache': bail('true, false or undefined', oneOf(true, false)),
  'fault.gupUnshare': bail('true, false or undefined', oneOf(true, false)),
  'fault.handled': notify,
  'fork.pteTable': bail("'copy', 'shared' or undefined", oneOf('copy', 'shared')),
  'fork.page': bail("'share', 'copy' or undefined", oneOf('share', 'copy')),
  'fork.unshareTable': bail(
    'a PTE table id (integer >= -1) or undefined',
    (v) => v === undefined || (isInt(v) && v >= -1),
  ),
  'fork.done': notify,
  'reclaim.shouldReclaim': bail('true, false or undefined', oneOf(true, false)),
  'reclaim.unmapFlush': bail("'batch', 'immediate' or undefined", oneOf('batch', 'immediate')),
  'reclaim.reclaimed': notify,
  'tlbFlush.request': notify,
  'pgtable.freed': notify,
  'pte.beforeChange': notify,
  'pte.afterSet': notify,
  'sched.switchMm': notify,
  'mm.created': notify,
  'mm.destroyed': notify,
});

/** The spec of `hook` ('group.name'; HookMap members are notifications). */
export function hookSpec(hook: string): HookSpec {
  return HOOK_SPECS[hook] ?? notify;
}
