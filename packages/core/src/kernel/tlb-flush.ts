/**
 * TLB flush requests handed to the hardware model (arch flush_tlb_range / flush_tlb_page /
 * flush_tlb_mm), and reclaim's deferred flush batching (mm/rmap.c: set_tlb_ubc_flush_pending,
 * try_to_unmap_flush[_dirty], flush_tlb_batched_pending).
 */
import type { FlushKind } from '../hooks/contexts.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { C } from '../stats/counters.js';
import { PAGE_SHIFT } from '../units.js';
import type { Kernel } from './kernel.js';

/** Issue a flush request to the hardware (tlbFlush.request), in the kernel's one reused request object. */
export function flush(
  k: Kernel,
  kind: FlushKind,
  mm: MmStruct | null,
  start: number,
  end: number,
  reason: string,
  freedTables = false,
  writable = false,
  strideShift = PAGE_SHIFT,
  gather = false,
): void {
  const r = k.flushReq;
  r.kind = kind;
  r.mm = mm;
  r.cpu = k.cpu;
  r.start = start;
  r.end = end;
  r.strideShift = strideShift;
  r.gather = gather;
  r.freedTables = freedTables;
  r.writable = writable;
  r.reason = reason;
  k.stats.v[C.tlb_flush_request]!++;
  k.hooks.tlbFlush.request.call(r);
}

/** flush_tlb_page() as done by ptep_clear_flush(). */
export function flushPage(k: Kernel, mm: MmStruct, vpn: number, reason: string): void {
  flush(k, 'range', mm, vpn, vpn + 1, reason);
}

/** flush_tlb_mm() */
export function flushMm(k: Kernel, mm: MmStruct, reason: string): void {
  flush(k, 'mm', mm, 0, Number.MAX_SAFE_INTEGER, reason);
}

/** flush_tlb_batched_pending(): a reclaim elsewhere left this mm's flush pending. */
export function flushBatchedPending(k: Kernel, mm: MmStruct): void {
  if (mm.tlbFlushBatched) {
    mm.tlbFlushBatched = false;
    flushMm(k, mm, 'flush_tlb_batched_pending');
  }
}

/** set_tlb_ubc_flush_pending(): reclaim unmapped a PTE of `mm` and deferred the flush. */
export function tlbBatchAdd(k: Kernel, mm: MmStruct, dirty: boolean, vpn: number): void {
  const ubc = k.cpus[k.cpu]!.tlbUbc;
  ubc.flushRequired = true;
  if (dirty) ubc.writable = true;
  ubc.mms.add(mm);
  mm.tlbFlushBatched = true;
  flush(k, 'batch-add', mm, vpn, vpn + 1, 'try_to_unmap', false, dirty);
}

/** try_to_unmap_flush() / try_to_unmap_flush_dirty() */
export function tlbBatchFlush(k: Kernel, dirtyOnly: boolean): void {
  const ubc = k.cpus[k.cpu]!.tlbUbc;
  if (!ubc.flushRequired || (dirtyOnly && !ubc.writable)) return;
  flush(k, 'batch-flush', null, 0, 0, dirtyOnly ? 'try_to_unmap_flush_dirty' : 'try_to_unmap_flush');
  ubc.flushRequired = false;
  ubc.writable = false;
  ubc.mms.clear();
}
