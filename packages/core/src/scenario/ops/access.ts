/** User-access ops: access (one word, may block in userfaultfd) and touch (a range of pages). */
import { AccessResult, userAccess } from '../../kernel/fault.js';
import { accessRange, accessRangeProgress } from '../../kernel/fault-range.js';
import { formatBytes } from '../../hardware/limits.js';
import { PAGE_SIZE } from '../../units.js';
import type { OpHandler } from './executor.js';

export const access: OpHandler<'access'> = (x, s, where) => {
  const k = x.k;
  const p = x.proc(s.pid, where);
  let addr: number;
  if (s.addr !== undefined) addr = typeof s.addr === 'number' ? s.addr : parseInt(s.addr, 16);
  else if (s.region !== undefined) {
    const r = x.region(s.pid, s.region, where);
    const off = x.bytes(s.offset, where, 'offset', 0);
    if (off < 0 || off >= r.pages * PAGE_SIZE)
      x.fail(where, 'offset', `${off} is beyond the region "${s.region}" (${r.pages * PAGE_SIZE} bytes)`);
    addr = r.start * PAGE_SIZE + off;
  } else return x.fail(where, 'addr', 'access needs "addr" or "region"');
  // access_ok(): an address at or above TASK_SIZE is never a user address
  if (!Number.isSafeInteger(addr) || addr >= k.taskSize)
    x.fail(
      where,
      'addr',
      `${s.addr !== undefined ? String(s.addr) : addr} is beyond the ${k.hw.name} user address space (TASK_SIZE 0x${k.taskSize.toString(16)})`,
    );
  const t = x.thread(p, s.cpu, where);
  if (t.pending) x.fail(where, 'pid', `the thread of "${s.pid}" on cpu ${t.cpu} is blocked in userfaultfd`);
  const write = s.access === 'write';
  const value = write ? (s.value ?? x.fresh()) >>> 0 : 0;
  const vpn = Math.floor(addr / PAGE_SIZE);
  const r = userAccess(k, t, vpn, write, value);
  if (r !== AccessResult.BLOCKED && write) x.observer.onWrite?.(s.pid, vpn, value);
  x.observer.onAccess?.(s, where, t, vpn, r);
};

/** Visits of a `pattern: random` touch: its permutation (4 bytes a visit) stays within 1 GiB. */
const MAX_RANDOM_VISITS = 2 ** 28;

/** Hot loop: no allocation per page; `onWrite` and `onPages` are looked up once and skipped when absent. */
export const touch: OpHandler<'touch'> = (x, s, where) => {
  const k = x.k;
  const p = x.proc(s.pid, where);
  const r = x.region(s.pid, s.region, where);
  const off = x.bytes(s.offset, where, 'offset', 0);
  const size = x.bytes(s.size, where, 'size', r.pages * PAGE_SIZE - off);
  const stride = x.bytes(s.stride, where, 'stride', PAGE_SIZE);
  if (stride <= 0) x.fail(where, 'stride', 'must be positive');
  if (off + size > r.pages * PAGE_SIZE)
    x.fail(where, 'size', `offset + size (${off + size}) is beyond the region (${r.pages * PAGE_SIZE} bytes)`);
  const t = x.thread(p, s.cpu, where);
  if (t.pending) x.fail(where, 'pid', `the thread of "${s.pid}" on cpu ${t.cpu} is blocked in userfaultfd`);
  const write = s.access === 'write';
  const base = r.start * PAGE_SIZE + off;
  const n = Math.ceil(size / stride);
  let order: Uint32Array | null = null;
  if (s.pattern === 'random') {
    // the permutation is an array of n visits: refuse one that would not fit in memory
    if (n > MAX_RANDOM_VISITS)
      x.fail(
        where,
        'pattern',
        `a random order of ${n} visits needs a ${formatBytes(n * 4)} permutation; at most ${MAX_RANDOM_VISITS} visits (1 TiB at a 4 KiB stride)`,
      );
    order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(x.rand() * (i + 1));
      const tmp = order[i]!;
      order[i] = order[j]!;
      order[j] = tmp;
    }
  }
  const obs = x.observer;
  const onWrite = write ? obs.onWrite : undefined;
  const onPages = obs.onPages;
  const fixed = s.value;
  let reported = 0;
  if (k.rangeFaults && order === null && stride === PAGE_SIZE && onWrite === undefined) {
    // consecutive pages and nobody watching page by page: the range path (fault-range.ts),
    // in pieces that end where the per-page loop below reports progress (with rangeFaults off,
    // the loop below is the reference the equivalence tests compare this with)
    const vpn0 = Math.floor(base / PAGE_SIZE);
    const inc = write && fixed === undefined ? 1 : 0;
    let i = 0;
    while (i < n) {
      if ((i & 4095) === 4095 && onPages !== undefined) {
        onPages.call(obs, i - reported);
        reported = i;
      }
      // up to the next page before which the per-page loop reports (i & 4095 === 4095)
      let e = n;
      if (onPages !== undefined) {
        e = i - (i & 4095) + 4095;
        if (e <= i) e += 4096;
        if (e > n) e = n;
      }
      const m = e - i;
      const first = !write ? 0 : fixed !== undefined ? fixed >>> 0 : (x.writeSeq + 1) >>> 0;
      let r: number;
      try {
        r = accessRange(k, t, vpn0 + i, m, write, first, inc);
      } catch (err) {
        // the per-page loop had counted the page that threw
        if (inc !== 0) x.writeSeq = (x.writeSeq + accessRangeProgress()) >>> 0;
        throw err;
      }
      if (r < m) {
        if (inc !== 0) x.writeSeq = (x.writeSeq + r + 1) >>> 0;
        if (obs.onTouchBlocked?.(s, where, vpn0 + i + r)) return;
        x.fail(
          where,
          'region',
          `the thread blocked in userfaultfd at 0x${(base + (i + r) * stride).toString(16)}; use "access" steps for userfaultfd flows`,
        );
      }
      if (inc !== 0) x.writeSeq = (x.writeSeq + m) >>> 0;
      i = e;
    }
    if (onPages !== undefined && n > reported) onPages.call(obs, n - reported);
    return;
  }
  for (let i = 0; i < n; i++) {
    // every 4096 pages: progress and the interruption poll, so a touch of 64 GiB stops within a second
    if ((i & 4095) === 4095 && onPages !== undefined) {
      onPages.call(obs, i - reported);
      reported = i;
    }
    const addr = base + (order ? order[i]! : i) * stride;
    const value = write ? (fixed !== undefined ? fixed >>> 0 : (x.writeSeq = (x.writeSeq + 1) >>> 0)) : 0;
    const vpn = Math.floor(addr / PAGE_SIZE);
    if (userAccess(k, t, vpn, write, value) === AccessResult.BLOCKED) {
      if (obs.onTouchBlocked?.(s, where, vpn)) return;
      x.fail(
        where,
        'region',
        `the thread blocked in userfaultfd at 0x${addr.toString(16)}; use "access" steps for userfaultfd flows`,
      );
    }
    if (onWrite !== undefined) onWrite.call(obs, s.pid, vpn, value);
  }
  if (onPages !== undefined && n > reported) onPages.call(obs, n - reported);
};
