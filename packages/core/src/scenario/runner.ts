/** Runs a parsed scenario on a composed system and collects per-phase counters, cycles and meminfo. */
import type { MmSystem } from '../di/system.js';
import { PluginError } from '../di/plugin.js';
import { SimError, type Kernel } from '../kernel/kernel.js';
import type { Process, Thread } from '../kernel/task.js';
import { AccessResult, userAccess } from '../kernel/fault.js';
import { forkProcess } from '../kernel/fork.js';
import { exitProcess, munmap } from '../kernel/zap.js';
import { mmapAnon } from '../kernel/mmap.js';
import { madvise } from '../kernel/madvise.js';
import { mprotect } from '../kernel/mprotect.js';
import { mremapMove } from '../kernel/mremap.js';
import { pinUserPages, readPin, unpinUserPages, type Pin } from '../kernel/gup.js';
import { uffdCopy, uffdRegister, uffdWriteProtect } from '../kernel/userfaultfd.js';
import { meminfo, type Meminfo } from '../stats/meminfo.js';
import { PAGE_SIZE, parseSize } from '../units.js';
import { ScenarioError } from './errors.js';
import type { Scenario, Step } from './schema.js';

export interface PhaseResult {
  counters: Record<string, number>;
  /** cycles on the acting threads' path (hardware cost model) */
  cycles: number;
  /** cycles per CPU, including work done for others (IPI handlers, remote drains) */
  cyclesByCpu: number[];
  /** state at the end of the phase, kB as in /proc/meminfo */
  meminfo: Meminfo;
  /** leaf steps executed in the phase */
  steps: number;
}

export interface CheckFailure {
  step: string;
  message: string;
}

export interface RunResult {
  scenario: string;
  system: { hardware: string; kernel: string; policies: string[]; options: Record<string, unknown> };
  seed: number;
  phases: Record<string, PhaseResult>;
  total: PhaseResult;
  checks: { passed: number; failed: number; failures: CheckFailure[] };
  /** threads still blocked in userfaultfd at the end */
  blocked: Array<{ pid: string; cpu: number; reason: string; addr: string }>;
}

export interface RunOptions {
  /** the scenario file, for error messages */
  file?: string;
  seed?: number;
  /** called every ~`progressEvery` leaf steps (and at the end) */
  onProgress?: (done: number, total: number) => void;
  /** called after every leaf step that succeeded (e.g. @mmsim/check's invariants) */
  afterStep?: (where: string, step: Step) => void;
  /** extra entries for result.system.options */
  systemOptions?: Record<string, unknown>;
}

interface Region {
  start: number;
  pages: number;
}

interface PhaseAcc {
  counters: Float64Array;
  cycles: number;
  byCpu: Float64Array;
  meminfo: Meminfo | null;
  steps: number;
}

/** mulberry32: a small seeded PRNG so random visit orders are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Total number of leaf steps (repeat bodies multiplied out). */
export function countSteps(steps: readonly Step[]): number {
  let n = 0;
  for (const s of steps) n += s.op === 'repeat' ? s.times * countSteps(s.steps) : 1;
  return n;
}

class Runner {
  private readonly k: Kernel;
  private readonly regions = new Map<string, Map<string, Region>>();
  private readonly pins = new Map<string, Pin>();
  private readonly phases = new Map<string, PhaseAcc>();
  private phaseName = 'main';
  private snapCounters: Float64Array;
  private snapCycles = 0;
  private snapByCpu: Float64Array;
  private writeSeq = 0;
  private done = 0;
  private readonly total: number;
  private readonly rand: () => number;
  private readonly checks = { passed: 0, failed: 0, failures: [] as CheckFailure[] };
  private readonly pendingExpect = new Map<Thread, { step: string; expect: number }>();

  constructor(
    private readonly sys: MmSystem,
    private readonly sc: Scenario,
    private readonly opts: RunOptions,
    readonly seed: number,
  ) {
    this.k = sys.kernel;
    this.snapCounters = sys.stats.snapshot();
    this.snapByCpu = sys.clock.byCpu.slice();
    this.total = countSteps(sc.steps);
    this.rand = prng(seed);
  }

  run(): RunResult {
    this.runSteps(this.sc.steps, 'steps');
    this.closePhase();
    this.opts.onProgress?.(this.done, this.total);
    const phases: Record<string, PhaseResult> = {};
    for (const [name, acc] of this.phases) phases[name] = this.result(acc);
    const totalAcc: PhaseAcc = {
      counters: this.sys.stats.snapshot(),
      cycles: this.sys.clock.cycles,
      byCpu: this.sys.clock.byCpu.slice(),
      meminfo: meminfo(this.k),
      steps: this.done,
    };
    const blocked: RunResult['blocked'] = [];
    for (const p of this.k.procs.values()) {
      if (!p.alive) continue;
      for (const t of p.threads) {
        if (t.pending) blocked.push({ pid: p.pid, cpu: t.cpu, reason: t.pending.reason, addr: `0x${(t.pending.vpn * PAGE_SIZE).toString(16)}` });
      }
    }
    return {
      scenario: this.sc.name,
      system: {
        hardware: this.sys.hardware.name,
        kernel: this.sys.kernelName,
        policies: this.sys.plugins.map((p) => p.name),
        options: { cpus: this.sys.hardware.ncpus, lruBatchSize: this.sys.config.lruBatchSize, swap: this.sys.config.swap, thp: this.sys.config.thp, ...this.opts.systemOptions },
      },
      seed: this.seed,
      phases,
      total: this.result(totalAcc),
      checks: this.checks,
      blocked,
    };
  }

  private result(acc: PhaseAcc): PhaseResult {
    const names = this.sys.stats.counterNames();
    const counters: Record<string, number> = {};
    for (let i = 0; i < names.length && i < acc.counters.length; i++) if (acc.counters[i] !== 0) counters[names[i]!] = acc.counters[i]!;
    return { counters, cycles: acc.cycles, cyclesByCpu: Array.from(acc.byCpu), meminfo: acc.meminfo ?? meminfo(this.k), steps: acc.steps };
  }

  /* ---------------------------------------------------------------- phases */

  private enterPhase(name: string): void {
    if (name === this.phaseName) return;
    this.closePhase();
    this.phaseName = name;
  }

  /** Add what happened since the last snapshot to the current phase. */
  private closePhase(): void {
    const stats = this.sys.stats;
    const v = stats.v;
    const n = stats.counterNames().length;
    const snap = this.snapCounters;
    const clock = this.sys.clock;
    let changed = this.curSteps > 0 || clock.cycles !== this.snapCycles;
    for (let i = 0; i < n && !changed; i++) if (v[i] !== (i < snap.length ? snap[i] : 0)) changed = true;
    let acc = this.phases.get(this.phaseName);
    if (!acc) {
      if (!changed) return; // an empty phase (e.g. 'main' before the first named phase)
      acc = { counters: new Float64Array(n), cycles: 0, byCpu: new Float64Array(this.k.cpus.length), meminfo: null, steps: 0 };
      this.phases.set(this.phaseName, acc);
    }
    if (acc.counters.length < n) {
      const c = new Float64Array(n);
      c.set(acc.counters);
      acc.counters = c;
    }
    for (let i = 0; i < n; i++) acc.counters[i]! += v[i]! - (i < snap.length ? snap[i]! : 0);
    acc.cycles += clock.cycles - this.snapCycles;
    for (let c = 0; c < acc.byCpu.length; c++) acc.byCpu[c]! += clock.byCpu[c]! - this.snapByCpu[c]!;
    acc.steps += this.curSteps;
    this.curSteps = 0;
    if (changed || acc.meminfo === null) acc.meminfo = meminfo(this.k);
    if (this.snapCounters.length < n) this.snapCounters = new Float64Array(n);
    this.snapCounters.set(v.subarray(0, n));
    this.snapCycles = clock.cycles;
    this.snapByCpu.set(clock.byCpu);
  }

  /* ----------------------------------------------------------------- steps */

  private runSteps(steps: readonly Step[], path: string): void {
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      const where = `${path}[${i}]`;
      const ph = (s as { phase?: string }).phase;
      if (ph) this.enterPhase(ph);
      if (s.op === 'repeat') {
        for (let r = 0; r < s.times; r++) this.runSteps(s.steps, `${where}.steps`);
        continue;
      }
      try {
        this.step(s, where);
        this.opts.afterStep?.(where, s);
      } catch (e) {
        throw this.wrap(e, where, s);
      }
      this.done++;
      this.curSteps++;
      if (this.opts.onProgress && (this.done & 1023) === 0) this.opts.onProgress(this.done, this.total);
    }
  }
  private curSteps = 0;

  private wrap(e: unknown, where: string, s: Step): Error {
    const file = this.opts.file ?? '<scenario>';
    if (e instanceof ScenarioError) return e;
    if (e instanceof PluginError) {
      e.step = where;
      return new ScenarioError(file, where, undefined, `op ${s.op}: ${e.message}`, e);
    }
    if (e instanceof SimError) {
      const field = e.code === 'segv' ? ('region' in s ? 'region' : 'addr') : undefined;
      return new ScenarioError(file, where, field, `op ${s.op}: ${e.message}`);
    }
    const msg = e instanceof Error ? e.message : String(e);
    return new ScenarioError(file, where, undefined, `op ${s.op}: internal error: ${msg}`);
  }

  private fail(where: string, field: string, msg: string): never {
    throw new ScenarioError(this.opts.file ?? '<scenario>', where, field, msg);
  }

  private proc(pid: string, where: string): Process {
    const p = this.k.procs.get(pid);
    if (!p || !p.alive) this.fail(where, 'pid', `no live process "${pid}"`);
    return p;
  }

  /** The thread of `pid` that runs on `cpu` (default: the main thread). */
  private thread(p: Process, cpu: number | undefined, where: string): Thread {
    if (cpu === undefined) return p.main;
    const t = p.threads.find((x) => x.cpu === cpu);
    if (!t) this.fail(where, 'cpu', `process "${p.pid}" has no thread on cpu ${cpu}`);
    return t;
  }

  private bytes(v: number | string | undefined, where: string, field: string, dflt: number): number {
    if (v === undefined) return dflt;
    const n = parseSize(v);
    if (Number.isNaN(n)) this.fail(where, field, `not a size: ${JSON.stringify(v)}`);
    return n;
  }

  private region(pid: string, name: string, where: string): Region {
    const r = this.regions.get(pid)?.get(name);
    if (!r) this.fail(where, 'region', `process "${pid}" has no region "${name}"`);
    return r;
  }

  /** [start, end) in pages of a region range; offset and size must be page multiples. */
  private pageRange(s: { pid?: string; region: string; offset?: number | string | undefined; size?: number | string | undefined }, pid: string, where: string): [number, number] {
    const r = this.region(pid, s.region, where);
    const off = this.bytes(s.offset, where, 'offset', 0);
    const size = this.bytes(s.size, where, 'size', r.pages * PAGE_SIZE - off);
    if (off % PAGE_SIZE !== 0) this.fail(where, 'offset', `${off} is not a multiple of ${PAGE_SIZE}`);
    if (size % PAGE_SIZE !== 0 || size <= 0) this.fail(where, 'size', `${size} is not a positive multiple of ${PAGE_SIZE}`);
    if (off + size > r.pages * PAGE_SIZE) this.fail(where, 'size', `offset + size (${off + size}) is beyond the region (${r.pages * PAGE_SIZE} bytes)`);
    return [r.start + off / PAGE_SIZE, r.start + (off + size) / PAGE_SIZE];
  }

  private fresh(): number {
    this.writeSeq = (this.writeSeq + 1) >>> 0;
    return this.writeSeq;
  }

  private step(s: Step, where: string): void {
    const k = this.k;
    switch (s.op) {
      case 'phase':
        this.enterPhase(s.name);
        return;
      case 'spawn': {
        if (k.procs.get(s.pid)?.alive) this.fail(where, 'pid', `process "${s.pid}" already exists`);
        this.checkCpu(s.cpu ?? 0, where);
        k.spawn(s.pid, s.cpu ?? 0);
        this.regions.set(s.pid, new Map());
        return;
      }
      case 'thread': {
        const p = this.proc(s.pid, where);
        this.checkCpu(s.cpu ?? 0, where);
        k.addThread(p, s.cpu ?? 0, s.spin ?? false);
        return;
      }
      case 'mmap': {
        const p = this.proc(s.pid, where);
        const size = this.bytes(s.size, where, 'size', 0);
        if (size <= 0 || size % PAGE_SIZE !== 0) this.fail(where, 'size', `${size} is not a positive multiple of ${PAGE_SIZE}`);
        if (this.regions.get(s.pid)!.has(s.name)) this.fail(where, 'name', `region "${s.name}" already exists in "${s.pid}"`);
        const align = this.bytes(s.align, where, 'align', PAGE_SIZE);
        if (align % PAGE_SIZE !== 0) this.fail(where, 'align', `${align} is not a multiple of ${PAGE_SIZE}`);
        k.runOn(this.thread(p, s.cpu, where));
        const vma = mmapAnon(k, p.mm, size / PAGE_SIZE, s.name, { alignPages: align / PAGE_SIZE });
        this.regions.get(s.pid)!.set(s.name, { start: vma.start, pages: vma.pages });
        if (s.prot && s.prot !== 'rw') mprotect(k, p.mm, vma.start, vma.end, s.prot);
        if (s.advice) madvise(k, p.mm, vma.start, vma.end, s.advice);
        return;
      }
      case 'munmap': {
        const p = this.proc(s.pid, where);
        const [a, b] = this.pageRange(s, s.pid, where);
        k.runOn(this.thread(p, s.cpu, where));
        munmap(k, p.mm, a, b);
        return;
      }
      case 'touch':
        return this.touch(s, where);
      case 'access': {
        const p = this.proc(s.pid, where);
        let addr: number;
        if (s.addr !== undefined) addr = typeof s.addr === 'number' ? s.addr : parseInt(s.addr, 16);
        else if (s.region !== undefined) addr = this.region(s.pid, s.region, where).start * PAGE_SIZE + this.bytes(s.offset, where, 'offset', 0);
        else this.fail(where, 'addr', 'access needs "addr" or "region"');
        const t = this.thread(p, s.cpu, where);
        if (t.pending) this.fail(where, 'pid', `the thread of "${s.pid}" on cpu ${t.cpu} is blocked in userfaultfd`);
        const write = s.access === 'write';
        const value = write ? (s.value ?? this.fresh()) >>> 0 : 0;
        const r = userAccess(k, t, Math.floor(addr / PAGE_SIZE), write, value);
        if (r === AccessResult.BLOCKED) {
          if (s.expect !== undefined) this.pendingExpect.set(t, { step: where, expect: s.expect });
          return;
        }
        if (!write && s.expect !== undefined) this.check(where, k.lastValue, s.expect);
        return;
      }
      case 'fork': {
        const p = this.proc(s.pid, where);
        if (k.procs.get(s.child)?.alive) this.fail(where, 'child', `process "${s.child}" already exists`);
        const t = this.thread(p, s.cpu, where);
        k.runOn(t);
        forkProcess(k, p, s.child, t.cpu);
        this.regions.set(s.child, new Map(this.regions.get(s.pid)));
        return;
      }
      case 'exit': {
        const p = this.proc(s.pid, where);
        exitProcess(k, p);
        for (const t of p.threads) this.pendingExpect.delete(t);
        this.regions.delete(s.pid);
        return;
      }
      case 'madvise': {
        const p = this.proc(s.pid, where);
        const [a, b] = this.pageRange(s, s.pid, where);
        k.runOn(this.thread(p, s.cpu, where));
        madvise(k, p.mm, a, b, s.advice);
        return;
      }
      case 'mprotect': {
        const p = this.proc(s.pid, where);
        const [a, b] = this.pageRange(s, s.pid, where);
        k.runOn(this.thread(p, s.cpu, where));
        mprotect(k, p.mm, a, b, s.prot);
        return;
      }
      case 'mremap': {
        const p = this.proc(s.pid, where);
        const [a, b] = this.pageRange(s, s.pid, where);
        if (this.regions.get(s.pid)!.has(s.to)) this.fail(where, 'to', `region "${s.to}" already exists in "${s.pid}"`);
        k.runOn(this.thread(p, s.cpu, where));
        const nv = mremapMove(k, p.mm, a, b, s.to);
        this.regions.get(s.pid)!.set(s.to, { start: nv.start, pages: nv.pages });
        return;
      }
      case 'pin': {
        const p = this.proc(s.pid, where);
        if (this.pins.has(s.id)) this.fail(where, 'id', `pin "${s.id}" already exists`);
        const [a, b] = this.pageRange(s, s.pid, where);
        k.runOn(this.thread(p, s.cpu, where));
        this.pins.set(s.id, pinUserPages(k, p.mm, a, b, s.write, s.longterm ?? false, s.id));
        return;
      }
      case 'unpin': {
        const pin = this.pins.get(s.id);
        if (!pin) this.fail(where, 'id', `no pin "${s.id}"`);
        unpinUserPages(k, pin);
        this.pins.delete(s.id);
        return;
      }
      case 'readPin': {
        const pin = this.pins.get(s.id);
        if (!pin) this.fail(where, 'id', `no pin "${s.id}"`);
        const vals = readPin(k, pin);
        if (s.expect !== undefined) {
          const exp = Array.isArray(s.expect) ? s.expect : vals.map(() => s.expect as number);
          if (exp.length !== vals.length) this.fail(where, 'expect', `pin "${s.id}" covers ${vals.length} pages, expect lists ${exp.length}`);
          for (let i = 0; i < vals.length; i++) this.check(`${where} page ${i}`, vals[i]!, exp[i]!);
        }
        return;
      }
      case 'uffdRegister': {
        const p = this.proc(s.pid, where);
        const [a, b] = this.pageRange(s, s.pid, where);
        uffdRegister(k, p.mm, a, b, s.mode);
        return;
      }
      case 'uffdCopy': {
        const p = this.proc(s.pid, where);
        const [a, b] = this.pageRange(s, s.pid, where);
        k.runOn(this.thread(p, s.cpu, where));
        uffdCopy(k, p.mm, a, b, s.wp ?? false, () => (s.value ?? this.fresh()) >>> 0);
        this.wake(p, a, b, 'uffd-missing', where);
        return;
      }
      case 'uffdWriteProtect': {
        const p = this.proc(s.pid, where);
        const [a, b] = this.pageRange(s, s.pid, where);
        k.runOn(this.thread(p, s.cpu, where));
        uffdWriteProtect(k, p.mm, a, b, s.enable);
        if (!s.enable) this.wake(p, a, b, 'uffd-wp', where);
        return;
      }
      case 'drain':
        if (s.cpu === undefined) k.lruAddDrainAll();
        else {
          this.checkCpu(s.cpu, where);
          k.cpu = s.cpu;
          k.lruAddDrain(s.cpu);
        }
        return;
    }
  }

  private checkCpu(cpu: number, where: string): void {
    if (cpu >= this.k.cpus.length) this.fail(where, 'cpu', `cpu ${cpu} does not exist (the hardware has ${this.k.cpus.length} CPUs)`);
  }

  /** The monitor resolved faults in [a, b): blocked threads retry their access. */
  private wake(p: Process, a: number, b: number, reason: string, where: string): void {
    for (const t of p.threads) {
      const pf = t.pending;
      if (!pf || pf.reason !== reason || pf.vpn < a || pf.vpn >= b) continue;
      t.pending = null;
      const saved = this.k.cpu;
      const r = userAccess(this.k, t, pf.vpn, pf.write, pf.value);
      this.k.cpu = saved;
      const exp = this.pendingExpect.get(t);
      if (r === AccessResult.OK && exp) {
        this.pendingExpect.delete(t);
        if (!pf.write) this.check(`${exp.step} (completed at ${where})`, this.k.lastValue, exp.expect);
      }
    }
  }

  private check(where: string, got: number, want: number): void {
    if (got >>> 0 === want >>> 0) this.checks.passed++;
    else {
      this.checks.failed++;
      if (this.checks.failures.length < 100) this.checks.failures.push({ step: where, message: `read ${got}, expected ${want}` });
    }
  }

  private touch(s: Extract<Step, { op: 'touch' }>, where: string): void {
    const k = this.k;
    const p = this.proc(s.pid, where);
    const r = this.region(s.pid, s.region, where);
    const off = this.bytes(s.offset, where, 'offset', 0);
    const size = this.bytes(s.size, where, 'size', r.pages * PAGE_SIZE - off);
    const stride = this.bytes(s.stride, where, 'stride', PAGE_SIZE);
    if (stride <= 0) this.fail(where, 'stride', 'must be positive');
    if (off + size > r.pages * PAGE_SIZE) this.fail(where, 'size', `offset + size (${off + size}) is beyond the region (${r.pages * PAGE_SIZE} bytes)`);
    const t = this.thread(p, s.cpu, where);
    if (t.pending) this.fail(where, 'pid', `the thread of "${s.pid}" on cpu ${t.cpu} is blocked in userfaultfd`);
    const write = s.access === 'write';
    const base = r.start * PAGE_SIZE + off;
    const n = Math.ceil(size / stride);
    let order: Uint32Array | null = null;
    if (s.pattern === 'random') {
      order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(this.rand() * (i + 1));
        const x = order[i]!;
        order[i] = order[j]!;
        order[j] = x;
      }
    }
    const fixed = s.value;
    for (let i = 0; i < n; i++) {
      const addr = base + (order ? order[i]! : i) * stride;
      const value = write ? (fixed !== undefined ? fixed >>> 0 : (this.writeSeq = (this.writeSeq + 1) >>> 0)) : 0;
      if (userAccess(k, t, Math.floor(addr / PAGE_SIZE), write, value) === AccessResult.BLOCKED) {
        this.fail(where, 'region', `the thread blocked in userfaultfd at 0x${addr.toString(16)}; use "access" steps for userfaultfd flows`);
      }
    }
  }
}

/** Run `scenario` on `system`. Throws ScenarioError (file, step, field) on bad input or plugin failures. */
export function runScenario(system: MmSystem, scenario: Scenario, opts: RunOptions = {}): RunResult {
  const seed = opts.seed ?? scenario.seed ?? 1;
  return new Runner(system, scenario, opts, seed).run();
}
