import type { MmStruct } from '@mmsim/core';

/**
 * mm->context on x86: a unique ctx_id (never reused, unlike ASIDs) and tlb_gen, the flush
 * generation bumped by every flush request (inc_mm_tlb_gen) and by arch_tlbbatch_add_mm().
 * Kept in core's `mm.hwContext` slot.
 */
export class X86MmContext {
  tlbGen = 1;
  constructor(readonly ctxId: number) {}
}

export function mmContext(mm: MmStruct): X86MmContext {
  let c = mm.hwContext as X86MmContext | undefined;
  if (!(c instanceof X86MmContext)) {
    c = new X86MmContext(mm.id);
    mm.hwContext = c;
  }
  return c;
}
