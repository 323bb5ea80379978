/**
 * strace logs (`strace [-f] [-t|-tt|-ttt] -e trace=memory,process -o LOG CMD`, or a full trace):
 * OS events only, no accesses. Lines are `[PID ]NAME(ARGS) = RESULT`; with -f a call another
 * thread interrupts is split into `NAME(ARGS <unfinished ...>` and `<... NAME resumed>REST`,
 * joined here by pid. The calls kept: mmap, munmap, mprotect, mremap, madvise, brk,
 * fork/vfork/clone/clone3, execve/execveat, exit_group and the `+++ exited` line; openat/open/
 * close (when traced) give a file mapping its path. Failed calls are skipped.
 */
import path from 'node:path';
import { TraceFormatError } from '../errors.js';
import type { Prot, TraceHeader, TraceRecord } from '../records.js';
import { textLines } from './input.js';
import { ADVICE, protName } from './lackey-syscalls.js';
import type { ImportedTrace } from './reader.js';

/** `1234  ` (-f to a file) or `[pid  1234] ` (-f to the terminal), then -t/-tt (`12:00:01[.123456] `) or -ttt / -r (`1.123456 `) */
const PREFIX = /^(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?(?:\d\d:\d\d:\d\d(?:\.\d+)?\s+|\d+\.\d+\s+)?/;
const CALL = /^([a-z_][a-z0-9_]*)\((.*)\)\s+=\s+(.*)$/;
const UNFINISHED = /^([a-z_][a-z0-9_]*)\((.*?)\s*<unfinished \.\.\.>$/;
const RESUMED = /^<\.\.\. ([a-z_][a-z0-9_]*) resumed>\s*(.*)$/;
const EXITED = /^\+\+\+ (?:exited with (\d+)|killed by (SIG\w+)(?: \(core dumped\))?) \+\+\+$/;
const AT_FDCWD = 'AT_FDCWD';
const CLONE_THREAD = 'CLONE_THREAD';

export const STRACE_NOTES = [
  'imported from an strace log: OS events only, no memory accesses: a replay gives the mapping structure (no faults except MADV_POPULATE_*; MAP_POPULATE is not carried)',
  'file mappings carry their path when open/openat were traced, else `<fd N>`; mappings made before the first traced call (the executable, the stack, the vDSO) have no mmap record',
];

interface Proc {
  pid: number;
  brk: number;
  fds: Map<number, string>;
  exited: boolean;
}

/** Split an argument list at its top-level commas (not inside "..", [..], {..} or (..)). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '[' || c === '{' || c === '(') depth++;
    else if (c === ']' || c === '}' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = s.slice(start).trim();
  if (last !== '' || out.length > 0) out.push(last);
  return out;
}

/** A string argument `"text"` (strace's C escapes undone for \" and \\ only), or undefined. */
function str(a: string | undefined): string | undefined {
  const m = a === undefined ? null : /^"((?:[^"\\]|\\.)*)"(?:\.\.\.)?$/.exec(a);
  return m ? m[1]!.replace(/\\(["\\])/g, '$1') : undefined;
}

export async function importStrace(file: string): Promise<ImportedTrace> {
  // the command: the first execve's argv (strace's first line when it started the program)
  let cmd = [path.basename(file)];
  for await (const line of textLines(file)) {
    const rest = line.replace(PREFIX, '');
    if (rest === '' || rest.startsWith('strace: ')) continue;
    const m = /^execve\("(?:[^"\\]|\\.)*", \[(.*?)\]/.exec(rest);
    if (m) cmd = splitArgs(m[1]!).map((a) => str(a) ?? a);
    break;
  }
  const header: TraceHeader = { mmtrace: 1, cmd, pageSize: 4096, recorder: 'strace-import', notes: STRACE_NOTES };
  return { file, header, [Symbol.asyncIterator]: () => new StraceDecoder(file).records() };
}

class StraceDecoder {
  /** processes by pid; threads by tid → their process */
  private readonly procs = new Map<number, Proc>();
  private readonly threadOf = new Map<number, number>();
  private readonly pending = new Map<number, string>();
  private root: number | undefined;
  private end: TraceRecord | undefined;
  private out: TraceRecord[] = [];
  private lineNo = 0;
  constructor(readonly file: string) {}

  private bad(detail: string, field?: string): never {
    throw new TraceFormatError(this.file, `line ${this.lineNo}`, field, detail);
  }

  private proc(tid: number): Proc {
    const pid = this.threadOf.get(tid) ?? tid;
    let p = this.procs.get(pid);
    if (!p) {
      p = { pid, brk: -1, fds: new Map(), exited: false };
      this.procs.set(pid, p);
      this.root ??= pid;
    }
    return p;
  }

  async *records(): AsyncGenerator<TraceRecord> {
    for await (const line of textLines(this.file)) {
      this.lineNo++;
      this.line(line);
      if (this.out.length >= 4096) {
        const batch = this.out;
        this.out = [];
        yield* batch;
      }
    }
    this.pending.clear(); // calls never resumed (the log was cut)
    for (const [tid, q] of [...this.early]) this.replayEarly(tid, q);
    if (this.end) this.out.push(this.end);
    else if (this.root !== undefined) this.out.push({ t: 'end', pid: this.root, truncated: true });
    yield* this.out;
  }

  /** lines of a new pid printed while its parent's fork/clone had not returned yet (with their line numbers) */
  private readonly early = new Map<number, [number, string][]>();

  private known(tid: number): boolean {
    return this.procs.has(tid) || this.threadOf.has(tid);
  }

  private forking(): boolean {
    for (const h of this.pending.values()) if (/^(?:v?fork|clone3?)\(/.test(h)) return true;
    return false;
  }

  private line(line: string): void {
    const pre = PREFIX.exec(line)!;
    const tid = Number(pre[1] ?? pre[2] ?? 1);
    if (this.root !== undefined && !this.known(tid) && this.forking()) {
      // the child runs before the parent's fork returns: its lines wait for the fork record
      let q = this.early.get(tid);
      if (!q) this.early.set(tid, (q = []));
      q.push([this.lineNo, line]);
      return;
    }
    let rest = line.slice(pre[0].length);
    if (rest === '' || rest.startsWith('strace: ') || rest.startsWith('--- ')) return;
    const ex = EXITED.exec(rest);
    if (ex) return this.exited(tid, ex[1] === undefined ? undefined : Number(ex[1]), ex[2]);
    const un = UNFINISHED.exec(rest);
    if (un) {
      this.pending.set(tid, `${un[1]}(${un[2]}`);
      return;
    }
    const re = RESUMED.exec(rest);
    if (re) {
      const head = this.pending.get(tid);
      this.pending.delete(tid);
      if (head === undefined || !head.startsWith(`${re[1]}(`)) return; // its start was before the log
      const tail = re[2]!;
      rest =
        head.endsWith('(') || head.endsWith(',') || tail.startsWith(')') || tail.startsWith(',')
          ? head + tail
          : `${head}, ${tail}`;
    }
    const m = CALL.exec(rest);
    if (!m) this.bad(`not an strace line: ${JSON.stringify(line.slice(0, 80))}`);
    this.call(tid, m[1]!, m[2]!, m[3]!);
  }

  private exited(tid: number, status: number | undefined, signal: string | undefined): void {
    const pid = this.threadOf.get(tid) ?? tid;
    if (pid !== tid) return; // a thread's end: not a process exit
    const p = this.proc(tid);
    if (!p.exited) {
      p.exited = true;
      this.out.push({ t: 'exit', pid });
    }
    if (pid === this.root)
      this.end =
        signal === undefined
          ? { t: 'end', pid, truncated: false, ...(status !== undefined && { status }) }
          : { t: 'end', pid, truncated: true, signal };
  }

  private num(a: string | undefined, field: string): number {
    if (a === undefined) this.bad('missing argument', field);
    if (a === 'NULL') return 0;
    const v = /^0x[0-9a-f]+$/i.test(a) ? Number.parseInt(a, 16) : /^-?\d+$/.test(a) ? Number(a) : Number.NaN;
    if (!Number.isSafeInteger(v) || v < 0) this.bad(`not an address or length: ${JSON.stringify(a)}`, field);
    return v;
  }

  private prot(a: string | undefined): Prot {
    if (a === undefined) this.bad('missing argument', 'prot');
    let bits = 0;
    for (const f of a.split('|')) {
      if (f === 'PROT_READ') bits |= 1;
      else if (f === 'PROT_WRITE') bits |= 2;
      else if (f === 'PROT_EXEC') bits |= 4;
      else if (f === 'PROT_NONE') bits |= 0;
      else if (/^0x[0-9a-f]+$/i.test(f)) bits |= Number.parseInt(f, 16) & 7;
      else if (!f.startsWith('PROT_')) this.bad(`not a protection: ${JSON.stringify(a)}`, 'prot');
    }
    return protName(bits);
  }

  private call(tid: number, name: string, argText: string, result: string): void {
    const a = splitArgs(argText);
    const ok = !result.startsWith('-1 ') && !result.startsWith('?');
    const res = /^(0x[0-9a-f]+|\d+)/i.exec(result);
    const ret = res ? (res[1]!.startsWith('0x') ? Number.parseInt(res[1]!, 16) : Number(res[1])) : Number.NaN;
    const p = this.proc(tid);
    const pid = p.pid;
    const t = tid !== pid ? { tid } : {};
    if (name === 'exit_group') {
      if (!p.exited) {
        p.exited = true;
        this.out.push({ t: 'exit', pid, ...t });
      }
      return;
    }
    if (!ok || !res) return;
    switch (name) {
      case 'mmap':
      case 'mmap2': {
        const flags = (a[3] ?? '').split('|');
        const anon = flags.includes('MAP_ANONYMOUS') || flags.includes('MAP_ANON');
        const shared = flags.includes('MAP_SHARED') || flags.includes('MAP_SHARED_VALIDATE');
        const len = this.num(a[1], 'len');
        const prot = this.prot(a[2]);
        const rec = { t: 'mmap' as const, pid, ...t, addr: ret, len, prot, shared };
        if (anon) return void this.out.push(rec);
        // a path keeps the mapping file-backed (records.ts): `<fd N>` when open/openat were not traced
        const fd = a[4] ?? '';
        const file = p.fds.get(Number(fd)) ?? `<fd ${fd}>`;
        const offset = this.num(a[5], 'offset');
        return void this.out.push({ ...rec, path: file, offset });
      }
      case 'munmap':
        return void this.out.push({ t: 'munmap', pid, ...t, addr: this.num(a[0], 'addr'), len: this.num(a[1], 'len') });
      case 'mprotect':
      case 'pkey_mprotect':
        return void this.out.push({
          t: 'mprotect',
          pid,
          ...t,
          addr: this.num(a[0], 'addr'),
          len: this.num(a[1], 'len'),
          prot: this.prot(a[2]),
        });
      case 'mremap':
        return void this.out.push({
          t: 'mremap',
          pid,
          ...t,
          addr: this.num(a[0], 'addr'),
          oldLen: this.num(a[1], 'oldLen'),
          newLen: this.num(a[2], 'newLen'),
          newAddr: ret,
        });
      case 'madvise': {
        const adv = a[2] ?? this.bad('missing argument', 'advice');
        const advice = adv.startsWith('MADV_') ? adv.slice(5).toLowerCase() : (ADVICE[Number(adv)] ?? `advice_${adv}`);
        return void this.out.push({
          t: 'madvise',
          pid,
          ...t,
          addr: this.num(a[0], 'addr'),
          len: this.num(a[1], 'len'),
          advice,
        });
      }
      case 'brk':
        // brk(NULL) reports the break; a call that leaves it unchanged is not an event
        if (ret === p.brk) return;
        p.brk = ret;
        return void this.out.push({ t: 'brk', pid, ...t, addr: ret });
      case 'fork':
      case 'vfork':
        return this.fork(p, t, ret);
      case 'clone':
      case 'clone3': {
        if (argText.includes(CLONE_THREAD)) {
          this.threadOf.set(ret, pid);
          this.out.push({ t: 'clone', pid, tid, newTid: ret });
          const q = this.early.get(ret);
          if (q) this.replayEarly(ret, q);
          return;
        }
        return this.fork(p, t, ret);
      }
      case 'execve':
      case 'execveat': {
        // the first exec of the traced program starts the trace; a later one replaces the image
        const seen = this.out.length > 0 || this.procs.size > 1 || p.brk >= 0;
        p.brk = -1;
        p.fds.clear();
        if (seen) this.out.push({ t: 'exec', pid });
        return;
      }
      case 'openat':
      case 'open': {
        const at = name === 'openat';
        const f = str(a[at ? 1 : 0]);
        if (f === undefined) return;
        const dir = at ? a[0] : AT_FDCWD;
        if (path.isAbsolute(f)) p.fds.set(ret, f);
        else if (dir === AT_FDCWD) p.fds.set(ret, path.resolve('/', f));
        else if (p.fds.has(Number(dir))) p.fds.set(ret, path.join(p.fds.get(Number(dir))!, f));
        return;
      }
      case 'close':
        p.fds.delete(Number(a[0]));
        return;
    }
  }

  private fork(p: Proc, t: { tid?: number }, child: number): void {
    this.out.push({ t: 'fork', pid: p.pid, ...t, child });
    this.procs.set(child, { pid: child, brk: p.brk, fds: new Map(p.fds), exited: false });
    const q = this.early.get(child);
    if (q) this.replayEarly(child, q);
  }

  private replayEarly(tid: number, q: [number, string][]): void {
    this.early.delete(tid);
    const at = this.lineNo;
    for (const [n, l] of q) {
      this.lineNo = n;
      this.line(l);
    }
    this.lineNo = at;
  }
}
