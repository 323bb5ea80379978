import type { MmPlugin } from '@mmsim/core';

/**
 * Example policy: before do_wp_page() decides, drain every CPU's LRU batch when the page has
 * more references than mappings, then let the kernel's own rule decide. A research variant of
 * Nadav Amit's conditional drain (seed 000) that also reaches other CPUs' batches.
 */
export default function eagerDrain(options: { allCpus?: boolean } = {}): MmPlugin {
  const allCpus = options.allCpus ?? true;
  return {
    name: 'eager-drain',
    api: '^1.0.0',
    apply({ hooks, stats }) {
      const drains = stats.define('eager_drain');
      // the side-effect point before the reuse decision: no answer, whoever answers
      // fault.wpReuse (the preset's rule) then sees the drained refcount
      hooks.fault.beforeWpReuse.tap('eager-drain', (ctx) => {
        if (ctx.folio.refcount > ctx.page.mapcount) {
          if (allCpus) ctx.lruAddDrainAll();
          else ctx.lruAddDrain();
          drains.inc();
        }
      });
    },
  };
}
