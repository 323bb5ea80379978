/**
 * The hooks as policies see them: the same objects as the catalogue (hooks/catalogue.ts),
 * typed with read-only views and a tap interface of mmsim's own (stable across tapable versions).
 */
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
} from './contexts.js';
import type { MmView } from './views.js';
import type { Advice } from '../kernel/madvise.js';

/**
 * When a tap runs relative to the kernel preset's taps (Vite's `enforce`):
 * 'pre' before them, 'post' after them, on every kind of hook.
 */
export type Enforce = 'pre' | 'post';

export interface TapOptions {
  /** the tap's name (the plugin's name by default in messages) */
  name: string;
  /** 'pre' or 'post' (see Enforce); default: the plugin's `enforce`, else its precedence */
  enforce?: Enforce;
  /** an explicit tapable stage (lower runs first); overrides `enforce` */
  stage?: number;
  /** run before the taps of these names */
  before?: string | string[];
}

/** A hook a policy can tap. */
export interface Tappable<A extends unknown[], R> {
  tap(options: string | TapOptions, fn: (...args: A) => R): void;
  isUsed(): boolean;
}

/** Bail hook: the first tap that answers (not undefined) decides. */
export type BailHook<A extends unknown[], R> = Tappable<A, R | undefined>;
/** Waterfall hook: each tap refines the value (its first argument) and returns it. */
export type WaterfallHook<V, A extends unknown[]> = Tappable<[V, ...A], V>;
/** Notification: return nothing. */
export type NotifyHook<A extends unknown[]> = Tappable<A, void>;

/** A flush request as policies see it (tlbFlush.request). */
export interface FlushEvent {
  readonly kind: 'range' | 'mm' | 'batch-add' | 'batch-flush' | 'fullmm';
  readonly mm: MmView | null;
  readonly cpu: number;
  readonly start: number;
  readonly end: number;
  readonly strideShift: number;
  /** tlb_flush() of an mmu_gather: strideShift is tlb_get_unmap_shift() */
  readonly gather: boolean;
  readonly freedTables: boolean;
  readonly writable: boolean;
  readonly reason: string;
}

/** The policy-facing hook catalogue (frozen). docs/policy-api.md documents every hook. */
export interface PolicyHooks {
  readonly fault: {
    readonly entered: NotifyHook<[FaultEnteredEvent]>;
    readonly exited: NotifyHook<[FaultExitedEvent]>;
    readonly anonOrders: WaterfallHook<number, [FaultContext]>;
    readonly beforeWpReuse: NotifyHook<[FaultContext]>;
    readonly wpReuse: BailHook<[FaultContext], WpAnswer>;
    readonly cowOrder: WaterfallHook<number, [FaultContext]>;
    readonly swapinWritable: BailHook<[FaultContext], boolean>;
    readonly swapinSkipCache: BailHook<[FaultContext], boolean>;
    readonly gupUnshare: BailHook<[FaultContext], boolean>;
    readonly handled: NotifyHook<[FaultEvent]>;
  };
  readonly fork: {
    readonly pteTable: BailHook<[ForkTableContext], 'copy' | 'shared'>;
    readonly page: BailHook<[ForkPageContext], 'share' | 'copy'>;
    readonly unshareTable: BailHook<[TableUnshareContext], number>;
    readonly done: NotifyHook<[MmView, MmView]>;
  };
  readonly reclaim: {
    readonly shouldReclaim: BailHook<[ReclaimContext], boolean>;
    readonly unmapFlush: BailHook<[ReclaimContext], 'batch' | 'immediate'>;
    readonly reclaimed: NotifyHook<[ReclaimContext]>;
  };
  readonly tlbFlush: { readonly request: NotifyHook<[FlushEvent]> };
  readonly pgtable: { readonly freed: NotifyHook<[TableFreedEvent]> };
  readonly pte: {
    readonly beforeChange: NotifyHook<[MmView, number, number, string]>;
    readonly afterSet: NotifyHook<[MmView, number, number]>;
  };
  readonly sched: { readonly switchMm: NotifyHook<[number, MmView | null, MmView]> };
  readonly mm: { readonly created: NotifyHook<[MmView]>; readonly destroyed: NotifyHook<[MmView]> };
  /** per-advice notifications: `hooks.madvise.for('pageout').tap(...)` */
  readonly madvise: { for(advice: Advice): NotifyHook<[MadviseEvent]> };
}
