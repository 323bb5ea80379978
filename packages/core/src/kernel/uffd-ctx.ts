/**
 * The userfaultfd context of an mm (struct userfaultfd_ctx, fs/userfaultfd.c): the features
 * the UFFDIO_API handshake enabled and the messages queued for the monitor (uffd_msg).
 * One context per address space: a scenario's process is its own monitor.
 */
import type { MmStruct } from '../mm/mm-struct.js';
import { SimError } from './kernel.js';
import { VM } from '../mm/vma.js';

/**
 * UFFD_FEATURE_* (include/uapi/linux/userfaultfd.h), by the name after the prefix, lower case.
 * The bit is the kernel's. Not accepted: the shmem / hugetlb ones (MINOR_*, WP_HUGETLBFS_SHMEM),
 * EXACT_ADDRESS and WP_ASYNC (not modelled).
 */
export const UFFD_FEATURES = {
  pagefault_flag_wp: 1 << 0,
  event_fork: 1 << 1,
  event_remap: 1 << 2,
  event_remove: 1 << 3,
  missing_hugetlbfs: 1 << 4,
  missing_shmem: 1 << 5,
  event_unmap: 1 << 6,
  sigbus: 1 << 7,
  thread_id: 1 << 8,
  wp_unpopulated: 1 << 13,
  poison: 1 << 14,
  move: 1 << 16,
} as const;
export type UffdFeature = keyof typeof UFFD_FEATURES;
export const UFFD_FEATURE_NAMES = Object.keys(UFFD_FEATURES) as [UffdFeature, ...UffdFeature[]];

/** _UFFDIO_* ioctl numbers (include/uapi/linux/userfaultfd.h): bits of uffdio_register.ioctls */
export const UFFDIO = { wake: 2, copy: 3, zeropage: 4, move: 5, writeprotect: 6, continue: 7, poison: 8 } as const;
export type UffdIoctl = keyof typeof UFFDIO;
export const UFFD_IOCTL_NAMES = Object.keys(UFFDIO) as [UffdIoctl, ...UffdIoctl[]];

/** UFFD_API */
export const UFFD_API = 0xaa;

/** One uffd_msg: what a read(2) of the userfaultfd returns. */
export type UffdMsg =
  | { event: 'pagefault'; addr: number; write: boolean; wp: boolean }
  | { event: 'fork'; child: string }
  | { event: 'remap'; from: number; to: number; len: number }
  | { event: 'remove'; start: number; end: number }
  | { event: 'unmap'; start: number; end: number };

export class UffdCtx {
  /** ctx->features */
  features = 0;
  /** UFFD_FEATURE_INITIALIZED: UFFDIO_API ran */
  initialized = false;
  /** ctx->fault_pending_wqh and ctx->event_wqh, in arrival order */
  readonly msgs: UffdMsg[] = [];
  has(f: UffdFeature): boolean {
    return (this.features & UFFD_FEATURES[f]) !== 0;
  }
}

const ctxs = new WeakMap<MmStruct, UffdCtx>();

/** The mm's userfaultfd context (created by its first use: userfaultfd(2)). */
export function uffdCtx(mm: MmStruct): UffdCtx {
  let c = ctxs.get(mm);
  if (c === undefined) {
    c = new UffdCtx();
    ctxs.set(mm, c);
  }
  return c;
}

/** The context if the mm has one (no allocation for mms that never used userfaultfd). */
export function uffdCtxOf(mm: MmStruct): UffdCtx | undefined {
  return ctxs.get(mm);
}

/** Whether the mm's context enabled feature `f`. */
export function uffdHas(mm: MmStruct, f: UffdFeature): boolean {
  const c = ctxs.get(mm);
  return c !== undefined && (c.features & UFFD_FEATURES[f]) !== 0;
}

/**
 * UFFDIO_API → userfaultfd_api(): a wrong api or a second handshake is -EINVAL (the context
 * is initialized once: UFFD_FEATURE_INITIALIZED; before v6.x the UFFD_STATE_WAIT_API state).
 */
export function uffdApi(mm: MmStruct, features: readonly UffdFeature[], api = UFFD_API): number {
  const c = uffdCtx(mm);
  if (api !== UFFD_API)
    throw new SimError(`uffdApi: api 0x${api.toString(16)} is not UFFD_API (EINVAL)`, 'einval', 'api');
  if (c.initialized)
    throw new SimError('uffdApi: the userfaultfd is already initialized (EINVAL)', 'einval', 'features');
  let bits = 0;
  for (const f of features) bits |= UFFD_FEATURES[f];
  c.features = bits;
  c.initialized = true;
  return bits;
}

/** dup_userfaultfd() with UFFD_FEATURE_EVENT_FORK: the child's context has the parent's features. */
export function dupUserfaultfd(parent: MmStruct, child: MmStruct, childPid: string): void {
  const p = ctxs.get(parent)!;
  const c = uffdCtx(child);
  c.features = p.features;
  c.initialized = true;
  // dup_fctx() → userfaultfd_event_wait_completion(): UFFD_EVENT_FORK to the parent's monitor
  p.msgs.push({ event: 'fork', child: childPid });
}

/** Queue a non-cooperative event if the context asked for it (userfaultfd_event_wait_completion()). */
export function uffdEvent(mm: MmStruct, f: UffdFeature, msg: UffdMsg): void {
  const c = ctxs.get(mm);
  if (c !== undefined && (c.features & UFFD_FEATURES[f]) !== 0) c.msgs.push(msg);
}

/** VMAs of [start, end) registered with userfaultfd (vma->vm_userfaultfd_ctx.ctx) */
function registered(mm: MmStruct, start: number, end: number): boolean {
  return mm.vmasIn(start, end).some((v) => (v.flags & (VM.uffdMissing | VM.uffdWp | VM.uffdMinor)) !== 0);
}

/**
 * userfaultfd_remove() (MADV_DONTNEED / MADV_FREE), userfaultfd_unmap_prep() (munmap) and
 * mremap_userfaultfd_complete() (mremap): the non-cooperative events of a registered range,
 * queued when the context asked for them. The kernel blocks the caller until the monitor read
 * the event (userfaultfd_event_wait_completion()); here the call goes on at once.
 */
export function uffdRangeEvent(mm: MmStruct, event: 'remove' | 'unmap', start: number, end: number): void {
  const c = ctxs.get(mm);
  if (c === undefined || !c.has(event === 'remove' ? 'event_remove' : 'event_unmap') || !registered(mm, start, end))
    return;
  c.msgs.push({ event, start, end });
}

export function uffdRemapEvent(mm: MmStruct, from: number, to: number, len: number): void {
  const c = ctxs.get(mm);
  if (c === undefined || !c.has('event_remap') || !registered(mm, to, to + len)) return;
  c.msgs.push({ event: 'remap', from, to, len });
}
