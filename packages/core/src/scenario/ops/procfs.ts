/** /proc/PID ops: pagemap (read, changes nothing) and clear_refs (a write). */
import { clearRefs } from '../../kernel/clear-refs.js';
import { pagemapEntry } from '../../kernel/pagemap.js';
import type { OpHandler } from './executor.js';

/** Reads /proc/PID/pagemap for the range; checking it (`expect`) is the observer's business. */
export const pagemapOp: OpHandler<'pagemap'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  if (Array.isArray(s.expect) && s.expect.length !== b - a)
    x.fail(where, 'expect', `the range has ${b - a} pages, expect lists ${s.expect.length}`);
  const entries = [];
  for (let v = a; v < b; v++) entries.push(pagemapEntry(x.k, p.mm, v));
  x.observer.onPagemap?.(s, where, a, entries);
};

/** echo VALUE > /proc/PID/clear_refs */
export const clearRefsOp: OpHandler<'clearRefs'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  clearRefs(x.k, p.mm, s.value);
};
