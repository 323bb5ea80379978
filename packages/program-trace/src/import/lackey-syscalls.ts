/**
 * Valgrind's `--trace-syscalls=yes` lines (3.19, amd64) into trace records. A call is one line
 * (`SYSCALL[pid,tid](nr) sys_mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000)`),
 * two (`... --> [async] ...` then `SYSCALL[pid,tid](nr) ... [async] --> Success(0x4)`), or for
 * clone the call line then ` --> [pre-success] Success(0x2675)`. Pointer arguments print in hex,
 * integers in decimal (fd -1 is 4294967295), clone's flags in hex without 0x; a string argument
 * as `0xADDR(text)`.
 */
import path from 'node:path';
import type { Prot, TraceRecord } from '../records.js';

/** where a converter hands its records (synchronously, in order) */
export type RecordEmit = (r: TraceRecord) => void;

const AT_FDCWD = 4294967196;
const MAP_SHARED = 0x01;
const MAP_SHARED_VALIDATE = 0x03;
const MAP_ANONYMOUS = 0x20;
const CLONE_VM = 0x100;
const CLONE_THREAD = 0x10000;

/** MADV_* (include/uapi/asm-generic/mman-common.h) → mmsim advice names; others by their Linux name */
export const ADVICE: Record<number, string> = {
  0: 'normal',
  1: 'random',
  2: 'sequential',
  3: 'willneed',
  4: 'dontneed',
  8: 'free',
  9: 'remove',
  10: 'dontfork',
  11: 'dofork',
  12: 'mergeable',
  13: 'unmergeable',
  14: 'hugepage',
  15: 'nohugepage',
  16: 'dontdump',
  17: 'dodump',
  18: 'wipeonfork',
  19: 'keeponfork',
  20: 'cold',
  21: 'pageout',
  22: 'populate_read',
  23: 'populate_write',
  24: 'dontneed_locked',
  25: 'collapse',
  100: 'hwpoison',
  101: 'soft_offline',
  102: 'guard_install',
  103: 'guard_remove',
};

export function protName(bits: number): Prot {
  const s = (bits & 1 ? 'r' : '') + (bits & 2 ? 'w' : '') + (bits & 4 ? 'x' : '');
  return (s || 'none') as Prot;
}

interface Call {
  name: string;
  args: string[];
}

const HEAD = /^SYSCALL\[(\d+),(\d+)\]\((\d+)\) (.*)$/;
const RESULT = /(Success|Failure)\(0x([0-9a-fA-F]+)\)/;

/** integer value of a printed argument (hex with 0x, else decimal; a string argument's address) */
function num(a: string | undefined): number {
  if (a === undefined) return Number.NaN;
  const m = /^0x([0-9a-fA-F]+)/.exec(a);
  return m ? Number.parseInt(m[1]!, 16) : Number.parseInt(a, 10);
}

/** the text of a `0xADDR(text)` argument */
function str(a: string | undefined): string | undefined {
  const m = a === undefined ? null : /^0x[0-9a-fA-F]+\((.*)\)$/.exec(a);
  return m ? m[1] : undefined;
}

/** One process's syscall state: the call awaiting its result, its fd → path table, its break. */
export class SyscallDecoder {
  /** the call awaiting its result, by valgrind thread id (threads' async calls interleave) */
  private readonly pending = new Map<number, Call>();
  private lastTid = 0;
  private readonly fds = new Map<number, string>();
  private brk = -1;
  exited = false;

  constructor(
    readonly pid: number,
    private readonly emit: RecordEmit,
    private readonly cwd: string,
  ) {}

  /** A line starting with `SYSCALL[`. */
  syscallLine(line: string): void {
    const m = HEAD.exec(line);
    if (!m) return;
    const rest = m[4]!;
    const tid = Number(m[2]);
    this.lastTid = tid;
    if (rest.startsWith('... [async] --> ')) return this.complete(tid, rest);
    const open = rest.indexOf('(');
    if (open < 0) return;
    const name = rest.slice(0, open).trim();
    const close = rest.lastIndexOf(' )');
    const inner = close > open ? rest.slice(open + 1, close).trim() : '';
    const call = { name, args: inner === '' ? [] : inner.split(', ') };
    const arrow = rest.indexOf(' --> ', close);
    this.pending.set(tid, call);
    if (arrow < 0) return; // clone: the result is on the next line
    const tail = rest.slice(arrow);
    if (tail.includes('[async] ...')) return;
    this.complete(tid, tail);
  }

  /** A line starting with ` --> `: the result of the pending call (clone), or nothing. */
  resultLine(line: string): void {
    if (this.pending.has(this.lastTid)) this.complete(this.lastTid, line);
  }

  private complete(tid: number, tail: string): void {
    const call = this.pending.get(tid);
    this.pending.delete(tid);
    const r = RESULT.exec(tail);
    if (!call || !r) return;
    if (r[1] !== 'Success') return;
    this.record(call, Number.parseInt(r[2]!, 16));
  }

  private record(c: Call, res: number): void {
    const pid = this.pid;
    const a = c.args;
    switch (c.name) {
      case 'sys_mmap': {
        const flags = num(a[3]);
        const fd = num(a[4]);
        const shared =
          (flags & MAP_SHARED_VALIDATE) === MAP_SHARED || (flags & MAP_SHARED_VALIDATE) === MAP_SHARED_VALIDATE;
        const p = flags & MAP_ANONYMOUS ? undefined : this.fds.get(fd);
        const rec = { t: 'mmap' as const, pid, addr: res, len: num(a[1]), prot: protName(num(a[2])), shared };
        this.emit(flags & MAP_ANONYMOUS ? rec : { ...rec, ...(p !== undefined && { path: p }), offset: num(a[5]) });
        return;
      }
      case 'sys_munmap':
        return this.emit({ t: 'munmap', pid, addr: num(a[0]), len: num(a[1]) });
      case 'sys_mprotect':
        return this.emit({ t: 'mprotect', pid, addr: num(a[0]), len: num(a[1]), prot: protName(num(a[2])) });
      case 'sys_mremap':
        return this.emit({ t: 'mremap', pid, addr: num(a[0]), oldLen: num(a[1]), newLen: num(a[2]), newAddr: res });
      case 'sys_madvise': {
        const adv = num(a[2]);
        return this.emit({
          t: 'madvise',
          pid,
          addr: num(a[0]),
          len: num(a[1]),
          advice: ADVICE[adv] ?? `advice_${adv}`,
        });
      }
      case 'sys_brk':
        if (res === this.brk) return;
        this.brk = res;
        return this.emit({ t: 'brk', pid, addr: res });
      case 'sys_clone': {
        const flags = Number.parseInt(a[0] ?? '0', 16);
        if (flags & CLONE_VM && flags & CLONE_THREAD) return this.emit({ t: 'clone', pid, tid: pid, newTid: res });
        return this.emit({ t: 'fork', pid, child: res });
      }
      case 'sys_fork':
      case 'sys_vfork':
        return this.emit({ t: 'fork', pid, child: res });
      case 'exit_group':
        this.exited = true;
        return this.emit({ t: 'exit', pid });
      case 'sys_openat': {
        const p = str(a[1]);
        const dirfd = num(a[0]);
        if (p === undefined) return;
        if (path.isAbsolute(p)) this.fds.set(res, p);
        else if (dirfd === AT_FDCWD) this.fds.set(res, path.resolve(this.cwd, p));
        else if (this.fds.has(dirfd)) this.fds.set(res, path.join(this.fds.get(dirfd)!, p));
        return;
      }
      case 'sys_open': {
        const p = str(a[0]);
        if (p !== undefined) this.fds.set(res, path.resolve(this.cwd, p));
        return;
      }
      case 'sys_close':
        this.fds.delete(num(a[0]));
        return;
      case 'sys_execve':
        // a successful execve does not return: valgrind restarts the log (converter.ts)
        return;
    }
  }
}
