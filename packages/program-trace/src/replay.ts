import { ADVICES } from '@mmsim/core';

/** core's `accesses` op: refs[i] = (page * 2 + write) * 256 + region index (scenario/ops/accesses.ts) */
const ACCESSES_MAX_REGIONS = 256;
/** the extent of an implicit mapping: the 2 MiB block (a PMD's reach) around its first access */
const IMPLICIT_BLOCK = 2 * 1024 * 1024;
/** accesses per `accesses` step at most (a batch is one step: progress moves between them) */
const BATCH_ACCESSES = 65536;
import type { Prot, TraceRecord } from './records.js';

/**
 * Replay: a trace's records as mmsim scenario steps (docs/trace-format.md "Replay").
 * Trace addresses are not mmsim addresses: a trace mapping becomes a region named by its
 * address (`m<hex>`), and the translator keeps, per process, the trace ranges each region still
 * covers ("pieces": a partial munmap splits them), so every later record is turned into
 * region + offset ranges of the regions it covers.
 */
export interface ReplayOptions {
  /** the scenario name of the trace's first process (default `p<pid>`); others are `<name>-<pid>` */
  pid?: string;
  /** the scenario's CPU count: trace CPUs map onto them modulo this (default 1) */
  cpus?: number;
  /** page size of the trace (default 4096) */
  pageSize?: number;
  /**
   * the `pid` process exists already (a `replay` step into a process the scenario spawned):
   * no `spawn` for it
   */
  existing?: boolean;
  /** put before every region name (`r2.m7f12…`: a second replay into the same process) */
  regionPrefix?: string;
  /** phases started at the 1st, 2nd, … `fork` record */
  phaseAtFork?: readonly string[];
  /** phases started right after the 1st, 2nd, … `fork` record's step */
  phaseAfterFork?: readonly string[];
  /**
   * an access outside every traced mapping maps its block as anonymous memory (default true:
   * the mappings made before tracing started); false skips it (`replay_unmapped_accesses`)
   */
  implicitMappings?: boolean;
}

export interface ReplaySteps {
  steps: Record<string, unknown>[];
  /** the scenario `files` the steps map (by path; warm page cache) */
  files: Record<string, { size: number; cached: true }>;
  /** one line per kind of record that could not be modelled exactly (the first occurrence) */
  warnings: string[];
  /** replay_* counts: file mappings, approximations, records skipped */
  counters: Record<string, number>;
}

interface Piece {
  /** trace byte range [start, end) */
  start: number;
  end: number;
  region: string;
  /** trace address of the region's offset 0 */
  base: number;
}

interface Proc {
  name: string;
  pieces: Piece[];
  /** program break: the initial break (first brk) and the current one */
  brkBase: number;
  brk: number;
  /** the CPUs this process has a thread on (a `thread` step made each but the first) */
  cpus: Set<number>;
  /** threads created so far (clone's round-robin CPU choice) */
  threads: number;
  /** the piece the last access hit (null after any change of the pieces) */
  last: Piece | null;
  /** the pieces by start address (null after any change: rebuilt at the next miss) */
  sorted: Piece[] | null;
  /** every range a traced mmap or munmap named since the process's last exec: [start, end) pairs */
  known: number[];
}

const PROT: Record<Prot, { prot: 'r' | 'w' | 'rw' | 'none'; exec: boolean }> = {
  r: { prot: 'r', exec: false },
  rw: { prot: 'rw', exec: false },
  w: { prot: 'w', exec: false },
  none: { prot: 'none', exec: false },
  rx: { prot: 'r', exec: true },
  rwx: { prot: 'rw', exec: true },
  x: { prot: 'none', exec: true },
  wx: { prot: 'rw', exec: true },
};
const ADVICE = new Set<string>(ADVICES);

/** The piece holding `addr` (pieces do not overlap): a binary search of the sorted pieces. */
function pieceAt(p: Proc, addr: number): Piece | null {
  let a = p.sorted;
  if (a === null) a = p.sorted = [...p.pieces].sort((x, y) => x.start - y.start);
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const x = a[mid]!;
    if (addr < x.start) hi = mid - 1;
    else if (addr >= x.end) lo = mid + 1;
    else return x;
  }
  return null;
}

export class TraceReplayer {
  readonly steps: Record<string, unknown>[] = [];
  readonly counters: Record<string, number> = {};
  readonly warnings: string[] = [];
  private readonly warned = new Set<string>();
  private readonly procs = new Map<number, Proc>();
  private readonly threadCpu = new Map<number, number>();
  private readonly allNames = new Set<string>();
  /** the files the trace maps: path → bytes (the largest offset + length mapped) */
  private readonly files = new Map<string, number>();
  private forks = 0;
  private root: string | undefined;
  private readonly page: number;
  private readonly cpus: number;
  constructor(private readonly opts: ReplayOptions = {}) {
    this.page = opts.pageSize ?? 4096;
    this.cpus = Math.max(1, opts.cpus ?? 1);
  }

  private count(counter: string, warning?: string): void {
    this.counters[counter] = (this.counters[counter] ?? 0) + 1;
    if (warning && !this.warned.has(counter)) {
      this.warned.add(counter);
      this.warnings.push(`${warning} (counted in ${counter})`);
    }
  }

  private nameOf(pid: number): string {
    if (this.root === undefined) this.root = this.opts.pid ?? `p${pid}`;
    return this.procs.size === 0 ? this.root : `${this.root}-${pid}`;
  }

  private proc(pid: number): Proc {
    let p = this.procs.get(pid);
    if (!p) {
      const first = this.procs.size === 0;
      p = {
        name: this.nameOf(pid),
        pieces: [],
        brkBase: -1,
        brk: -1,
        cpus: new Set([0]),
        threads: 1,
        last: null,
        sorted: null,
        known: [],
      };
      this.procs.set(pid, p);
      this.allNames.add(p.name);
      if (!(first && this.opts.existing)) this.steps.push({ op: 'spawn', pid: p.name, cpu: 0 });
    }
    return p;
  }

  private cpuOf(pid: number, tid: number | undefined): number {
    return this.threadCpu.get(tid ?? pid) ?? 0;
  }

  /** A thread of `p` on `cpu` for the steps that name it (`thread`: mmsim's threads are per CPU). */
  private onCpu(p: Proc, tid: number, cpu: number): void {
    this.threadCpu.set(tid, cpu);
    if (p.cpus.has(cpu)) return;
    p.cpus.add(cpu);
    this.steps.push({ op: 'thread', pid: p.name, cpu });
  }

  private roundUp(n: number): number {
    return Math.ceil(n / this.page) * this.page;
  }

  /** the pieces overlapping [start, end), as (piece, overlap) pairs */
  private overlaps(p: Proc, start: number, end: number): { piece: Piece; s: number; e: number }[] {
    const out: { piece: Piece; s: number; e: number }[] = [];
    for (const piece of p.pieces) {
      const s = Math.max(start, piece.start);
      const e = Math.min(end, piece.end);
      if (s < e) out.push({ piece, s, e });
    }
    return out;
  }

  /** A region name for a mapping at `addr` that the process never used (`.2`, `.3` … on reuse). */
  private freshName(p: Proc, addr: number, kind = 'm'): string {
    const name = `${this.opts.regionPrefix ?? ''}${kind}${addr.toString(16)}`;
    let region = name;
    for (let i = 2; p.pieces.some((x) => x.region === region) || this.everNamed(p, region); i++)
      region = `${name}.${i}`;
    this.named(p, region);
    return region;
  }

  private map(p: Proc, addr: number, len: number, extra: Record<string, unknown>): void {
    const region = this.freshName(p, addr);
    const size = this.roundUp(len);
    // mmap over a mapping (MAP_FIXED, as ld.so maps a library's segments over its reservation):
    // mmap_region() unmaps what was there first
    this.unmap(p, addr, addr + size);
    p.known.push(addr, addr + size);
    this.steps.push({ op: 'mmap', pid: p.name, name: region, size, ...extra });
    p.pieces.push({ start: addr, end: addr + size, region, base: addr });
    p.last = null;
    p.sorted = null;
  }
  private readonly names = new Map<Proc, Set<string>>();
  private everNamed(p: Proc, n: string): boolean {
    return this.names.get(p)?.has(n) ?? false;
  }
  private named(p: Proc, n: string): void {
    let s = this.names.get(p);
    if (!s) this.names.set(p, (s = new Set()));
    s.add(n);
  }

  private unmap(p: Proc, start: number, end: number): void {
    p.known.push(start, end);
    for (const { piece, s, e } of this.overlaps(p, start, end))
      this.steps.push({ op: 'munmap', pid: p.name, region: piece.region, offset: s - piece.base, size: e - s });
    this.cut(p, start, end);
  }

  /** The translator's ranges without [start, end) (pieces split), no step. */
  private cut(p: Proc, start: number, end: number): void {
    for (const { piece, s, e } of this.overlaps(p, start, end)) {
      const i = p.pieces.indexOf(piece);
      const keep: Piece[] = [];
      if (piece.start < s) keep.push({ ...piece, end: s });
      if (e < piece.end) keep.push({ ...piece, start: e });
      p.pieces.splice(i, 1, ...keep);
      p.last = null;
      p.sorted = null;
    }
  }

  private ranged(p: Proc, addr: number, len: number, step: Record<string, unknown>, what: string): void {
    const end = addr + this.roundUp(len);
    const parts = this.overlaps(p, addr, end);
    if (parts.length === 0) this.count('replay_unmapped_ranges', `a ${what} of an unmapped range: skipped`);
    for (const { piece, s, e } of parts)
      this.steps.push({ ...step, pid: p.name, region: piece.region, offset: s - piece.base, size: e - s });
  }

  /**
   * A mapping made before the first traced syscall (by execve() or valgrind: the executable,
   * ld.so, the stack, the vDSO), seen through its first access: a private mapping over the
   * access's 2 MiB-aligned block, clamped to the traced mappings around it, of a file of its
   * own in the page cache: what it stands for is mostly an ELF image's text and data (read
   * faults map page-cache pages with fault-around, writes copy them, as do_read_fault() and
   * do_cow_fault() do); a stack written before it is read faults as anonymous memory would.
   */
  private known(p: Proc, addr: number): boolean {
    for (let i = 0; i < p.known.length; i += 2) if (p.known[i]! <= addr && addr < p.known[i + 1]!) return true;
    return false;
  }

  private implicit(p: Proc, addr: number): Piece {
    this.flush(); // the batch so far names only regions that exist before this mmap
    let start = addr - (addr % IMPLICIT_BLOCK);
    let end = start + IMPLICIT_BLOCK;
    for (const x of p.pieces) {
      if (x.end <= addr && x.end > start) start = x.end;
      if (x.start > addr && x.start < end) end = x.start;
    }
    this.count(
      'replay_implicit_mappings',
      'an access outside every traced mapping (the executable, ld.so, the stack: mapped before the first traced syscall): a private mapping of its 2 MiB block, over a cached file of its own, made at the first access',
    );
    const region = this.freshName(p, start, 'i');
    const file = `(implicit ${p.name} ${region})`;
    this.files.set(file, end - start);
    this.steps.push({ op: 'mmap', pid: p.name, name: region, size: end - start, file });
    const piece: Piece = { start, end, region, base: start };
    p.pieces.push(piece);
    p.sorted = null;
    return piece;
  }

  /** The open `accesses` batch (one process and CPU, at most 256 regions, 65536 accesses). */
  private batch: { proc: Proc; cpu: number; regions: string[]; index: Map<string, number>; refs: number[] } | null =
    null;

  private access(p: Proc, cpu: number, region: string, page: number, write: boolean): void {
    let b = this.batch;
    if (b !== null && (b.proc !== p || b.cpu !== cpu || b.refs.length >= BATCH_ACCESSES)) b = this.flush();
    let ri = b?.index.get(region);
    if (b !== null && ri === undefined && b.regions.length === ACCESSES_MAX_REGIONS) b = this.flush();
    if (b === null) b = this.batch = { proc: p, cpu, regions: [], index: new Map(), refs: [] };
    if (ri === undefined) {
      ri = b.regions.length;
      b.regions.push(region);
      b.index.set(region, ri);
    }
    b.refs.push((page * 2 + (write ? 1 : 0)) * ACCESSES_MAX_REGIONS + ri);
  }

  /** End the open batch: its `accesses` step. */
  private flush(): null {
    const b = this.batch;
    if (b === null) return null;
    this.batch = null;
    this.steps.push({
      op: 'accesses',
      pid: b.proc.name,
      ...(b.cpu ? { cpu: b.cpu } : {}),
      regions: b.regions,
      refs: b.refs,
    });
    return null;
  }

  /** An access record as numbers (the columnar reader's fast path; `add` of an access comes here). */
  addAccess(pid: number, tid: number | undefined, pageNo: number, write: boolean, n: number): void {
    const p = this.procs.get(pid) ?? this.proc(pid);
    const addr = pageNo * this.page;
    // accesses come in runs: the last piece hit first (pieces only change between accesses)
    let piece = p.last;
    if (piece === null || addr < piece.start || addr >= piece.end) {
      piece = pieceAt(p, addr);
      if (piece === null) {
        if (this.opts.implicitMappings === false || this.known(p, addr)) {
          // (a range the trace mapped, then unmapped: the program's access would be a SIGSEGV)
          this.count('replay_unmapped_accesses', 'an access outside every traced mapping: skipped');
          return;
        }
        piece = this.implicit(p, addr);
      }
      p.last = piece;
    }
    // one access of the page: of a run of n, only the first can fault; the n-1 repeats hit the
    // PTE the first one set (no mm event to model)
    this.access(p, this.cpuOf(pid, tid), piece.region, (addr - piece.base) / this.page, write);
    if (n > 1) this.repeats += n - 1;
  }
  private repeats = 0;

  add(r: TraceRecord): void {
    if (r.t === 'access') return this.addAccess(r.pid, r.tid, r.page, r.w === true, r.n ?? 1);
    this.flush();
    if (r.t === 'end') {
      if (r.truncated) this.count('replay_truncated', 'the recording was cut short: the trace ends early');
      return;
    }
    const p = this.proc(r.pid);
    switch (r.t) {
      case 'mmap': {
        const pr = PROT[r.prot];
        if (pr.exec)
          this.count('replay_exec_mappings', 'an executable mapping: mapped without exec (mmsim has no PROT_EXEC)');
        const extra: Record<string, unknown> = {};
        if (pr.prot !== 'rw') extra.prot = pr.prot;
        if (r.path !== undefined && r.path !== '/dev/zero') {
          // a file of the scenario named by the path, as large as the trace maps of it, its
          // pages in the page cache when the run starts (the libraries every program maps)
          const offset = r.offset ?? 0;
          const end = this.roundUp(offset + r.len);
          if (end > (this.files.get(r.path) ?? 0)) this.files.set(r.path, end);
          extra.file = r.path;
          if (offset !== 0) extra.offset = offset;
          this.count(
            'replay_file_mappings',
            "a file mapping: replayed over a scenario file named by the path, as large as the trace maps of it, in the page cache from the start; its contents are a hash of the name, not the file's",
          );
        }
        if (r.shared) extra.shared = true;
        this.map(p, r.addr, r.len, extra);
        return;
      }
      case 'munmap':
        this.unmap(p, r.addr, r.addr + this.roundUp(r.len));
        return;
      case 'mprotect': {
        const pr = PROT[r.prot];
        if (pr.exec)
          this.count('replay_exec_mappings', 'an executable mapping: mapped without exec (mmsim has no PROT_EXEC)');
        this.ranged(p, r.addr, r.len, { op: 'mprotect', prot: pr.prot }, 'mprotect');
        return;
      }
      case 'madvise':
        if (!ADVICE.has(r.advice)) {
          this.count('replay_unknown_advice', `madvise "${r.advice}": not an mmsim advice, skipped`);
          return;
        }
        this.ranged(p, r.addr, r.len, { op: 'madvise', advice: r.advice }, 'madvise');
        return;
      case 'mremap': {
        const oldEnd = r.addr + this.roundUp(r.oldLen);
        const newLen = this.roundUp(r.newLen);
        const to = r.newAddr ?? r.addr;
        const piece = p.pieces.find((x) => x.start <= r.addr && oldEnd <= x.end);
        if (!piece) {
          // mremap(2) works inside one VMA: a range the translator saw mapped in parts (or not
          // at all) is approximated: unmapped, and the new range mapped afresh
          this.count(
            'replay_mremap_approximated',
            'an mremap of a range not mapped as one piece: replayed as munmap + mmap (contents not moved)',
          );
          this.unmap(p, r.addr, oldEnd);
          this.map(p, to, r.newLen, {});
          return;
        }
        const range = { pid: p.name, region: piece.region, offset: r.addr - piece.base, size: oldEnd - r.addr };
        p.known.push(r.addr, oldEnd, to, to + newLen);
        if (to === r.addr && r.addr + newLen <= oldEnd) {
          // shrinking in place: do_mremap() unmaps the tail
          this.steps.push({ op: 'mremap', ...range, newSize: newLen });
          this.cut(p, r.addr + newLen, oldEnd);
          return;
        }
        // growing or moving: MREMAP_MAYMOVE into a region named by the new address (mmsim's
        // layout is its own, so mmsim may move what the program grew in place, or the reverse)
        const region = this.freshName(p, to);
        this.steps.push({ op: 'mremap', ...range, newSize: newLen, mayMove: true, to: region });
        this.cut(p, r.addr, oldEnd);
        this.cut(p, to, to + newLen);
        p.pieces.push({ start: to, end: to + newLen, region, base: to });
        p.last = null;
        p.sorted = null;
        return;
      }
      case 'brk': {
        if (p.brkBase < 0) {
          // the first brk of a process reports the initial break (the heap is empty)
          p.brkBase = p.brk = this.roundUp(r.addr);
          return;
        }
        const want = this.roundUp(Math.max(r.addr, p.brkBase));
        if (want > p.brk)
          this.map(p, p.brk, want - p.brk, {}); // do_brk_flags(): a new stretch of heap
        else if (want < p.brk) this.unmap(p, want, p.brk);
        p.brk = want;
        return;
      }
      case 'fork': {
        const nth = this.forks++;
        const ph = this.opts.phaseAtFork?.[nth];
        if (ph !== undefined) this.steps.push({ op: 'phase', name: ph });
        // the child's only thread runs where its parent's forking thread runs (copy_process())
        const cpu = this.cpuOf(r.pid, r.tid);
        const child: Proc = {
          name: `${this.root}-${r.child}`,
          pieces: p.pieces.map((x) => ({ ...x })),
          brkBase: p.brkBase,
          brk: p.brk,
          cpus: new Set([cpu]),
          threads: 1,
          last: null,
          sorted: null,
          known: [...p.known],
        };
        this.names.set(child, new Set(this.names.get(p)));
        this.procs.set(r.child, child);
        this.allNames.add(child.name);
        this.threadCpu.set(r.child, cpu);
        this.steps.push({ op: 'fork', pid: p.name, child: child.name, ...(cpu ? { cpu } : {}) });
        const after = this.opts.phaseAfterFork?.[nth];
        if (after !== undefined) this.steps.push({ op: 'phase', name: after });
        return;
      }
      case 'clone':
        // a new thread of the process (CLONE_VM | CLONE_THREAD): without a `cpu` record, thread
        // i runs on CPU i modulo the CPU count, as the scheduler spreads an idle machine's threads
        this.onCpu(p, r.newTid, p.threads++ % this.cpus);
        this.count('replay_threads');
        return;
      case 'exit':
        if (r.tid !== undefined && r.tid !== r.pid) {
          // one thread's exit(): mmsim has no thread exit, its CPU keeps the thread
          this.count('replay_thread_exits');
          return;
        }
        this.steps.push({ op: 'exit', pid: p.name });
        this.procs.delete(r.pid);
        return;
      case 'cpu':
        this.onCpu(p, r.tid ?? r.pid, r.cpu % this.cpus);
        return;
      case 'exec': {
        // execve(): exec_mmap() replaces the address space; the new program's mappings follow
        for (const x of [...p.pieces]) this.unmap(p, x.start, x.end);
        p.known = [];
        p.brkBase = -1;
        p.brk = -1;
        this.count(
          'replay_execs',
          "an exec: the old mappings are unmapped; the new program's own (the executable, ld.so, the stack) are not in the trace and are made at their first access",
        );
        return;
      }
    }
  }

  /** The scenario names of every process the trace made, the first process first. */
  processNames(): string[] {
    return [...this.allNames];
  }

  result(): ReplaySteps {
    this.flush();
    if (this.repeats > 0) this.counters.replay_repeats = (this.counters.replay_repeats ?? 0) + this.repeats;
    this.repeats = 0;
    const files: Record<string, { size: number; cached: true }> = {};
    for (const [path, size] of [...this.files].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
      files[path] = { size, cached: true };
    return { steps: this.steps, files, warnings: this.warnings, counters: this.counters };
  }
}

/** Translate a whole trace into scenario steps. */
export async function traceToSteps(
  records: AsyncIterable<TraceRecord>,
  opts: ReplayOptions = {},
): Promise<ReplaySteps> {
  const t = new TraceReplayer(opts);
  for await (const r of records) t.add(r);
  return t.result();
}
