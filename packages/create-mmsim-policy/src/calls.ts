/**
 * How many times each hook fires in templates/test/scenario.yaml (linux-6.18, x86), counted by
 * a tap that passes every decision on: the numbers a scaffold's scenario test expects of its
 * counters. The scaffold test (test/scaffold.test.ts) builds a scaffold tapping every hook and
 * runs its tests, so these are checked against core on every run; a new hook in core's
 * catalogue fails test/hooks.test.ts until it is counted here.
 */
export const SCENARIO_CALLS: Readonly<Record<string, number>> = Object.freeze({
  'fault.entered': 49,
  'fault.exited': 49,
  'fault.anonOrders': 31,
  'fault.beforeWpReuse': 18,
  'fault.wpReuse': 18,
  'fault.cowOrder': 16,
  'fault.swapinWritable': 15,
  'fault.swapinSkipCache': 15,
  'fault.gupUnshare': 1,
  'fault.handled': 49,
  'fork.pteTable': 1,
  'fork.page': 16,
  // nothing shares a PTE table in the scenario (only a fork.pteTable tap answering 'shared' does)
  'fork.unshareTable': 0,
  'fork.done': 1,
  'reclaim.shouldReclaim': 16,
  'reclaim.unmapFlush': 16,
  'reclaim.reclaimed': 15,
  // MADV_PAGEOUT ages no PTEs from v6.9 (pageoutKeepsYoung): its flush requests are try_to_unmap()'s only
  'tlbFlush.request': 33,
  'pgtable.freed': 3,
  'pte.beforeChange': 34,
  'pte.afterSet': 50,
  'sched.switchMm': 4,
  'mm.created': 2,
  'mm.destroyed': 1,
});

/** The kernel preset the scaffold's scenario, soundness test and check script use. */
export const SCAFFOLD_KERNEL = 'linux-6.18';
