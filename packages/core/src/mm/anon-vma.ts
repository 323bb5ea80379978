import type { MmStruct } from './mm-struct.js';
import type { Vma } from './vma.js';

/**
 * Reverse mapping for anonymous memory. Linux links a child's VMA to its parent's anon_vma
 * through anon_vma_chain; here a family (the root anon_vma) lists every VMA that may map
 * its folios, and a folio records its family and linear index (folio->mapping, ->index).
 */
export class AnonVmaRegistry {
  private readonly families: Array<Array<{ mm: MmStruct; vma: Vma }>> = [];

  create(): number {
    this.families.push([]);
    return this.families.length - 1;
  }
  link(id: number, mm: MmStruct, vma: Vma): void {
    this.families[id]!.push({ mm, vma });
  }
  unlink(id: number, vma: Vma): void {
    const f = this.families[id];
    if (!f) return;
    const i = f.findIndex((e) => e.vma === vma);
    if (i >= 0) f.splice(i, 1);
  }
  members(id: number): ReadonlyArray<{ mm: MmStruct; vma: Vma }> {
    return this.families[id] ?? [];
  }
}
