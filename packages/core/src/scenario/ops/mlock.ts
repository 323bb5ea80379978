/** mlock ops: mlock / mlock2 (MLOCK_ONFAULT), munlock, mlockall, munlockall (kernel/mlock.ts). */
import { doMlock, doMunlock, mlockall } from '../../kernel/mlock.js';
import type { OpHandler } from './executor.js';

export const mlockOp: OpHandler<'mlock'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  doMlock(x.k, p.mm, a, b, s.onfault === true);
};

export const munlockOp: OpHandler<'munlock'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  doMunlock(x.k, p.mm, a, b);
};

export const mlockallOp: OpHandler<'mlockall'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  mlockall(x.k, p.mm, { current: s.current === true, future: s.future === true, onfault: s.onfault === true });
};

export const munlockallOp: OpHandler<'munlockall'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  mlockall(x.k, p.mm, { current: false, future: false, onfault: false }, true);
};
