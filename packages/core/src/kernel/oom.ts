/**
 * out_of_memory() (mm/oom_kill.c): select_bad_process() picks the task with the largest
 * oom_badness() (RSS + swap entries + page-table pages) and oom_kill_process() kills it
 * (vmstat oom_kill). mmsim then ends the run with an out-of-memory error naming the step.
 */
import { C } from '../stats/counters.js';
import { SimError, type Kernel } from './kernel.js';

export function outOfMemory(k: Kernel, order: number): never {
  let victim = '';
  let worst = -1;
  for (const [pid, p] of k.procs) {
    if (!p.alive) continue;
    const mm = p.mm;
    const badness = mm.rssAnon + mm.swapEnts + mm.pgtablesBytes / 4096;
    if (badness > worst) {
      worst = badness;
      victim = pid;
    }
  }
  k.stats.v[C.oom_kill]!++;
  const free = k.config.memoryPages - k.mem.allocatedPages - k.pt.liveAccounted;
  throw new SimError(
    `out of memory: an order-${order} allocation found nothing to reclaim (${free} pages free, min watermark ${k.wmark!.min}, swap ${k.swap.opts.slots - k.swap.used} of ${k.swap.opts.slots} pages free); the OOM killer picked "${victim}" (${worst} pages)`,
    'oom',
  );
}
