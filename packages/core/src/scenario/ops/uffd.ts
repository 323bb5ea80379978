/** userfaultfd ops: uffdRegister, uffdCopy (resolves missing faults), uffdWriteProtect. */
import { uffdCopy, uffdRegister, uffdWriteProtect } from '../../kernel/userfaultfd.js';
import type { OpHandler } from './executor.js';

export const uffdRegisterOp: OpHandler<'uffdRegister'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  // the ioctl runs on the calling thread's CPU (a PMD split of split_vma flushes from there)
  x.k.runOn(x.thread(p, s.cpu, where));
  uffdRegister(x.k, p.mm, a, b, s.mode);
  x.observer.onUffdRegister?.(s.pid, a, b, s.mode);
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

export const uffdWriteProtectOp: OpHandler<'uffdWriteProtect'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  uffdWriteProtect(x.k, p.mm, a, b, s.enable);
  if (!s.enable) x.wake(p, a, b, 'uffd-wp', where);
};
