/** Process ops: spawn, thread, fork, exit. */
import { forkProcess } from '../../kernel/fork.js';
import { exitProcess } from '../../kernel/zap.js';
import type { OpHandler } from './executor.js';

export const spawn: OpHandler<'spawn'> = (x, s, where) => {
  if (x.k.procs.get(s.pid)?.alive) x.fail(where, 'pid', `process "${s.pid}" already exists`);
  x.checkCpu(s.cpu ?? 0, where);
  x.k.spawn(s.pid, s.cpu ?? 0);
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
