/** Address-space ops: mmap, munmap, madvise, mprotect, mremap. */
import { madvise } from '../../kernel/madvise.js';
import { mmapAnon } from '../../kernel/mmap.js';
import { mprotect } from '../../kernel/mprotect.js';
import { mremapMove } from '../../kernel/mremap.js';
import { munmap } from '../../kernel/zap.js';
import { SimError } from '../../kernel/kernel.js';
import { PAGE_SIZE } from '../../units.js';
import type { OpExecutor, OpHandler } from './executor.js';

/**
 * Run `f`; a get_unmapped_area() ENOMEM becomes an error on the step's `size`, unless the step
 * expects it (`expectError: ENOMEM`).
 */
function mapping<T>(x: OpExecutor, where: string, f: () => T, expected?: string): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SimError && e.code === 'enomem' && expected !== 'ENOMEM') x.fail(where, 'size', e.message);
    throw e;
  }
}

export const mmap: OpHandler<'mmap'> = (x, s, where) => {
  const k = x.k;
  const p = x.proc(s.pid, where);
  const size = x.bytes(s.size, where, 'size', 0);
  if (size <= 0 || size % PAGE_SIZE !== 0) x.fail(where, 'size', `${size} is not a positive multiple of ${PAGE_SIZE}`);
  if (x.regions.get(s.pid)!.has(s.name)) x.fail(where, 'name', `region "${s.name}" already exists in "${s.pid}"`);
  const align = x.bytes(s.align, where, 'align', PAGE_SIZE);
  if (align % PAGE_SIZE !== 0) x.fail(where, 'align', `${align} is not a multiple of ${PAGE_SIZE}`);
  k.runOn(x.thread(p, s.cpu, where));
  const vma = mapping(
    x,
    where,
    () => mmapAnon(k, p.mm, size / PAGE_SIZE, s.name, { alignPages: align / PAGE_SIZE }),
    s.expectError,
  );
  x.regions.get(s.pid)!.set(s.name, { start: vma.start, pages: vma.pages });
  x.observer.onMmap?.(s.pid, vma.start, vma.pages, s.prot ?? 'rw');
  if (s.prot && s.prot !== 'rw') mprotect(k, p.mm, vma.start, vma.end, s.prot);
  if (s.advice) {
    madvise(k, p.mm, vma.start, vma.end, s.advice);
    x.observer.onMadvise?.(s.pid, vma.start, vma.end, s.advice);
  }
};

export const munmapOp: OpHandler<'munmap'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  munmap(x.k, p.mm, a, b);
  x.observer.onMunmap?.(s.pid, a, b);
};

export const madviseOp: OpHandler<'madvise'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  madvise(x.k, p.mm, a, b, s.advice);
  x.observer.onMadvise?.(s.pid, a, b, s.advice);
};

export const mprotectOp: OpHandler<'mprotect'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  mprotect(x.k, p.mm, a, b, s.prot);
  x.observer.onMprotect?.(s.pid, a, b, s.prot);
};

export const mremap: OpHandler<'mremap'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [a, b] = x.pageRange(s, s.pid, where);
  if (x.regions.get(s.pid)!.has(s.to)) x.fail(where, 'to', `region "${s.to}" already exists in "${s.pid}"`);
  x.k.runOn(x.thread(p, s.cpu, where));
  const nv = mapping(x, where, () => mremapMove(x.k, p.mm, a, b, s.to), s.expectError);
  x.regions.get(s.pid)!.set(s.to, { start: nv.start, pages: nv.pages });
  x.observer.onMremap?.(s.pid, a, b, nv.start);
};
