import { SimError, type Kernel, type MmStruct } from '@mmsim/core';

/**
 * TLB coherence check for one hit: the translation the TLB used must be what a page walk
 * finds now, with the permission the access needs. A difference means the kernel changed the
 * page table without flushing this CPU (entries only survive flushes they were not covered by).
 */
export function checkHit(
  k: Kernel,
  cpu: number,
  mm: MmStruct,
  vpn: number,
  write: boolean,
  pfn: number,
  writable: boolean,
): void {
  const now = k.translate(mm, vpn, write);
  if (now === pfn) return;
  const addr = `0x${(vpn * 4096).toString(16)}`;
  const walk =
    now < 0 ? `the page table does not permit the ${write ? 'write' : 'read'}` : `the page table maps pfn ${now}`;
  throw new SimError(
    `stale TLB entry: cpu ${cpu} ${write ? 'wrote' : 'read'} ${addr} of mm ${mm.id} through a cached ` +
      `${writable ? 'writable' : 'read-only'} translation to pfn ${pfn}, but ${walk} (a TLB flush is missing)`,
    'internal',
  );
}
