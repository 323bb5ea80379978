/** read / write ops: read(2) and write(2) of a scenario file through the page cache (kernel/filemap-rw.ts). */
import { filemapRead, filemapWrite } from '../../kernel/filemap-rw.js';
import type { AddressSpace } from '../../mem/page-cache.js';
import { PAGE_SIZE } from '../../units.js';
import type { OpExecutor, OpHandler } from './executor.js';

function fileRange(
  x: OpExecutor,
  s: { file: string; offset?: number | string | undefined; size?: number | string | undefined },
  where: string,
): [AddressSpace, number, number] {
  const as = x.k.pageCache.byName.get(s.file);
  if (as === undefined) return x.fail(where, 'file', `no file "${s.file}" in the scenario's files`);
  const off = x.bytes(s.offset, where, 'offset', 0);
  if (off < 0 || off % PAGE_SIZE !== 0 || off >= as.pages * PAGE_SIZE)
    x.fail(where, 'offset', `${off} is not a page-aligned offset inside "${s.file}" (${as.pages * PAGE_SIZE} bytes)`);
  const size = x.bytes(s.size, where, 'size', as.pages * PAGE_SIZE - off);
  if (size <= 0 || size % PAGE_SIZE !== 0 || off + size > as.pages * PAGE_SIZE)
    x.fail(where, 'size', `${size} is not a positive multiple of ${PAGE_SIZE} inside "${s.file}"`);
  return [as, off / PAGE_SIZE, (off + size) / PAGE_SIZE];
}

export const readOp: OpHandler<'read'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [as, from, to] = fileRange(x, s, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  x.observer.onFileRead?.(s, where, filemapRead(x.k, as, from, to));
};

export const writeOp: OpHandler<'write'> = (x, s, where) => {
  const p = x.proc(s.pid, where);
  const [as, from, to] = fileRange(x, s, where);
  x.k.runOn(x.thread(p, s.cpu, where));
  filemapWrite(x.k, as, from, to, (s.value ?? x.fresh()) >>> 0);
};
