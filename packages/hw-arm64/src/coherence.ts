import { SimError, type Kernel, type MmStruct } from '@mmsim/core';

/**
 * TLB coherence checking: a hit must translate as a page walk would now. A hit that maps
 * another frame, or permits an access the page table no longer permits, means a PTE changed
 * with no invalidation since the entry was filled: a missing TLB flush.
 */
export function checkCoherent(
  k: Kernel,
  cpu: number,
  mm: MmStruct,
  vpn: number,
  write: boolean,
  pfn: number,
  level: string,
): void {
  const now = k.translate(mm, vpn, write);
  if (now === pfn) return;
  throw new SimError(
    `stale TLB entry: cpu ${cpu} (${level}) translates page 0x${vpn.toString(16)} of mm ${mm.id} to pfn ${pfn} for a ${write ? 'write' : 'read'}, ` +
      `but the page table now ${now < 0 ? 'does not permit the access' : `maps pfn ${now}`} and no TLB invalidation happened in between`,
    'internal',
  );
}
