/** Runs a parsed scenario on a composed system and collects per-phase counters, cycles and meminfo. */
import type { MmSystem } from '../di/system.js';
import { PluginError } from '../di/plugin.js';
import { SimError, type Kernel } from '../kernel/kernel.js';
import type { PendingFault, Process, Thread } from '../kernel/task.js';
import { AccessResult } from '../kernel/fault.js';
import { meminfo, type Meminfo } from '../stats/meminfo.js';
import { createFiles } from './ops/files.js';
import { PAGE_SIZE } from '../units.js';
import { ScenarioError } from './errors.js';
import type { PagemapExpect, Scenario, Step } from './schema.js';
import { PM, type PagemapEntry } from '../kernel/pagemap.js';
import { OpExecutor } from './ops/executor.js';
import { checkScenarioBudget, countSteps } from './budget.js';
import { countWork } from './work.js';
import type { AccessStep, MapsStep, OpObserver, PagemapStep, ReadPinStep, ReadStep } from './ops/observer.js';
import { mapsMismatches } from './maps-check.js';
import type { SmapsEntry } from '../kernel/proc-maps.js';
import { Explainer, type Decisions, type ExplainerOptions } from '../explain/explainer.js';
import { setAnswerSink } from '../di/instrument.js';

export { prng } from './prng.js';
export { countSteps, checkScenarioBudget, checkStepBudget, DEFAULT_MAX_STEPS } from './budget.js';
export { countWork } from './work.js';

export interface PhaseResult {
  counters: Record<string, number>;
  /** cycles on the acting threads' path (hardware cost model): userCycles + kernelCycles */
  cycles: number;
  /**
   * the user-mode part of `cycles` (perf's cycles:u): user accesses (TLB hits, page walks of
   * misses) and `compute` steps
   */
  userCycles: number;
  /** the kernel part of `cycles` (cycles:k): faults, syscalls, flushes, fork, exit, ... */
  kernelCycles: number;
  /** cycles per CPU, including work done for others (IPI handlers, remote drains) */
  cyclesByCpu: number[];
  /** state at the end of the phase, kB as in /proc/meminfo */
  meminfo: Meminfo;
  /** leaf steps executed in the phase */
  steps: number;
  /** with RunOptions.explain: the decision hooks' answers in the phase (explain/explainer.ts) */
  decisions?: Decisions;
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
  /**
   * present (true) only when RunOptions.shouldStop stopped the run: the phases are those
   * finished so far, the last one cut short
   */
  interrupted?: true;
  /** present (true) with `interrupted` */
  incomplete?: true;
  /** with RunOptions.explain: the decision hooks' answers over the whole run */
  decisions?: Decisions;
}

export interface RunOptions {
  /** the scenario file, for error messages */
  file?: string;
  seed?: number;
  /**
   * progress in work units (leaf steps plus the accesses touches make, one per page at the default stride; `total` is countWork()'s
   * estimate): called every 1024 leaf steps, every 4096 pages of a touch, and at the end
   */
  onProgress?: (done: number, total: number) => void;
  /** called after every leaf step that succeeded (e.g. @mmsim/check's invariants) */
  afterStep?: (where: string, step: Step) => void;
  /**
   * called when a named phase starts (before its first step), once the previous phase's
   * counters are closed; tools such as @mmsim/trace sample state there
   */
  onPhase?: (name: string) => void;
  /**
   * polled between leaf steps (every step, so keep it cheap, e.g. an Atomics.load), every
   * 4096 pages inside a touch and every 4096 pages of the kernel's long loops
   * (Kernel.condResched); when it returns true the run stops and the result is what finished,
   * with `interrupted: true`
   */
  shouldStop?: () => boolean;
  /**
   * the step budget: more leaf steps than this (repeats multiplied out) is a ScenarioError
   * before the first step runs (default: the scenario's `limits.maxSteps`, else DEFAULT_MAX_STEPS, 10^9)
   */
  maxSteps?: number;
  /** what set `maxSteps`, for the error (e.g. "--max-steps"; default "RunOptions.maxSteps") */
  maxStepsFrom?: string;
  /** extra entries for result.system.options */
  systemOptions?: Record<string, unknown>;
  /**
   * record every decision hook's answer with the references behind it (`--explain`):
   * result.decisions and each phase's decisions; onRecord sees each record
   */
  explain?: boolean | ExplainerOptions;
}

interface PhaseAcc {
  counters: Float64Array;
  cycles: number;
  userCycles: number;
  byCpu: Float64Array;
  meminfo: Meminfo | null;
  steps: number;
}

/** Thrown from afterOp when shouldStop() says so; passes through wrapError and ends the run. */
class Interrupt extends Error {}

/** The runner is the executor's observer: phases, expectations, afterStep and progress. */
class Runner implements OpObserver {
  private readonly k: Kernel;
  private readonly x: OpExecutor;
  private readonly phases = new Map<string, PhaseAcc>();
  private phaseName = 'main';
  private snapCounters: Float64Array;
  private snapCycles = 0;
  private snapUserCycles = 0;
  private readonly setup: { v: Float64Array; cycles: number; user: number; byCpu: Float64Array };
  private snapByCpu: Float64Array;
  private done = 0;
  /** pages touches visited (with `done`: the work units of onProgress) */
  private pages = 0;
  private curSteps = 0;
  private readonly total: number;
  private readonly checks = { passed: 0, failed: 0, failures: [] as CheckFailure[] };
  private readonly pendingExpect = new Map<Thread, { step: string; expect: number }>();
  private readonly explainer: Explainer | null;

  constructor(
    private readonly sys: MmSystem,
    private readonly sc: Scenario,
    private readonly opts: RunOptions,
    readonly seed: number,
  ) {
    this.k = sys.kernel;
    this.x = new OpExecutor(this.k, { file: opts.file, seed, observer: this });
    const before = { v: sys.stats.snapshot(), cycles: sys.clock.cycles, user: sys.clock.userCycles };
    const beforeByCpu = sys.clock.byCpu.slice();
    // before the snapshot: a `cached` file's read-in is the machine's state, not the run's work
    createFiles(this.x, sc.files);
    this.snapCounters = sys.stats.snapshot();
    this.snapByCpu = sys.clock.byCpu.slice();
    this.snapCycles = sys.clock.cycles;
    this.snapUserCycles = sys.clock.userCycles;
    // what the set-up did, left out of `total` too (zero without cached files)
    this.setup = {
      v: this.snapCounters.map((x, i) => x - (before.v[i] ?? 0)),
      cycles: this.snapCycles - before.cycles,
      user: this.snapUserCycles - before.user,
      byCpu: this.snapByCpu.map((x, i) => x - beforeByCpu[i]!),
    };
    this.total = countWork(sc.steps);
    // meminfo's Mlocked / Unevictable / VmLck in every phase of a scenario that mlocks
    if (usesMlock(sc.steps)) this.k.mlockUsed = true;
    this.explainer = opts.explain ? new Explainer(this.k, opts.explain === true ? {} : opts.explain) : null;
  }

  run(): RunResult {
    let interrupted = false;
    const prevExplain = this.k.explain;
    this.k.explain = this.explainer;
    const prevCheck = this.k.interruptCheck;
    const stop = this.opts.shouldStop;
    // inside one long kernel operation too (Kernel.condResched)
    if (stop)
      this.k.interruptCheck = () => {
        if (stop()) throw new Interrupt('interrupted');
      };
    const ex = this.explainer;
    const prevSink = ex ? setAnswerSink((hook, plugin, answer) => ex.count(hook, String(answer), plugin)) : null;
    try {
      this.x.runSteps(this.sc.steps, 'steps');
    } catch (e) {
      if (!(e instanceof Interrupt)) throw e;
      interrupted = true;
    } finally {
      this.k.explain = prevExplain;
      this.k.interruptCheck = prevCheck;
      if (ex) setAnswerSink(prevSink);
    }
    this.closePhase();
    this.opts.onProgress?.(this.done + this.pages, this.total);
    const phases: Record<string, PhaseResult> = Object.create(null);
    for (const [name, acc] of this.phases) {
      phases[name] = this.result(acc);
      if (this.explainer) phases[name].decisions = this.explainer.phase(name);
    }
    const su = this.setup;
    const totalAcc: PhaseAcc = {
      counters: this.sys.stats.snapshot().map((x, i) => x - (su.v[i] ?? 0)),
      cycles: this.sys.clock.cycles - su.cycles,
      userCycles: this.sys.clock.userCycles - su.user,
      byCpu: this.sys.clock.byCpu.map((x, i) => x - (su.byCpu[i] ?? 0)),
      meminfo: meminfo(this.k),
      steps: this.done,
    };
    const blocked: RunResult['blocked'] = [];
    for (const p of this.k.procs.values()) {
      if (!p.alive) continue;
      for (const t of p.threads) {
        if (t.pending)
          blocked.push({
            pid: p.pid,
            cpu: t.cpu,
            reason: t.pending.reason,
            addr: `0x${(t.pending.vpn * PAGE_SIZE).toString(16)}`,
          });
      }
    }
    return {
      scenario: this.sc.name,
      system: {
        hardware: this.sys.hardware.name,
        kernel: this.sys.kernelName,
        policies: this.sys.plugins.map((p) => p.name),
        options: {
          cpus: this.sys.hardware.ncpus,
          lruBatchSize: this.sys.config.lruBatchSize,
          swap: this.sys.config.swap,
          thp: this.sys.config.thp,
          ...this.opts.systemOptions,
        },
      },
      seed: this.seed,
      phases,
      total: this.result(totalAcc),
      checks: this.checks,
      blocked,
      ...(interrupted ? { interrupted: true as const, incomplete: true as const } : {}),
      ...(this.explainer ? { decisions: this.explainer.totals() } : {}),
    };
  }

  private result(acc: PhaseAcc): PhaseResult {
    const names = this.sys.stats.counterNames();
    const counters: Record<string, number> = Object.create(null);
    for (let i = 0; i < names.length && i < acc.counters.length; i++)
      if (acc.counters[i] !== 0) counters[names[i]!] = acc.counters[i]!;
    return {
      counters,
      cycles: acc.cycles,
      userCycles: acc.userCycles,
      kernelCycles: acc.cycles - acc.userCycles,
      cyclesByCpu: Array.from(acc.byCpu),
      meminfo: acc.meminfo ?? meminfo(this.k),
      steps: acc.steps,
    };
  }

  /* ---------------------------------------------------------------- phases */

  private enterPhase(name: string): void {
    if (name === this.phaseName) return;
    this.closePhase();
    this.phaseName = name;
    this.explainer?.enterPhase(name);
    this.opts.onPhase?.(name);
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
      acc = {
        counters: new Float64Array(n),
        cycles: 0,
        userCycles: 0,
        byCpu: new Float64Array(this.k.cpus.length),
        meminfo: null,
        steps: 0,
      };
      this.phases.set(this.phaseName, acc);
    }
    if (acc.counters.length < n) {
      const c = new Float64Array(n);
      c.set(acc.counters);
      acc.counters = c;
    }
    for (let i = 0; i < n; i++) acc.counters[i]! += v[i]! - (i < snap.length ? snap[i]! : 0);
    acc.cycles += clock.cycles - this.snapCycles;
    acc.userCycles += clock.userCycles - this.snapUserCycles;
    for (let c = 0; c < acc.byCpu.length; c++) acc.byCpu[c]! += clock.byCpu[c]! - this.snapByCpu[c]!;
    acc.steps += this.curSteps;
    this.curSteps = 0;
    if (changed || acc.meminfo === null) acc.meminfo = meminfo(this.k);
    if (this.snapCounters.length < n) this.snapCounters = new Float64Array(n);
    this.snapCounters.set(v.subarray(0, n));
    this.snapCycles = clock.cycles;
    this.snapUserCycles = clock.userCycles;
    this.snapByCpu.set(clock.byCpu);
  }

  /* ------------------------------------------------------ executor hooks */

  beforeOp(s: Step, where: string): void {
    if (this.explainer !== null) this.explainer.step = where;
    const ph = (s as { phase?: string }).phase;
    if (ph) this.enterPhase(ph);
  }

  afterOp(s: Step, where: string): void {
    if (s.op === 'repeat') return; // counted by its leaf steps
    this.opts.afterStep?.(where, s);
    this.done++;
    this.curSteps++;
    if (this.opts.onProgress && (this.done & 1023) === 0) this.opts.onProgress(this.done + this.pages, this.total);
    if (this.opts.shouldStop?.()) throw new Interrupt('interrupted');
  }

  /** every 4096 pages of a touch: progress, and the interruption poll inside one long step */
  onPages(pages: number): void {
    this.pages += pages;
    this.opts.onProgress?.(this.done + this.pages, this.total);
    if (this.opts.shouldStop?.()) throw new Interrupt('interrupted');
  }

  onPhase(name: string): void {
    this.enterPhase(name);
  }

  wrapError(e: unknown, s: Step, where: string): Error {
    const file = this.opts.file ?? '<scenario>';
    if (e instanceof ScenarioError || e instanceof Interrupt) return e;
    if (e instanceof PluginError) {
      e.step = where;
      return new ScenarioError(file, where, undefined, `op ${s.op}: ${e.message}`, e);
    }
    if (e instanceof SimError) {
      const field = e.field ?? (e.code === 'segv' ? ('region' in s ? 'region' : 'addr') : undefined);
      // kernel messages start with the syscall's name; the op already names it
      const msg = e.message.startsWith(`${s.op}: `) ? e.message.slice(s.op.length + 2) : e.message;
      const err = new ScenarioError(file, where, field, `op ${s.op}: ${msg}`);
      if (e.code === 'oom') err.outOfMemory = true;
      return err;
    }
    const msg = e instanceof Error ? e.message : String(e);
    return new ScenarioError(file, where, undefined, `op ${s.op}: internal error: ${msg}`);
  }

  onAccess(s: AccessStep, where: string, t: Thread, _vpn: number, r: AccessResult): void {
    if (r === AccessResult.BLOCKED) {
      if (s.expect !== undefined) this.pendingExpect.set(t, { step: where, expect: s.expect });
      return;
    }
    if (s.access !== 'write' && s.expect !== undefined) this.check(where, this.k.lastValue, s.expect);
  }

  onWake(t: Thread, pf: PendingFault, r: AccessResult, where: string): void {
    const exp = this.pendingExpect.get(t);
    if (r === AccessResult.OK && exp) {
      this.pendingExpect.delete(t);
      if (!pf.write) this.check(`${exp.step} (completed at ${where})`, this.k.lastValue, exp.expect);
    }
  }

  onExit(p: Process): void {
    for (const t of p.threads) this.pendingExpect.delete(t);
  }

  onFileRead(s: ReadStep, where: string, value: number): void {
    if (s.expect !== undefined) this.check(where, value, s.expect);
  }

  onReadPin(s: ReadPinStep, where: string, vals: number[]): void {
    if (s.expect === undefined) return;
    const exp = Array.isArray(s.expect) ? s.expect : vals.map(() => s.expect as number);
    if (exp.length !== vals.length)
      this.x.fail(where, 'expect', `pin "${s.id}" covers ${vals.length} pages, expect lists ${exp.length}`);
    for (let i = 0; i < vals.length; i++) this.check(`${where} page ${i}`, vals[i]!, exp[i]!);
  }

  /** pagemap `pfn` labels of the run: label → pfn, pfn → label */
  private readonly pfnLabels = new Map<string, number>();
  private readonly labelOfPfn = new Map<number, string>();

  onPagemap(s: PagemapStep, where: string, _vpn: number, entries: PagemapEntry[]): void {
    if (s.expect === undefined) return;
    for (let i = 0; i < entries.length; i++) {
      const want = Array.isArray(s.expect) ? s.expect[i]! : s.expect;
      const wrong = pagemapMismatch(entries[i]!, want, this.pfnLabels, this.labelOfPfn);
      if (wrong === '') this.checks.passed++;
      else {
        this.checks.failed++;
        if (this.checks.failures.length < 100)
          this.checks.failures.push({ step: `${where} page ${i}`, message: wrong });
      }
    }
  }

  onMaps(s: MapsStep, where: string, vmas: SmapsEntry[], starts: number[]): void {
    if (s.expect === undefined) return;
    const bad = mapsMismatches(vmas, s.expect, starts);
    const checks = (s.expect.count !== undefined ? 1 : 0) + (s.expect.vmas?.length ?? 0);
    this.checks.passed += Math.max(0, checks - bad.length);
    this.checks.failed += bad.length;
    for (const b of bad)
      if (this.checks.failures.length < 100)
        this.checks.failures.push({ step: `${where} ${b.what}`, message: b.message });
  }

  onValueChecks(where: string, checks: ReadonlyArray<{ what: string; got: number; want: number }>): void {
    for (const c of checks) {
      if (c.got === c.want) this.checks.passed++;
      else {
        this.checks.failed++;
        if (this.checks.failures.length < 100)
          this.checks.failures.push({ step: where, message: `${c.what} is ${c.got}, expected ${c.want}` });
      }
    }
  }

  onExpectedError(_s: Step, where: string, want: string, got: string): void {
    if (got === want) this.checks.passed++;
    else {
      this.checks.failed++;
      if (this.checks.failures.length < 100)
        this.checks.failures.push({
          step: where,
          message: `${got === '' ? 'succeeded' : `failed with ${got}`}, expected ${want}`,
        });
    }
  }

  onCheck(where: string, mismatch: string): void {
    if (mismatch === '') this.checks.passed++;
    else {
      this.checks.failed++;
      if (this.checks.failures.length < 100) this.checks.failures.push({ step: where, message: mismatch });
    }
  }

  private check(where: string, got: number, want: number): void {
    if (got >>> 0 === want >>> 0) this.checks.passed++;
    else {
      this.checks.failed++;
      if (this.checks.failures.length < 100)
        this.checks.failures.push({ step: where, message: `read ${got}, expected ${want}` });
    }
  }
}

/** Run `scenario` on `system`. Throws ScenarioError (file, step, field) on bad input or plugin failures. */
export function runScenario(system: MmSystem, scenario: Scenario, opts: RunOptions = {}): RunResult {
  const seed = opts.seed ?? scenario.seed ?? 1;
  const file = opts.file ?? '<scenario>';
  checkScenarioBudget(scenario, file, opts.maxSteps, opts.maxStepsFrom);
  return new Runner(system, scenario, opts, seed).run();
}

const MLOCK_OPS: ReadonlySet<string> = new Set(['mlock', 'munlock', 'mlockall', 'munlockall']);

function usesMlock(steps: readonly Step[]): boolean {
  for (const s of steps) if (MLOCK_OPS.has(s.op) || (s.op === 'repeat' && usesMlock(s.steps))) return true;
  return false;
}

const PAGEMAP_BITS = [
  ['present', PM.present],
  ['swapped', PM.swap],
  ['exclusive', PM.exclusive],
  ['softDirty', PM.softDirty],
  ['uffdWp', PM.uffdWp],
  ['file', PM.file],
  ['pmdMapped', PM.pmdMapped],
  ['guard', PM.guard],
  ['mlocked', PM.mlocked],
  ['unevictable', PM.unevictable],
  ['swapbacked', PM.swapbacked],
] as const;

/**
 * What is wrong with a pagemap entry ('' when nothing). A `pfn` label names a page frame: the
 * first page seen with a label binds it, later ones must be that frame, and one frame has one label.
 */
function pagemapMismatch(
  e: PagemapEntry,
  want: PagemapExpect,
  labels: Map<string, number>,
  labelOf: Map<number, string>,
): string {
  const bad: string[] = [];
  for (const [name, bit] of PAGEMAP_BITS) {
    const w = want[name];
    if (w !== undefined && ((e.flags & bit) !== 0) !== w) bad.push(`${name} is ${!w}, expected ${w}`);
  }
  if (want.order !== undefined && e.order !== want.order)
    bad.push(e.order < 0 ? `no folio, expected order ${want.order}` : `order ${e.order}, expected ${want.order}`);
  if (want.pfn !== undefined) {
    if (e.pfn < 0) bad.push(`no page frame, expected pfn "${want.pfn}"`);
    else {
      const bound = labels.get(want.pfn);
      const other = labelOf.get(e.pfn);
      if (bound === undefined && other === undefined) {
        labels.set(want.pfn, e.pfn);
        labelOf.set(e.pfn, want.pfn);
      } else if (bound !== e.pfn)
        bad.push(
          other !== undefined
            ? `the page frame is pfn "${other}", expected "${want.pfn}"`
            : `a new page frame, expected pfn "${want.pfn}"`,
        );
    }
  }
  return bad.join('; ');
}
