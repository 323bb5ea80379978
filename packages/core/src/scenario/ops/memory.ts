/** Address-space ops: mmap, munmap, madvise, mprotect, mremap. */
import { madvise } from '../../kernel/madvise.js';
import { mmapAnon } from '../../kernel/mmap.js';
import { mprotect } from '../../kernel/mprotect.js';
import { doMremap, mremapMove, type MremapResult } from '../../kernel/mremap.js';
import { madviseGuard } from '../../kernel/guard-regions.js';
import { munmap } from '../../kernel/zap.js';
import { SimError } from '../../kernel/kernel.js';
import { PAGE_SIZE } from '../../units.js';
import type { OpExecutor, OpHandler, StepOf } from './executor.js';
import { mmapFile, shmemZeroSetup } from '../../kernel/file-mmap.js';
import { VM, type Vma } from '../../mm/vma.js';
import { mmPopulate } from '../../kernel/populate.js';
import { mmapLocked } from '../../kernel/mlock.js';

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
  const vma =
    s.file !== undefined || s.shared === true
      ? mmapFileOp(x, s, where, size / PAGE_SIZE, align / PAGE_SIZE)
      : mapping(
          x,
          where,
          () => mmapAnon(k, p.mm, size / PAGE_SIZE, s.name, { alignPages: align / PAGE_SIZE }),
          s.expectError,
        );
  x.regions.get(s.pid)!.set(s.name, { start: vma.start, pages: vma.pages });
  x.observer.onMmap?.(s.pid, vma.start, vma.pages, s.prot ?? 'rw');
  if (s.prot && s.prot !== 'rw') mprotect(k, p.mm, vma.start, vma.end, s.prot);
  // mmap_region() after mlockall(MCL_FUTURE): def_flags, locked_vm, populated (mlock.ts)
  if (p.mm.defFlags !== 0) mmapLocked(k, p.mm, vma);
  else if (s.populate === true) mmPopulate(k, p.mm, vma.start, vma.end, true);
  if (s.advice) {
    madvise(k, p.mm, vma.start, vma.end, s.advice);
    x.observer.onMadvise?.(s.pid, vma.start, vma.end, s.advice);
  }
};

/** mmap of a file (`file`, `offset`, `shared`) or MAP_SHARED|MAP_ANONYMOUS (`shared` alone). */
function mmapFileOp(x: OpExecutor, s: StepOf<'mmap'>, where: string, pages: number, align: number): Vma {
  const k = x.k;
  const mm = x.proc(s.pid, where).mm;
  if (s.advice !== undefined) x.fail(where, 'advice', 'advice on a file or shared mapping is not modelled yet');
  let as = s.file === undefined ? null : k.pageCache.byName.get(s.file);
  if (as === undefined) x.fail(where, 'file', `no file "${s.file}" in the scenario's files`);
  const off = x.bytes(s.offset, where, 'offset', 0);
  if (off < 0 || off % PAGE_SIZE !== 0)
    x.fail(where, 'offset', `${off} is not a non-negative multiple of ${PAGE_SIZE}`);
  if (as === null) {
    if (off !== 0) x.fail(where, 'offset', 'an offset needs a file');
    as = shmemZeroSetup(k, pages);
  } else if (off / PAGE_SIZE >= as.pages)
    x.fail(where, 'offset', `${off} is at or past the end of "${s.file}" (${as.pages * PAGE_SIZE} bytes)`);
  const file = as;
  return mapping(x, where, () => mmapFile(k, mm, file, off / PAGE_SIZE, pages, s.shared === true, s.name, align));
}

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
  if (s.advice === 'guard_install' || s.advice === 'guard_remove') {
    if (s.advice === 'guard_install' && p.mm.vmasIn(a, b).some((v) => v.file !== null))
      x.fail(where, 'advice', 'guard regions in file or shared mappings are not modelled yet');
    madviseGuard(x.k, p.mm, a, b, s.advice);
    return;
  }
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
  if (s.to !== undefined && x.regions.get(s.pid)!.has(s.to))
    x.fail(where, 'to', `region "${s.to}" already exists in "${s.pid}"`);
  x.k.runOn(x.thread(p, s.cpu, where));
  const legacy = s.newSize === undefined && s.mayMove === undefined && s.fixed === undefined && !s.dontUnmap;
  if (legacy) {
    // the original op: MREMAP_MAYMOVE|MREMAP_FIXED of the range to a fresh place
    const to = s.to ?? x.fail(where, 'to', 'a move needs "to" (or give newSize, mayMove, fixed or dontUnmap)');
    const nv = mapping(x, where, () => mremapMove(x.k, p.mm, a, b, to), s.expectError);
    x.regions.get(s.pid)!.set(to, { start: nv.start, pages: nv.pages });
    x.observer.onMremap?.(s.pid, a, b, nv.start);
    return;
  }
  mremapFull(x, s, where, a, b);
};

/** mremap with newSize / mayMove / fixed / dontUnmap: do_mremap() (kernel/mremap.ts). */
function mremapFull(x: OpExecutor, s: StepOf<'mremap'>, where: string, a: number, b: number): void {
  const p = x.proc(s.pid, where);
  const newSize = x.bytes(s.newSize, where, 'newSize', (b - a) * PAGE_SIZE);
  if (newSize % PAGE_SIZE !== 0) x.fail(where, 'newSize', `${newSize} is not a multiple of ${PAGE_SIZE}`);
  let fixed = -1;
  if (s.fixed !== undefined) {
    const r = x.region(s.pid, s.fixed.region, where);
    const off = x.bytes(s.fixed.offset, where, 'fixed.offset', 0);
    if (off % PAGE_SIZE !== 0 || off < 0) x.fail(where, 'fixed.offset', `${off} is not a multiple of ${PAGE_SIZE}`);
    fixed = r.start + off / PAGE_SIZE;
  }
  if ((s.mayMove === true || s.dontUnmap === true) && s.to === undefined)
    x.fail(where, 'to', 'an mremap that may move needs "to", the name of the result');
  const res: MremapResult = { start: a, moves: [], unmapped: [], keptOld: false };
  const args = {
    addr: a,
    oldPages: b - a,
    newPages: newSize / PAGE_SIZE,
    mayMove: s.mayMove === true,
    fixed,
    dontUnmap: s.dontUnmap === true,
    name: s.to ?? s.region,
  };
  let ok = false;
  try {
    mapping(x, where, () => doMremap(x.k, p.mm, args, res), s.expectError);
    ok = true;
  } finally {
    // also after an error: a move of several VMAs may have moved some (and unmapped the target)
    reportMremap(x, s, where, a, b, newSize / PAGE_SIZE, res, ok);
  }
}

/** The observers and the regions after do_mremap(). */
function reportMremap(
  x: OpExecutor,
  s: StepOf<'mremap'>,
  where: string,
  a: number,
  b: number,
  newPages: number,
  res: MremapResult,
  ok: boolean,
): void {
  const p = x.proc(s.pid, where);
  const obs = x.observer;
  for (const [u, v] of res.unmapped) obs.onMunmap?.(s.pid, u, v);
  let movedPages = 0;
  for (const m of res.moves) {
    obs.onMremap?.(s.pid, m.from, m.from + m.pages, m.to);
    // the old range stays mapped, empty (MREMAP_DONTUNMAP)
    if (res.keptOld) obs.onMmap?.(s.pid, m.from, m.pages, protOf(p.mm.findVma(m.from)));
    movedPages += m.pages;
  }
  if (!ok) {
    // a partly completed move of several VMAs: `to` names the new range (MREMAP_FIXED's new_addr)
    if (res.moves.length > 0 && s.to !== undefined)
      x.regions.get(s.pid)!.set(s.to, { start: res.moves[0]!.to - (res.moves[0]!.from - a), pages: newPages });
    return;
  }
  const oldMoved = res.moves.length > 0 ? movedPages : Math.min(b - a, newPages);
  // grown (in place or moved): the new tail is a fresh, empty part of the mapping
  if (res.moves.length <= 1 && newPages > oldMoved)
    obs.onMmap?.(s.pid, res.start + oldMoved, newPages - oldMoved, protOf(p.mm.findVma(res.start)));
  if (s.to !== undefined) x.regions.get(s.pid)!.set(s.to, { start: res.start, pages: newPages });
  // growing in place at the region's end grows the region
  const reg = x.region(s.pid, s.region, where);
  if (res.start === a && b === reg.start + reg.pages && newPages > b - a) reg.pages = a - reg.start + newPages;
}

function protOf(v: Vma | undefined): 'r' | 'rw' | 'none' {
  if (!v) return 'rw';
  return v.flags & VM.write ? 'rw' : v.flags & VM.read ? 'r' : 'none';
}
