/**
 * `accesses {pid, cpu?, regions, refs}`: a batch of one-page user accesses, the form a replayed
 * program trace takes (docs/trace-format.md "Replay"). Entry i is
 * `refs[i] = (page * 2 + write) * 256 + region`: page `page` of `regions[region]`, a write when
 * `write` is 1. Each is what a one-page `touch` does (userAccess(): the fault path when the PTE
 * does not allow it), without a step object per access.
 */
import { AccessResult, userAccess } from '../../kernel/fault.js';
import type { OpHandler, OpRegion } from './executor.js';

/** regions one batch may name (the low byte of a ref) */
export const ACCESSES_MAX_REGIONS = 256;

/** Hot loop: the regions resolved once; no allocation per access. */
export const accesses: OpHandler<'accesses'> = (x, s, where) => {
  const k = x.k;
  const p = x.proc(s.pid, where);
  const t = x.thread(p, s.cpu, where);
  if (t.pending) x.fail(where, 'pid', `the thread of "${s.pid}" on cpu ${t.cpu} is blocked in userfaultfd`);
  const regs: OpRegion[] = s.regions.map((n) => x.region(s.pid, n, where));
  const refs = s.refs;
  const obs = x.observer;
  const onWrite = obs.onWrite;
  const onPages = obs.onPages;
  let reported = 0;
  for (let i = 0; i < refs.length; i++) {
    // every 4096 accesses: progress and the interruption poll
    if ((i & 4095) === 4095 && onPages !== undefined) {
      onPages.call(obs, i - reported);
      reported = i;
    }
    const v = refs[i]!;
    const ri = v % ACCESSES_MAX_REGIONS;
    const pw = (v - ri) / ACCESSES_MAX_REGIONS;
    const write = pw % 2 === 1;
    const page = (pw - (write ? 1 : 0)) / 2;
    const r = regs[ri];
    if (r === undefined || page >= r.pages)
      return x.fail(
        where,
        `refs[${i}]`,
        r === undefined
          ? `region index ${ri} is not in "regions" (${regs.length})`
          : `page ${page} is beyond the region "${s.regions[ri]}" (${r.pages} pages)`,
      );
    const vpn = r.start + page;
    const value = write ? (x.writeSeq = (x.writeSeq + 1) >>> 0) : 0;
    if (userAccess(k, t, vpn, write, value) === AccessResult.BLOCKED)
      x.fail(where, `refs[${i}]`, 'the thread blocked in userfaultfd; use "access" steps for userfaultfd flows');
    if (write && onWrite !== undefined) onWrite.call(obs, s.pid, vpn, value);
  }
  if (onPages !== undefined && refs.length > reported) onPages.call(obs, refs.length - reported);
};
