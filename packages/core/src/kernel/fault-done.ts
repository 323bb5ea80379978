/**
 * The end of a handled fault: the fault.handled notification (what perf_sw_event(PERF_COUNT_SW_PAGE_FAULTS*)
 * and the mm_fault tracepoints report in the kernel). One helper for the PTE (fault.ts) and PMD
 * (huge-pmd-fault.ts) paths and the large-folio swap-in (large-folio.ts).
 */
import type { FaultKind } from '../api/contexts.js';
import type { MmStruct } from '../mm/mm-struct.js';
import type { Kernel } from './kernel.js';

export function faultDone(k: Kernel, mm: MmStruct, vpn: number, write: boolean, kind: FaultKind, order: number): void {
  if (k.hooks.fault.handled.isUsed()) k.hooks.fault.handled.call({ mm, vpn, cpu: k.cpu, write, kind, order });
}
