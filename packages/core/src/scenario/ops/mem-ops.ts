/** pokeMem (a FOLL_FORCE write through /proc/PID/mem) and migrate (mbind MPOL_MF_MOVE). */
import { accessRemoteVmWrite } from '../../kernel/gup-force.js';
import { migratePages } from '../../kernel/migrate.js';
import { PAGE_SIZE } from '../../units.js';
import type { OpHandler } from './executor.js';

export const pokeMemOp: OpHandler<'pokeMem'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const r = x.region(s.pid, s.region, where);
  const off = x.bytes(s.offset, where, 'offset', 0);
  if (off % PAGE_SIZE !== 0) x.fail(where, 'offset', `${off} is not a multiple of ${PAGE_SIZE}`);
  if (off >= r.pages * PAGE_SIZE) x.fail(where, 'offset', `${off} is beyond the region (${r.pages * PAGE_SIZE} bytes)`);
  const vpn = r.start + off / PAGE_SIZE;
  // the writer (a debugger, or the process itself through /proc/self/mem) runs on this CPU
  x.k.runOn(x.thread(p, s.cpu, where));
  accessRemoteVmWrite(x.k, p.mm, vpn, s.value);
  x.observer.onWrite?.(s.pid, vpn, s.value >>> 0);
};

export const migrateOp: OpHandler<'migrate'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  migratePages(x.k, p.mm, a, b);
};
