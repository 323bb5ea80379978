/**
 * `large-folios`: a test-support policy giving anonymous faults large folios (mTHP-like), so
 * fuzzing exercises large-folio paths whatever the preset does. It taps `fault.anonOrders`
 * and allows `orders` (default 2 and 4: 16 KiB and 64 KiB folios) on every VMA, or only on
 * MADV_HUGEPAGE VMAs with `mode: 'madvise'`. MADV_NOHUGEPAGE VMAs keep order 0.
 */
import { VM, type MmPlugin } from '@mmsim/core';

export interface LargeFoliosOptions {
  orders?: number[];
  mode?: 'always' | 'madvise';
}

export function largeFoliosPolicy(options: LargeFoliosOptions = {}): MmPlugin {
  const orders = options.orders ?? [2, 4];
  for (const o of orders)
    if (!Number.isInteger(o) || o < 1 || o > 8) throw new Error(`large-folios: order ${o} is not in 1..8`);
  const mask = orders.reduce((m, o) => m | (1 << o), 0);
  const mode = options.mode ?? 'always';
  const plugin: MmPlugin = {
    name: 'check-large-folios',
    api: '^1.0.0',
    apply(ctx) {
      ctx.hooks.fault.anonOrders.tap('check-large-folios', (cur, vmf) => {
        const fl = vmf.vma.flags;
        if ((fl & VM.nohugepage) !== 0) return cur;
        if (mode === 'madvise' && (fl & VM.hugepage) === 0) return cur;
        return cur | mask;
      });
    },
  };
  STATELESS.add(plugin);
  return plugin;
}

/** The plugins made here: their taps keep no state between calls (fuzz/reuse.ts may reuse their systems). */
export const STATELESS = new WeakSet<object>();

export default largeFoliosPolicy;
