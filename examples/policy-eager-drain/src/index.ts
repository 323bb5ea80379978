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
    apply({ hooks, kernel, stats }) {
      const drains = stats.define('eager_drain');
      hooks.fault.wpReuse.tap('eager-drain', (vmf) => {
        if (kernel.f.ref[vmf.head]! > kernel.f.mapcount[vmf.pfn]!) {
          if (allCpus) kernel.lruAddDrainAll();
          else kernel.lruAddDrain(vmf.cpu);
          stats.v[drains]!++;
        }
        return undefined; // no answer: the preset's rule decides on the drained refcount
      });
    },
  };
}
