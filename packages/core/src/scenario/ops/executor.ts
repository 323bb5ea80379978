/** The op executor: one handler per scenario op (a table keyed by op name) and the state the ops share. */
import { memcgHandleOverHigh } from '../../kernel/memcontrol.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Process, Thread } from '../../kernel/task.js';
import { AccessResult, userAccess } from '../../kernel/fault.js';
import type { Pin } from '../../kernel/gup.js';
import { PAGE_SIZE, parseSize } from '../../units.js';
import { ScenarioError } from '../errors.js';
import { SimError } from '../../kernel/kernel.js';
import type { Step } from '../schema.js';
import { prng } from '../prng.js';
import type { OpObserver } from './observer.js';
import { fork, exit, spawn, thread } from './process.js';
import { madviseOp, mmap, mprotectOp, mremap, munmapOp } from './memory.js';
import { access, touch } from './access.js';
import { pin, readPinOp, unpin } from './pin.js';
import {
  uffdApiOp,
  uffdCopyOp,
  uffdMoveOp,
  uffdPoisonOp,
  uffdReadOp,
  uffdRegisterOp,
  uffdUnregisterOp,
  uffdWriteProtectOp,
  uffdZeropageOp,
} from './uffd.js';
import { migrateOp, pokeMemOp } from './mem-ops.js';
import { drain, khugepaged, phase, repeat, replay } from './control.js';
import { accesses } from './accesses.js';
import { compute } from './compute.js';
import { clearRefsOp, pagemapOp } from './procfs.js';
import { readOp, writeOp } from './file-io.js';
import { mapsOp } from './maps.js';
import { mlockallOp, mlockOp, munlockallOp, munlockOp } from './mlock.js';
import { processMadviseOp } from './process-madvise.js';
import { ksmdOp, ksmOp, ksmStatOp, prctlOp } from './ksm.js';

export type OpName = Step['op'];
export type StepOf<K extends OpName> = Extract<Step, { op: K }>;
/** Executes one step (`path` names it in errors). Validates it and throws ScenarioError on bad input. */
export type OpHandler<K extends OpName = OpName> = (x: OpExecutor, step: StepOf<K>, path: string) => void;

/** A named region of a process: its pages (names survive munmap and mremap, like the runner's always did). */
export interface OpRegion {
  start: number;
  pages: number;
}

/** Every op of the scenario format and its handler. */
export const OP_HANDLERS: { readonly [K in OpName]: OpHandler<K> } = {
  spawn,
  thread,
  mmap,
  munmap: munmapOp,
  touch,
  access,
  accesses,
  fork,
  exit,
  madvise: madviseOp,
  mprotect: mprotectOp,
  mremap,
  pin,
  unpin,
  readPin: readPinOp,
  uffdRegister: uffdRegisterOp,
  uffdCopy: uffdCopyOp,
  uffdWriteProtect: uffdWriteProtectOp,
  uffdApi: uffdApiOp,
  uffdZeropage: uffdZeropageOp,
  uffdUnregister: uffdUnregisterOp,
  uffdPoison: uffdPoisonOp,
  uffdMove: uffdMoveOp,
  uffdRead: uffdReadOp,
  pokeMem: pokeMemOp,
  migrate: migrateOp,
  pagemap: pagemapOp,
  clearRefs: clearRefsOp,
  maps: mapsOp,
  drain,
  khugepaged,
  read: readOp,
  write: writeOp,
  compute,
  phase,
  repeat,
  replay,
  mlock: mlockOp,
  munlock: munlockOp,
  mlockall: mlockallOp,
  munlockall: munlockallOp,
  processMadvise: processMadviseOp,
  ksm: ksmOp,
  ksmd: ksmdOp,
  prctl: prctlOp,
  ksmStat: ksmStatOp,
};

export interface OpExecutorOptions {
  /** the scenario file, for error messages */
  file?: string | undefined;
  /** seed of random touch orders (default 1) */
  seed?: number | undefined;
  observer?: OpObserver | undefined;
}

const NO_OBSERVER: OpObserver = {};

/** Runs scenario steps on a kernel: regions, pins, written values and the observer's hooks. */
export class OpExecutor {
  readonly observer: OpObserver;
  /** per pid: region name → pages */
  readonly regions = new Map<string, Map<string, OpRegion>>();
  readonly pins = new Map<string, Pin>();
  /** the last value a write without `value` stored */
  writeSeq = 0;
  readonly rand: () => number;
  readonly file: string;

  constructor(
    readonly k: Kernel,
    opts: OpExecutorOptions = {},
  ) {
    this.observer = opts.observer ?? NO_OBSERVER;
    this.rand = prng(opts.seed ?? 1);
    this.file = opts.file ?? '<scenario>';
  }

  /** Run a list of steps; step i is `${path}[i]`. */
  runSteps(steps: readonly Step[], path: string): void {
    for (let i = 0; i < steps.length; i++) this.exec(steps[i]!, `${path}[${i}]`);
  }

  /** Run one step (a `repeat` runs its body) through the table, with the observer's hooks. */
  exec(s: Step, path: string): void {
    const obs = this.observer;
    obs.beforeOp?.(s, path);
    const want = (s as { expectError?: string }).expectError;
    if (want !== undefined) {
      this.execExpectingError(s, path, want);
      return;
    }
    try {
      (OP_HANDLERS[s.op] as OpHandler)(this, s, path);
      // resume_user_mode_work() → mem_cgroup_handle_over_high(): the step's return to user
      if (this.k.memcgs.length > 1) memcgHandleOverHigh(this.k);
      obs.afterOp?.(s, path);
    } catch (e) {
      throw obs.wrapError ? obs.wrapError(e, s, path) : e;
    }
  }

  /**
   * A step with `expectError`: the kernel's error (an errno or a signal) is the step's result,
   * compared by the observer, and the run goes on. Bad input, plugin errors, internal errors and
   * out-of-memory still end the run.
   */
  private execExpectingError(s: Step, path: string, want: string): void {
    const obs = this.observer;
    this.k.lastErrno = '';
    let got = '';
    try {
      (OP_HANDLERS[s.op] as OpHandler)(this, s, path);
    } catch (e) {
      const errno = e instanceof SimError ? errnoName(e.code) : '';
      if (errno === '') throw obs.wrapError ? obs.wrapError(e, s, path) : e;
      got = errno;
    }
    if (got === '') got = this.k.lastErrno;
    obs.onExpectedError?.(s, path, want, got);
    obs.afterOp?.(s, path);
  }

  /* ------------------------------------------------------- helpers of the handlers */

  fail(path: string, field: string, msg: string): never {
    throw new ScenarioError(this.file, path, field, msg);
  }

  proc(pid: string, path: string): Process {
    const p = this.k.procs.get(pid);
    if (!p || !p.alive) this.fail(path, 'pid', `no live process "${pid}"`);
    return p;
  }

  /** The thread of `p` that runs on `cpu` (default: the main thread). */
  thread(p: Process, cpu: number | undefined, path: string): Thread {
    if (cpu === undefined) return p.main;
    const t = p.threads.find((x) => x.cpu === cpu);
    if (!t) this.fail(path, 'cpu', `process "${p.pid}" has no thread on cpu ${cpu}`);
    return t;
  }

  checkCpu(cpu: number, path: string): void {
    if (cpu >= this.k.cpus.length)
      this.fail(path, 'cpu', `cpu ${cpu} does not exist (the hardware has ${this.k.cpus.length} CPUs)`);
  }

  bytes(v: number | string | undefined, path: string, field: string, dflt: number): number {
    if (v === undefined) return dflt;
    const n = parseSize(v);
    if (Number.isNaN(n)) this.fail(path, field, `not a size: ${JSON.stringify(v)}`);
    return n;
  }

  region(pid: string, name: string, path: string): OpRegion {
    const r = this.regions.get(pid)?.get(name);
    if (!r) this.fail(path, 'region', `process "${pid}" has no region "${name}"`);
    return r;
  }

  /** [start, end) in pages of a region range; offset and size must be page multiples. */
  pageRange(
    s: { region: string; offset?: number | string | undefined; size?: number | string | undefined },
    pid: string,
    path: string,
  ): [number, number] {
    const r = this.region(pid, s.region, path);
    const off = this.bytes(s.offset, path, 'offset', 0);
    const size = this.bytes(s.size, path, 'size', r.pages * PAGE_SIZE - off);
    if (off % PAGE_SIZE !== 0) this.fail(path, 'offset', `${off} is not a multiple of ${PAGE_SIZE}`);
    if (size % PAGE_SIZE !== 0 || size <= 0)
      this.fail(path, 'size', `${size} is not a positive multiple of ${PAGE_SIZE}`);
    if (off + size > r.pages * PAGE_SIZE)
      this.fail(path, 'size', `offset + size (${off + size}) is beyond the region (${r.pages * PAGE_SIZE} bytes)`);
    return [r.start + off / PAGE_SIZE, r.start + (off + size) / PAGE_SIZE];
  }

  /** A fresh value for a write without `value`. */
  fresh(): number {
    this.writeSeq = (this.writeSeq + 1) >>> 0;
    return this.writeSeq;
  }

  /** The monitor resolved faults in [a, b): blocked threads of `p` retry their access. */
  wake(p: Process, a: number, b: number, reason: string, path: string): void {
    const k = this.k;
    const obs = this.observer;
    for (const t of p.threads) {
      const pf = t.pending;
      if (!pf || pf.reason !== reason || pf.vpn < a || pf.vpn >= b) continue;
      t.pending = null;
      const saved = k.cpu;
      const r = userAccess(k, t, pf.vpn, pf.write, pf.value);
      k.cpu = saved;
      if (r === AccessResult.OK && pf.write) obs.onWrite?.(p.pid, pf.vpn, pf.value);
      obs.onWake?.(t, pf, r, path);
    }
  }
}

/** The errno (or signal) name of a kernel error a step can expect; '' for those it cannot. */
export function errnoName(code: SimError['code']): string {
  switch (code) {
    case 'segv':
      return 'SIGSEGV';
    case 'sigbus':
      return 'SIGBUS';
    case 'oom':
    case 'internal':
      return '';
    default:
      return code.toUpperCase();
  }
}
