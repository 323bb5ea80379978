/** The compute op: user-mode work between memory accesses (the workload's own instructions). */
import type { OpHandler } from './executor.js';

/**
 * `compute {pid, cycles, cpu?}`: the thread of `pid` (on `cpu`) runs `cycles` cycles in user
 * mode that touch no new memory (the compiler's own work between its accesses). Charged as user
 * cycles (CostClock.chargeUser) on the thread's CPU; no counter changes, no TLB traffic.
 */
export const compute: OpHandler<'compute'> = (x, s, where) => {
  const k = x.k;
  const p = x.proc(s.pid, where);
  const t = x.thread(p, s.cpu, where);
  if (t.pending) x.fail(where, 'pid', `the thread of "${s.pid}" on cpu ${t.cpu} is blocked in userfaultfd`);
  k.runOn(t);
  if (s.cycles > 0) k.clock.chargeUser(k.cpu, s.cycles);
};
