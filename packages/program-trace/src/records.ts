/**
 * The mmsim program-trace records (issue 18; the schema shared with the recorder):
 * a header, then an ordered stream of records. Names are the contract: never rename.
 */

/** Protections a mapping may carry. */
export const PROTS = ['r', 'rw', 'w', 'none', 'rx', 'rwx', 'x', 'wx'] as const;
export type Prot = (typeof PROTS)[number];

/** The record kinds, in their binary tag order (never reorder: the tag is the index). */
export const KINDS = [
  'mmap',
  'munmap',
  'mprotect',
  'mremap',
  'madvise',
  'brk',
  'fork',
  'clone',
  'exit',
  'cpu',
  'access',
  'exec',
  'end',
] as const;
export type Kind = (typeof KINDS)[number];

/** First line / header object. Unknown header fields are kept verbatim. */
export interface TraceHeader {
  mmtrace: 1;
  cmd?: string[];
  kernel?: string;
  pageSize?: number;
  date?: string;
  recorder?: string;
  notes?: string[];
  [extra: string]: unknown;
}

interface Base {
  pid: number;
  /** the thread; absent = pid */
  tid?: number;
}
export interface MmapRecord extends Base {
  t: 'mmap';
  addr: number;
  len: number;
  prot: Prot;
  shared?: boolean;
  /** file-backed when present, anonymous when absent */
  path?: string;
  offset?: number;
}
export interface MunmapRecord extends Base {
  t: 'munmap';
  addr: number;
  len: number;
}
export interface MprotectRecord extends Base {
  t: 'mprotect';
  addr: number;
  len: number;
  prot: Prot;
}
export interface MremapRecord extends Base {
  t: 'mremap';
  addr: number;
  oldLen: number;
  newLen: number;
  newAddr?: number;
}
export interface MadviseRecord extends Base {
  t: 'madvise';
  addr: number;
  len: number;
  /** an mmsim advice name (e.g. "dontneed") */
  advice: string;
}
export interface BrkRecord extends Base {
  t: 'brk';
  addr: number;
}
export interface ForkRecord extends Base {
  t: 'fork';
  child: number;
}
export interface CloneRecord extends Base {
  t: 'clone';
  newTid: number;
}
export interface ExitRecord extends Base {
  t: 'exit';
}
/** execve(): the process's address space is replaced (the recorder saw a new program start) */
export interface ExecRecord extends Base {
  t: 'exec';
}
/** The last record: the recording was cut short (`truncated`, with the `signal`) or the program's exit `status`. */
export interface EndRecord extends Base {
  t: 'end';
  truncated?: boolean;
  status?: number;
  signal?: string;
}
export interface CpuRecord extends Base {
  t: 'cpu';
  cpu: number;
}
export interface AccessRecord extends Base {
  t: 'access';
  /** page number = address >> 12 */
  page: number;
  /** a write (absent = read) */
  w?: boolean;
  /** run length of repeated accesses to this page with the same w (absent = 1) */
  n?: number;
}

export type TraceRecord =
  | MmapRecord
  | MunmapRecord
  | MprotectRecord
  | MremapRecord
  | MadviseRecord
  | BrkRecord
  | ForkRecord
  | CloneRecord
  | ExitRecord
  | CpuRecord
  | AccessRecord
  | ExecRecord
  | EndRecord;

/** Field order of each kind in the canonical JSON form (after t, pid, tid). */
export const FIELDS: { readonly [K in Kind]: readonly string[] } = {
  mmap: ['addr', 'len', 'prot', 'shared', 'path', 'offset'],
  munmap: ['addr', 'len'],
  mprotect: ['addr', 'len', 'prot'],
  mremap: ['addr', 'oldLen', 'newLen', 'newAddr'],
  madvise: ['addr', 'len', 'advice'],
  brk: ['addr'],
  fork: ['child'],
  clone: ['newTid'],
  exit: [],
  cpu: ['cpu'],
  access: ['page', 'w', 'n'],
  exec: [],
  end: ['truncated', 'status', 'signal'],
};

/** Linux PID_MAX_LIMIT (include/linux/threads.h: 4M on 64-bit): pids and tids are below it. */
export const PID_LIMIT = 2 ** 22;
/** Longest path the binary form stores (PATH_MAX). */
export const PATH_LIMIT = 4096;

/** The canonical JSON Lines text of a record (keys in schema order: `t`, `pid`, `tid`, then the kind's fields). */
export function formatRecord(r: TraceRecord): string {
  const o = r as unknown as Record<string, unknown>;
  let s = `{"t":"${r.t}","pid":${r.pid}`;
  if (r.tid !== undefined) s += `,"tid":${r.tid}`;
  for (const f of FIELDS[r.t]) {
    const v = o[f];
    if (v !== undefined) s += `,"${f}":${JSON.stringify(v)}`;
  }
  return `${s}}`;
}
