import type { MmStruct } from '../mm/mm-struct.js';
import { CpuLruBatches } from '../mem/lru.js';

/** A fault a thread is blocked in (userfaultfd: waiting for the monitor). */
export interface PendingFault {
  vpn: number;
  write: boolean;
  value: number;
  reason: 'uffd-missing' | 'uffd-wp';
}

export class Thread {
  pending: PendingFault | null = null;
  constructor(
    readonly tid: number,
    readonly proc: Process,
    public cpu: number,
    public spin: boolean,
  ) {}
}

export class Process {
  readonly threads: Thread[] = [];
  alive = true;
  constructor(
    readonly pid: string,
    public mm: MmStruct,
  ) {}
  get main(): Thread {
    return this.threads[0]!;
  }
}

export class Cpu {
  /** the thread running here (current) */
  curr: Thread | null = null;
  /** the mm loaded in this CPU's MMU (active_mm; stays loaded in lazy-TLB mode) */
  loadedMm: MmStruct | null = null;
  readonly lru = new CpuLruBatches();
  /** current->tlb_ubc of whoever reclaims on this CPU: batched unmap flush state */
  readonly tlbUbc = { flushRequired: false, writable: false, mms: new Set<MmStruct>() };
  constructor(readonly id: number) {}
}
