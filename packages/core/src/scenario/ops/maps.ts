/** /proc/PID/maps and smaps: the `maps` step (reads, changes nothing). */
import { smaps } from '../../kernel/proc-maps.js';
import type { OpHandler } from './executor.js';

/** Lists the VMAs of the process (of the step's range when it names a region); `expect` is the observer's. */
export const mapsOp: OpHandler<'maps'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  let [a, b] = [0, Number.MAX_SAFE_INTEGER];
  if (s.region !== undefined) [a, b] = x.pageRange({ ...s, region: s.region }, s.pid, where);
  else if (s.offset !== undefined || s.size !== undefined) x.fail(where, 'region', 'offset and size need a region');
  const vmas = smaps(x.k, p.mm, a, b);
  // the expected VMAs' starts: a region of the process + offset, resolved now
  const starts: number[] = [];
  for (const [i, e] of (s.expect?.vmas ?? []).entries()) {
    if (e.region === undefined) {
      if (e.offset !== undefined) x.fail(where, `expect.vmas[${i}].offset`, 'an offset needs a region');
      starts.push(-1);
      continue;
    }
    const r = x.region(s.pid, e.region, `${where}.expect.vmas[${i}]`);
    const off = x.bytes(e.offset, where, `expect.vmas[${i}].offset`, 0);
    starts.push(r.start + Math.floor(off / 4096));
  }
  x.observer.onMaps?.(s, where, vmas, starts);
};
