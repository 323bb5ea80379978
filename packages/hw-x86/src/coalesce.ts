import { PTE, type Kernel } from '@mmsim/core';

/**
 * AMD-style PTE coalescing (Zen: four 4 KiB translations in one entry). The aligned group of
 * 4 PTEs around `pteSlot` coalesces when all are present, accessed, not PROT_NONE, map 4
 * physically contiguous frames starting at a 4-aligned PFN, and have the same write bit.
 * Returns the group's first PFN, or -1. `dirty` receives whether all 4 are dirty.
 */
export function coalescedBase(k: Kernel, vpn: number, pfn: number, pteSlot: number, out: { dirty: boolean }): number {
  const pt = k.pt;
  const off = vpn & 3;
  if ((pteSlot & 3) !== off) return -1;
  const base = pfn - off;
  if ((base & 3) !== 0) return -1;
  const s0 = pteSlot - off;
  const w = pt.fl[pteSlot]! & PTE.write;
  let dirty = true;
  for (let j = 0; j < 4; j++) {
    const fl = pt.fl[s0 + j]!;
    if ((fl & (PTE.present | PTE.young)) !== (PTE.present | PTE.young)) return -1;
    if ((fl & (PTE.table | PTE.protNone | PTE.swap)) !== 0) return -1;
    if ((fl & PTE.write) !== w) return -1;
    if (pt.val[s0 + j] !== base + j) return -1;
    if ((fl & PTE.dirty) === 0) dirty = false;
  }
  out.dirty = dirty;
  return base;
}
