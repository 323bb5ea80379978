/**
 * One process's valgrind log (lackey `--trace-mem=yes` plus `--trace-syscalls=yes`, in program
 * order) into trace records, a line at a time (nothing of the log is kept). Lackey's data lines
 * ` L addr,size` / ` S ...` / ` M ...` become page-granular accesses (M, a load then a store, is a
 * write; an access that straddles a page boundary touches both pages), run-length encoded by
 * page and kind; `I` (instruction fetch) lines are counted and dropped, or with `fetches: 'first'`
 * the first fetch of each page since the last mapping change is kept as a read (docs/recording.md).
 */
import { type RecordEmit, SyscallDecoder } from './lackey-syscalls.js';

export const PAGE_SHIFT = 12;
const PAGE_SIZE = 1 << PAGE_SHIFT;

export interface ConverterStats {
  /** lackey data accesses (L/S/M lines) */
  dataAccesses: number;
  /** lackey instruction fetches (I lines, dropped) */
  fetches: number;
  /** access records emitted */
  accessRecords: number;
}

export class LogConverter {
  private runPage = -1;
  private runW = false;
  private runN = 0;
  private sys: SyscallDecoder;
  readonly stats: ConverterStats = { dataAccesses: 0, fetches: 0, accessRecords: 0 };
  private starts = 0;

  constructor(
    readonly pid: number,
    private readonly emit: RecordEmit,
    private readonly cwd = process.cwd(),
    /** a forked child: its log opens with fork's return, unless it exec'd before the log was read */
    private forked = false,
    /**
     * `I` lines: dropped (default), or the first fetch of each page since the process's last
     * mapping change kept as a read (the program's text then faults and is resident in a replay)
     */
    private readonly fetches: 'drop' | 'first' = 'drop',
  ) {
    this.sys = new SyscallDecoder(pid, (r) => this.event(r), cwd);
  }

  get exited(): boolean {
    return this.sys.exited;
  }

  line(s: string): void {
    const c0 = s.charCodeAt(0);
    if (this.forked && s.length > 0 && c0 !== 61 /* = */) {
      // valgrind reopens log.%p with O_TRUNC after an execve: a child's log that does not start
      // with fork's ` --> ` return line is the exec'd image's
      this.forked = false;
      if (!s.startsWith(' --> ')) this.emit({ t: 'exec', pid: this.pid });
    }
    if (c0 === 73 /* I */) {
      this.stats.fetches++;
      if (this.fetches === 'first') this.fetch(s);
      return;
    }
    if (c0 === 32 /* space */) {
      const k = s.charCodeAt(1);
      if (k === 76 /* L */ || k === 83 /* S */ || k === 77 /* M */) return this.access(s, k !== 76);
      if (s.startsWith(' --> ')) return this.sys.resultLine(s);
      return;
    }
    if (c0 === 83 /* S */ && s.startsWith('SYSCALL[')) return this.sys.syscallLine(s);
    // `==PID== Command: ...` opens each image's log: a second one follows a successful execve
    if (c0 === 61 /* = */ && s.includes('== Command: ')) {
      if (this.starts++ > 0) {
        this.flush();
        this.fetched.clear();
        this.sys = new SyscallDecoder(this.pid, (r) => this.event(r), this.cwd);
        this.emit({ t: 'exec', pid: this.pid });
      }
    }
  }

  /** pages fetched since the last mapping change (fetches: 'first') */
  private readonly fetched = new Set<number>();

  /** `I  04012a0,3`: the first fetch of its page since the last mapping change, as a read */
  private fetch(s: string): void {
    const comma = s.indexOf(',', 3);
    if (comma < 0) return;
    const addr = Number.parseInt(s.slice(3, comma), 16);
    if (Number.isNaN(addr)) return;
    const page = Math.floor(addr / PAGE_SIZE);
    if (this.fetched.has(page)) return;
    this.fetched.add(page);
    if (page === this.runPage && !this.runW) this.runN++;
    else {
      this.flush();
      this.runPage = page;
      this.runW = false;
      this.runN = 1;
    }
  }

  /** ` L 1ffefff6a0,8` */
  private access(s: string, w: boolean): void {
    const comma = s.indexOf(',', 3);
    if (comma < 0) return;
    const addr = Number.parseInt(s.slice(3, comma), 16);
    const size = Number.parseInt(s.slice(comma + 1), 10) || 1;
    if (Number.isNaN(addr)) return;
    this.stats.dataAccesses++;
    const first = Math.floor(addr / PAGE_SIZE);
    const last = Math.floor((addr + size - 1) / PAGE_SIZE);
    for (let p = first; p <= last; p++) {
      if (p === this.runPage && w === this.runW) this.runN++;
      else {
        this.flush();
        this.runPage = p;
        this.runW = w;
        this.runN = 1;
      }
    }
  }

  private event(r: Parameters<RecordEmit>[0]): void {
    this.flush();
    // a mapping change may make a fetched page fault again
    if (r.t === 'mmap' || r.t === 'munmap' || r.t === 'mprotect' || r.t === 'mremap' || r.t === 'exec')
      this.fetched.clear();
    this.emit(r);
  }

  /** Emit the access run in progress (before an event, and at the end of the log). */
  flush(): void {
    if (this.runN === 0) return;
    this.stats.accessRecords++;
    this.emit(
      this.runN === 1
        ? { t: 'access', pid: this.pid, page: this.runPage, w: this.runW }
        : { t: 'access', pid: this.pid, page: this.runPage, w: this.runW, n: this.runN },
    );
    this.runN = 0;
    this.runPage = -1;
  }

  /** The end of the log: the pending run, and an exit when the process did not exit_group. */
  end(): void {
    this.flush();
    if (!this.sys.exited) {
      this.sys.exited = true;
      this.emit({ t: 'exit', pid: this.pid });
    }
  }
}
