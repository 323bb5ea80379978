/**
 * Which folio orders an anonymous fault may use: mainline's thp_vma_allowable_orders()
 * (multi-size THP, v6.8) and the RFC v2's preferred order (seed 004).
 */
import { PMD_ORDER, VM, type KernelConfig, type ThpMode, type VmaView } from '@mmsim/core';

/** The THP settings as policies see them (`ctx.config.thp`, read-only). */
export type ThpSettings = Readonly<KernelConfig['thp']>;

/** Anonymous mTHP orders (THP_ORDERS_ALL_ANON: order 0 and order 1 excluded). */
export const ANON_ORDERS = [2, 3, 4, 5, 6, 7, 8, 9] as const;

/** sysfs spelling of an order's size: 4 → "64K". */
export const sizeKey = (order: number): string => `${4 << order}K`;

/**
 * The per-size `enabled` of hugepages-<size>kB; sizes not configured have the kernel's boot
 * defaults (2048K inherit, the others never).
 */
export function sizeMode(thp: ThpSettings, order: number): ThpMode {
  return thp[sizeKey(order)] ?? (order === PMD_ORDER ? 'inherit' : 'never');
}

/**
 * thp_vma_allowable_orders() for an anonymous VMA on a page fault (mm/huge_memory.c):
 * always orders, madvise orders when VM_HUGEPAGE, inherit orders when the top-level switch is
 * "always" (or "madvise" and VM_HUGEPAGE); nothing with VM_NOHUGEPAGE.
 */
export function mthpOrders(thp: ThpSettings, vma: VmaView): number {
  if ((vma.flags & VM.nohugepage) !== 0) return 0;
  const hugepage = (vma.flags & VM.hugepage) !== 0;
  const top = thp.top ?? 'never';
  let mask = 0;
  for (const o of ANON_ORDERS) {
    let mode = sizeMode(thp, o);
    if (mode === 'inherit') mode = top === 'inherit' ? 'never' : top;
    if (mode === 'always' || (mode === 'madvise' && hugepage)) mask |= 1 << o;
  }
  return mask;
}

/**
 * Before v6.8 (no per-size switches, 3485b88390b0): the PMD order only, decided by the global
 * `enabled` switch (hugepage_vma_check() / transparent_hugepage_active()).
 */
export function pmdOrders(thp: ThpSettings, vma: VmaView): number {
  return mthpOrders({ top: thp.top ?? 'never' }, vma) & (1 << PMD_ORDER);
}

/**
 * The RFC v2's orders: every order from 2 up to `maxOrder` (arch_wants_pte_order(), order-4 =
 * 64 KiB by default), no sysfs switch; the PMD order still follows the THP settings. Core's
 * alloc_anon_folio() then takes the highest whose aligned range fits the VMA and the PMD with
 * all PTEs none.
 */
export function rfcOrders(thp: ThpSettings, vma: VmaView, maxOrder: number): number {
  if ((vma.flags & VM.nohugepage) !== 0) return 0;
  let mask = mthpOrders(thp, vma) & (1 << PMD_ORDER);
  for (let o = 2; o <= Math.min(maxOrder, PMD_ORDER - 1); o++) mask |= 1 << o;
  return mask;
}
