/**
 * kswapd0 (mm/vmscan.c: kswapd(), balance_pgdat(), wakeup_kswapd()), deterministic: a kernel
 * thread with its own clock. An allocation that finds free memory below the low watermark
 * wakes it (at the allocating CPU's time); before every later allocation checks the
 * watermarks, kswapd catches up to the allocating CPU's clock, one balance_pgdat() priority
 * round (kswapd_shrink_node()) at a time, each round priced by the cost model as it runs. So an
 * allocator faster than kswapd's reclaim reaches the min watermark and reclaims directly.
 *
 * kswapd runs on the last CPU (its flushes start there); its cycles go to its own clock, not to
 * the phase's, while the IPIs it sends are charged to the CPUs that take them.
 */
import type { Kernel } from './kernel.js';
import { freePages } from './page-alloc.js';
import {
  DEF_PRIORITY,
  MAX_RECLAIM_RETRIES,
  SWAP_CLUSTER_MAX,
  canReclaimAnon,
  inactiveIsLow,
  shrinkActiveAnon,
  shrinkNode,
  snapshotRefaults,
} from './vmscan.js';
import { LRU } from '../mem/lru.js';

export class Kswapd {
  /** sleeping on kswapd_wait, or balancing */
  awake = false;
  /** kswapd's clock, in cycles on the allocating CPUs' time line */
  now = 0;
  /** pgdat->kswapd_failures */
  failures = 0;
  /** balance_pgdat() state: the priority and what this run reclaimed */
  priority = DEF_PRIORITY;
  reclaimedThisRun = 0;
  /** balance_pgdat() rounds run */
  rounds = 0;
}

/** pgdat_balanced(): free memory above the high watermark (order 0). */
function balanced(k: Kernel): boolean {
  return freePages(k) > k.wmark!.high;
}

/** wakeup_kswapd(): not when hopeless (kswapd_failures) or already balanced. */
export function wakeupKswapd(k: Kernel): void {
  const d = k.kswapd;
  if (d.awake) return;
  if (d.failures >= MAX_RECLAIM_RETRIES || balanced(k)) return;
  d.awake = true;
  d.now = Math.max(d.now, k.clock.byCpu[k.cpu]!);
  d.priority = DEF_PRIORITY;
  d.reclaimedThisRun = 0;
}

/** Run kswapd up to the allocating CPU's clock. */
export function kswapdCatchUp(k: Kernel): void {
  const d = k.kswapd;
  if (!d.awake) return;
  const target = k.clock.byCpu[k.cpu]!;
  const kcpu = k.cpus.length - 1;
  const saved = k.cpu;
  const s = k.vmscan;
  while (d.awake && d.now < target) {
    const clock = k.clock;
    const cycles0 = clock.cycles;
    const cpu0 = clock.byCpu[kcpu]!;
    k.cpu = kcpu;
    s.inReclaim = true;
    try {
      round(k);
    } finally {
      s.inReclaim = false;
      k.cpu = saved;
    }
    const spent = clock.byCpu[kcpu]! - cpu0;
    // kswapd's own work leaves the acting CPU's time line and the phase's cycles
    clock.cycles = cycles0;
    clock.byCpu[kcpu] = cpu0;
    d.now += Math.max(1, spent);
    d.rounds++;
  }
}

/** One round of balance_pgdat()'s priority loop, then kswapd_try_to_sleep() when done. */
function round(k: Kernel): void {
  const d = k.kswapd;
  const sc = k.vmscan.kswapdSc;
  if (balanced(k)) {
    sleep(k);
    return;
  }
  // kswapd_age_node(): background aging of the anon lists (lru_gen_age_node(): none, no min_ttl_ms)
  if (k.lrugen === null && canReclaimAnon(k) && inactiveIsLow(k, LRU.inactiveAnon)) shrinkActiveAnon(k);
  // kswapd_shrink_node(): reclaim at least the high watermark's worth (SWAP_CLUSTER_MAX)
  sc.nrToReclaim = Math.max(k.wmark!.high, SWAP_CLUSTER_MAX);
  sc.nrReclaimed = 0;
  sc.nrScanned = 0;
  sc.priority = d.priority;
  sc.forceDeactivate = false;
  shrinkNode(k, sc);
  // balance_pgdat()'s sc.priority: lru_gen's set_initial_priority() may have lowered it
  d.priority = sc.priority;
  const raise = sc.nrScanned < sc.nrToReclaim;
  d.reclaimedThisRun += sc.nrReclaimed;
  if (raise || sc.nrReclaimed === 0) d.priority--;
  if (d.priority >= 1) return;
  // end of balance_pgdat()
  if (d.reclaimedThisRun === 0) d.failures++;
  snapshotRefaults(k);
  d.priority = DEF_PRIORITY;
  d.reclaimedThisRun = 0;
  // prepare_kswapd_sleep(): balanced, or hopeless
  if (balanced(k) || d.failures >= MAX_RECLAIM_RETRIES) sleep(k);
}

function sleep(k: Kernel): void {
  const d = k.kswapd;
  snapshotRefaults(k);
  d.awake = false;
}
