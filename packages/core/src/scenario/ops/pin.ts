/** GUP pin ops: pin, unpin, readPin. */
import { pinUserPages, readPin, unpinUserPages } from '../../kernel/gup.js';
import type { OpHandler } from './executor.js';

export const pin: OpHandler<'pin'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  if (x.pins.has(s.id)) x.fail(where, 'id', `pin "${s.id}" already exists`);
  const [a, b] = x.pageRange(s, s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  x.pins.set(s.id, pinUserPages(x.k, p.mm, a, b, s.write, s.longterm ?? false, s.id));
  x.observer.onPin?.(s.id, s.pid, a, b, s.write);
};

export const unpin: OpHandler<'unpin'> = (x, s, where) => {
  const p = x.pins.get(s.id);
  if (!p) return x.fail(where, 'id', `no pin "${s.id}"`);
  unpinUserPages(x.k, p);
  x.pins.delete(s.id);
  x.observer.onUnpin?.(s.id);
};

/** Reads the pinned pages; checking them (`expect`) is the observer's business. */
export const readPinOp: OpHandler<'readPin'> = (x, s, where) => {
  const p = x.pins.get(s.id);
  if (!p) return x.fail(where, 'id', `no pin "${s.id}"`);
  x.observer.onReadPin?.(s, where, readPin(x.k, p));
};
