/** process_madvise: `pid` advises `target`'s ranges (kernel/process-madvise.ts). */
import { processMadvise } from '../../kernel/process-madvise.js';
import type { OpHandler } from './executor.js';

export const processMadviseOp: OpHandler<'processMadvise'> = (x, s, where) => {
  const caller = x.proc(s.pid, where);
  const target = x.proc(s.target, where);
  const ranges = s.ranges.map((r, i) => x.pageRange(r, s.target, `${where}.ranges[${i}]`));
  x.k.runOn(x.thread(caller, s.cpu, where));
  processMadvise(x.k, target.mm, caller === target, ranges, s.advice);
  for (const [a, b] of ranges) x.observer.onMadvise?.(s.target, a, b, s.advice);
};
