import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LogConverter } from '../src/record/converter.js';
import type { TraceRecord } from '../src/record/records.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Convert a captured valgrind lackey + syscall log, a line at a time. */
function convert(name: string, pid: number, forked = false) {
  const out: TraceRecord[] = [];
  const conv = new LogConverter(pid, (r) => out.push(r), '/work', forked);
  for (const line of readFileSync(path.join(here, 'fixtures/record', name), 'latin1').split('\n')) conv.line(line);
  conv.end();
  return { out, stats: conv.stats };
}

const STACK = 0x1ffefff; // page of 0x1ffefffc58
const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

describe('record: valgrind log → trace records', () => {
  it('parent: accesses run-length encoded by page and kind, M is a write, a straddling access touches both pages; the syscalls with their results', () => {
    const { out, stats } = convert('parent.log', 9815);
    expect(out).toEqual([
      { t: 'access', pid: 9815, page: STACK, w: true, n: 2 },
      { t: 'access', pid: 9815, page: STACK, w: false },
      { t: 'brk', pid: 9815, addr: 0x4035000 },
      { t: 'mmap', pid: 9815, addr: 0x4846000, len: 1974096, prot: 'r', shared: false, path: LIBC, offset: 0 },
      { t: 'mmap', pid: 9815, addr: 0x486c000, len: 1400832, prot: 'rx', shared: false, path: LIBC, offset: 155648 },
      { t: 'mmap', pid: 9815, addr: 0x483c000, len: 12288, prot: 'rw', shared: false },
      { t: 'access', pid: 9815, page: 0x483c, w: true, n: 2 },
      { t: 'access', pid: 9815, page: 0x483d, w: true, n: 3 },
      { t: 'access', pid: 9815, page: 0x483e, w: false },
      { t: 'access', pid: 9815, page: STACK, w: false },
      { t: 'madvise', pid: 9815, addr: 0x483c000, len: 4096, advice: 'dontneed' },
      { t: 'mremap', pid: 9815, addr: 0x483c000, oldLen: 12288, newLen: 24576, newAddr: 0x4a00000 },
      { t: 'mmap', pid: 9815, addr: 0x4842000, len: 4096, prot: 'rw', shared: true },
      { t: 'fork', pid: 9815, child: 9845 },
      { t: 'clone', pid: 9815, tid: 9815, newTid: 0x2a1b },
      // thread 2's async madvise completes between thread 1's wait4 call and its result
      { t: 'madvise', pid: 9815, addr: 0x4a2b000, len: 8368128, advice: 'dontneed' },
      { t: 'mprotect', pid: 9815, addr: 0x4a00000, len: 4096, prot: 'r' },
      { t: 'munmap', pid: 9815, addr: 0x4a00000, len: 24576 },
      // brk(0x4035000) leaves the break where it was: no record
      { t: 'brk', pid: 9815, addr: 0x4056000 },
      { t: 'exit', pid: 9815 },
    ]);
    expect(stats).toEqual({ dataAccesses: 9, fetches: 3, accessRecords: 6 });
  });

  it("child: fork's return line ignored; a second `Command:` header (after execve) is an exec record; exit at the end of a log without exit_group", () => {
    const { out } = convert('child.log', 9845, true);
    expect(out).toEqual([
      { t: 'access', pid: 9845, page: 0x483c, w: true, n: 2 },
      { t: 'exec', pid: 9845 },
      { t: 'access', pid: 9845, page: STACK, w: false },
      { t: 'exit', pid: 9845 },
    ]);
  });

  it("a forked child's log read only after its execve (valgrind truncated it): an exec record first", () => {
    const { out } = convert('child-exec.log', 9846, true);
    expect(out).toEqual([
      { t: 'exec', pid: 9846 },
      { t: 'brk', pid: 9846, addr: 0x4035000 },
      { t: 'access', pid: 9846, page: STACK, w: true },
      { t: 'exit', pid: 9846 },
    ]);
  });

  it('relative openat paths resolve against the working directory; a MAP_SHARED file mapping', () => {
    const out: TraceRecord[] = [];
    const conv = new LogConverter(7, (r) => out.push(r), '/work/dir');
    conv.line('SYSCALL[7,1](257) sys_openat ( 4294967196, 0x1ffefff6a0(data.bin), 2 ) --> [async] ... ');
    conv.line('SYSCALL[7,1](257) ... [async] --> Success(0x5) ');
    conv.line('SYSCALL[7,1](9) sys_mmap ( 0x0, 8192, 3, 1, 5, 4096 ) --> [pre-success] Success(0x5000000) ');
    conv.line('SYSCALL[7,1](9) sys_mmap ( 0x0, 8192, 0, 1, 9, 0 ) --> [pre-success] Success(0x6000000) ');
    expect(out).toEqual([
      {
        t: 'mmap',
        pid: 7,
        addr: 0x5000000,
        len: 8192,
        prot: 'rw',
        shared: true,
        path: '/work/dir/data.bin',
        offset: 4096,
      },
      // an fd the recorder never saw opened: file-backed, path unknown
      { t: 'mmap', pid: 7, addr: 0x6000000, len: 8192, prot: 'none', shared: true, offset: 0 },
    ]);
  });
});
