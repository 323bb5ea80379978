/** Process ops: spawn, thread, fork, exit. */
import { forkProcess } from '../../kernel/fork.js';
import { exitProcess } from '../../kernel/zap.js';
import type { OpHandler } from './executor.js';
import { memcgByName } from '../../kernel/memcontrol.js';

export const spawn: OpHandler<'spawn'> = (x, s, where) => {
  if (x.k.procs.get(s.pid)?.alive) x.fail(where, 'pid', `process "${s.pid}" already exists`);
  x.checkCpu(s.cpu ?? 0, where);
  const memcg = s.cgroup === undefined ? 0 : memcgByName(x.k, s.cgroup);
  if (memcg < 0) {
    const names = x.k.memcgs.slice(1).map((m) => JSON.stringify(m.name));
    x.fail(
      where,
      'cgroup',
      `unknown cgroup ${JSON.stringify(s.cgroup)} (${names.length > 0 ? `system.cgroups declares ${names.join(', ')}` : 'system.cgroups declares none'})`,
    );
  }
  const p = x.k.spawn(s.pid, s.cpu ?? 0);
  p.mm.memcg = memcg;
  x.regions.set(s.pid, new Map());
  x.observer.onSpawn?.(s.pid);
};

export const thread: OpHandler<'thread'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  x.checkCpu(s.cpu ?? 0, where);
  x.k.addThread(p, s.cpu ?? 0, s.spin ?? false);
};

export const fork: OpHandler<'fork'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  if (x.k.procs.get(s.child)?.alive) x.fail(where, 'child', `process "${s.child}" already exists`);
  const t = x.thread(p, s.cpu, where);
  x.k.runOn(t);
  forkProcess(x.k, p, s.child, t.cpu);
  x.regions.set(s.child, new Map(x.regions.get(s.pid)));
  x.observer.onFork?.(s.pid, s.child);
};

export const exit: OpHandler<'exit'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  exitProcess(x.k, p);
  x.regions.delete(s.pid);
  x.observer.onExit?.(p);
};
