/**
 * The mmsim trace records as JSON Lines (docs/recording.md; the schema shared with
 * @mmsim/program-trace). `t` is the kind, `pid` the process, `tid` the thread (default pid).
 */
export type Prot = string; // "none" or letters of "rwx" in that order

export type TraceRecord =
  | { t: 'mmap'; pid: number; addr: number; len: number; prot: Prot; shared: boolean; path?: string; offset?: number }
  | { t: 'munmap'; pid: number; addr: number; len: number }
  | { t: 'mprotect'; pid: number; addr: number; len: number; prot: Prot }
  | { t: 'mremap'; pid: number; addr: number; oldLen: number; newLen: number; newAddr: number }
  | { t: 'madvise'; pid: number; addr: number; len: number; advice: string }
  | { t: 'brk'; pid: number; addr: number }
  | { t: 'fork'; pid: number; child: number }
  | { t: 'clone'; pid: number; tid: number; newTid: number }
  | { t: 'exec'; pid: number }
  | { t: 'exit'; pid: number }
  | { t: 'access'; pid: number; page: number; w: boolean; n?: number }
  | { t: 'end'; pid: number; truncated: boolean; status?: number; signal?: string };

export interface TraceHeader {
  mmtrace: 1;
  cmd: string[];
  kernel: string;
  pageSize: number;
  date: string;
  recorder: string;
  notes: string[];
}

export type RecordSink = (r: TraceRecord) => void;
