/**
 * userfaultfd ops: uffdApi, uffdRegister, uffdCopy (resolves missing faults), uffdZeropage,
 * uffdPoison, uffdMove, uffdWriteProtect, uffdRead (the monitor's read(2)).
 */
import {
  uffdCopy,
  uffdIoctlNames,
  uffdPoison,
  uffdRegister,
  uffdUnregister,
  uffdWriteProtect,
  uffdZeropage,
} from '../../kernel/userfaultfd.js';
import { uffdApi, uffdCtx, type UffdMsg } from '../../kernel/uffd-ctx.js';
import { uffdMove } from '../../kernel/uffd-move.js';
import type { UffdMsgExpect } from '../schema.js';
import { PAGE_SIZE } from '../../units.js';
import type { OpExecutor, OpHandler } from './executor.js';

export const uffdApiOp: OpHandler<'uffdApi'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  x.k.charge(x.k.hw.costs.syscall);
  uffdApi(p.mm, s.features ?? [], s.api);
};

export const uffdRegisterOp: OpHandler<'uffdRegister'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  // the ioctl runs on the calling thread's CPU (a PMD split of split_vma flushes from there)
  x.k.runOn(x.thread(p, s.cpu, where));
  const ioctls = uffdRegister(x.k, p.mm, a, b, s.mode);
  const modes = typeof s.mode === 'string' ? [s.mode] : s.mode;
  for (const m of modes) if (m !== 'minor') x.observer.onUffdRegister?.(s.pid, a, b, m);
  if (s.ioctls !== undefined) {
    const got = uffdIoctlNames(ioctls);
    const want = [...new Set(s.ioctls)].sort();
    const same = got.length === want.length && [...got].sort().every((n, i) => n === want[i]);
    x.observer.onCheck?.(where, same ? '' : `ioctls are [${got.join(', ')}], expected [${s.ioctls.join(', ')}]`);
  }
};

export const uffdUnregisterOp: OpHandler<'uffdUnregister'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  uffdUnregister(x.k, p.mm, a, b);
  x.wake(p, a, b, 'uffd-missing', where);
  x.wake(p, a, b, 'uffd-wp', where);
};

export const uffdCopyOp: OpHandler<'uffdCopy'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  const onWrite = x.observer.onWrite;
  const fixed = s.value;
  const written: number[] | null = onWrite && fixed === undefined ? [] : null;
  uffdCopy(x.k, p.mm, a, b, s.wp ?? false, () => {
    const v = (fixed ?? x.fresh()) >>> 0;
    written?.push(v);
    return v;
  });
  if (onWrite)
    for (let vpn = a; vpn < b; vpn++) onWrite.call(x.observer, s.pid, vpn, written ? written[vpn - a]! : fixed! >>> 0);
  x.wake(p, a, b, 'uffd-missing', where);
};

export const uffdZeropageOp: OpHandler<'uffdZeropage'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  uffdZeropage(x.k, p.mm, a, b);
  x.wake(p, a, b, 'uffd-missing', where);
};

export const uffdPoisonOp: OpHandler<'uffdPoison'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  uffdPoison(x.k, p.mm, a, b);
  // the woken thread retries and meets the poisoned marker: SIGBUS, reported at its wake
  x.wake(p, a, b, 'uffd-missing', where);
};

export const uffdMoveOp: OpHandler<'uffdMove'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  const src = x.region(s.pid, s.from, where);
  const off = x.bytes(s.fromOffset, where, 'fromOffset', 0);
  if (off % PAGE_SIZE !== 0) x.fail(where, 'fromOffset', `${off} is not a multiple of ${PAGE_SIZE}`);
  const sa = src.start + off / PAGE_SIZE;
  if (sa + (b - a) > src.start + src.pages)
    x.fail(where, 'fromOffset', `fromOffset + size is beyond the region "${s.from}" (${src.pages * PAGE_SIZE} bytes)`);
  x.k.runOn(x.thread(p, s.cpu, where));
  uffdMove(x.k, p.mm, a, sa, b - a, s.allowSrcHoles ?? false);
  x.wake(p, a, b, 'uffd-missing', where);
};

export const uffdWriteProtectOp: OpHandler<'uffdWriteProtect'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  uffdWriteProtect(x.k, p.mm, a, b, s.enable);
  if (!s.enable) x.wake(p, a, b, 'uffd-wp', where);
};

/** read(2) of the userfaultfd: every queued uffd_msg, compared with `expect` */
export const uffdReadOp: OpHandler<'uffdRead'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  x.k.charge(x.k.hw.costs.syscall);
  const c = uffdCtx(p.mm);
  const msgs = c.msgs.splice(0, c.msgs.length);
  if (s.expect === undefined) return;
  if (msgs.length !== s.expect.length) {
    x.observer.onCheck?.(
      where,
      `read ${msgs.length} messages (${msgs.map((m) => m.event).join(', ')}), expected ${s.expect.length}`,
    );
    return;
  }
  for (let i = 0; i < msgs.length; i++)
    x.observer.onCheck?.(`${where} message ${i}`, msgMismatch(x, s.pid, msgs[i]!, s.expect[i]!, where));
};

function msgMismatch(x: OpExecutor, pid: string, m: UffdMsg, want: UffdMsgExpect, where: string): string {
  if (m.event !== want.event) return `event ${m.event}, expected ${want.event}`;
  const bad: string[] = [];
  if (m.event === 'pagefault') {
    if (want.region !== undefined) {
      const r = x.region(pid, want.region, where);
      const vpn = r.start + x.bytes(want.offset, where, 'offset', 0) / PAGE_SIZE;
      if (m.addr !== vpn) bad.push(`address page 0x${m.addr.toString(16)}, expected 0x${vpn.toString(16)}`);
    }
    if (want.write !== undefined && m.write !== want.write) bad.push(`write is ${m.write}, expected ${want.write}`);
    if (want.wp !== undefined && m.wp !== want.wp) bad.push(`wp is ${m.wp}, expected ${want.wp}`);
  } else if (m.event === 'fork' && want.child !== undefined && m.child !== want.child)
    bad.push(`child "${m.child}", expected "${want.child}"`);
  return bad.join('; ');
}
