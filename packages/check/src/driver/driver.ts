/**
 * The step driver: executes scenario steps through core's OpExecutor (the one the scenario
 * runner uses), keeps the reference model in step as the executor's observer, checks every
 * read and readPin against it, checks the invariants after every step, and records the steps
 * with `expect` fields filled in from the model, so the recorded list is a scenario that
 * `mmsim run` replays with the same checks.
 */
import {
  AccessResult,
  OpExecutor,
  ZERO_PFN,
  type AccessStep,
  type Kernel,
  type MmSystem,
  type OpObserver,
  type OpRegion,
  type Pin,
  type Process,
  type ReadPinStep,
  type Step,
  type Thread,
} from '@mmsim/core';
import { checkInvariants, type Violation } from '../invariants/index.js';
import { ReferenceModel } from '../model/reference.js';
import type { TapWatch } from '../watch/taps.js';
import { CoherenceChecker } from './coherence.js';

export type Region = OpRegion;

export interface DriverOptions {
  /** check the invariants after every step (default true) */
  invariants?: boolean;
  /** check every mapped page and every pin against the model after every step (default true) */
  coherence?: boolean;
  /**
   * Only these violations count (default: all). Others are collected in `ignored`, reported
   * once, and a read or readPin that shows one records what it read as its `expect`, so the
   * recorded scenario fails only on the violations looked for.
   */
  failOn?: (v: Violation) => boolean;
  /** told the index of each step, so the policies' decisions are known per step */
  taps?: TapWatch;
}

export class StepDriver {
  readonly k: Kernel;
  readonly model = new ReferenceModel();
  /** executes the steps; this driver's model observer follows them */
  private readonly x: OpExecutor;
  /** the steps executed so far, `expect` fields filled in */
  readonly steps: Step[] = [];
  private readonly pendingRead = new Map<Thread, AccessStep>();
  private readonly invariants: boolean;
  private readonly coherence: CoherenceChecker | null;
  private readonly accept: (v: Violation) => boolean;
  /** violations `failOn` passed over */
  readonly ignored: Violation[] = [];
  private readonly suppressed = new Set<string>();
  private readonly taps: TapWatch | undefined;

  constructor(
    readonly sys: MmSystem,
    opts: DriverOptions = {},
  ) {
    this.k = sys.kernel;
    this.invariants = opts.invariants ?? true;
    this.coherence = (opts.coherence ?? true) ? new CoherenceChecker(this) : null;
    this.accept = opts.failOn ?? (() => true);
    this.taps = opts.taps;
    this.x = new OpExecutor(this.k, { observer: this.modelObserver() });
  }

  /** per pid: region name → pages (like the runner: names survive munmap / mremap) */
  get regions(): Map<string, Map<string, Region>> {
    return this.x.regions;
  }

  get pins(): Map<string, Pin> {
    return this.x.pins;
  }

  /* ------------------------------------------------------------ state queries */

  alive(pid: string): Process | undefined {
    const p = this.k.procs.get(pid);
    return p && p.alive ? p : undefined;
  }

  /** The thread `cpu` names, like the runner (undefined: the main thread). */
  thread(p: Process, cpu: number | undefined): Thread | undefined {
    return cpu === undefined ? p.main : p.threads.find((t) => t.cpu === cpu);
  }

  region(pid: string, name: string): Region | undefined {
    return this.regions.get(pid)?.get(name);
  }

  /** Threads blocked in userfaultfd. */
  blocked(): Thread[] {
    const out: Thread[] = [];
    for (const p of this.k.procs.values()) if (p.alive) for (const t of p.threads) if (t.pending) out.push(t);
    return out;
  }

  /* ------------------------------------------------------------------ running */

  /**
   * Execute one step (which the caller made valid: existing pid, region, pin, a thread that is
   * not blocked, a range the model says may be accessed). Returns the violations it caused.
   */
  exec(s: Step): Violation[] {
    const out = this.run(s);
    if (out.length > 0 || !this.coherence) return out;
    for (const bad of this.coherence.check()) {
      if (this.suppressed.has(bad.key)) continue;
      if (!this.accept(bad.violation)) {
        // report once; the incoherence stays, but it is not what we are looking for
        this.suppressed.add(bad.key);
        this.ignored.push(bad.violation);
        continue;
      }
      // run the witness steps, so the recorded scenario shows the problem when replayed
      let seen = false;
      for (const w of bad.witness) if (this.run(w, true).length > 0) seen = true;
      const note =
        bad.witness.length === 0
          ? ' (no witness step could be built)'
          : seen
            ? ''
            : ' (the witness steps did not show it)';
      return [{ kind: bad.violation.kind, message: bad.violation.message + note }];
    }
    return out;
  }

  /** Execute and record one step; the step's own checks and the invariants. */
  private run(s: Step, witness = false): Violation[] {
    this.steps.push(s);
    this.taps?.beginStep(this.steps.length - 1, s.op);
    const out: Violation[] = [];
    this.witnessing = witness;
    this.out = out;
    try {
      this.x.exec(s, `steps[${this.steps.length - 1}]`);
    } catch (e) {
      // out_of_memory() under pressure: the run ends there (the kernel would kill the task);
      // the fault it stopped is half done, so the invariants are not checked on that state
      if (isOutOfMemory(e)) {
        this.outOfMemory = true;
        return [];
      }
      const msg = e instanceof Error ? e.message : String(e);
      out.push({
        kind: /stale TLB/.test(msg) ? 'tlb' : 'error',
        message: `step ${this.steps.length - 1} (${s.op}) threw: ${msg}`,
      });
    }
    if (out.length === 0 && this.invariants) {
      const pinned: number[] = [];
      for (const pin of this.pins.values()) for (const pfn of pin.pfns) if (pfn !== ZERO_PFN) pinned.push(pfn);
      for (const v of checkInvariants(this.k, { pinnedPfns: pinned, limit: 5 })) {
        out.push({ kind: v.kind, message: `after step ${this.steps.length - 1} (${s.op}): ${v.message}` });
      }
    }
    const kept = witness ? out : out.filter((v) => this.accept(v));
    for (const v of out) if (!kept.includes(v)) this.ignored.push(v);
    return kept;
  }

  /** a step ran out of memory (nothing left to reclaim): the run ends */
  outOfMemory = false;

  /** running witness steps: every read/pin mismatch counts */
  private witnessing = false;
  /** the violations of the step being run */
  private out: Violation[] = [];

  /** A mismatch seen by a read or readPin: the value to record as `expect`. */
  private mismatch(out: Violation[], v: Violation, want: number, got: number): number {
    if (this.witnessing || this.accept(v)) {
      out.push(v);
      return want;
    }
    return got;
  }

  /** The executor's observer: the reference model follows every effect; reads and pins are checked against it. */
  private modelObserver(): OpObserver {
    const m = this.model;
    return {
      onSpawn: (pid) => m.spawn(pid),
      onMmap: (pid, start, pages, prot) => m.mmap(pid, start, pages, prot),
      onMunmap: (pid, a, b) => m.munmap(pid, a, b),
      onFork: (parent, child) => m.fork(parent, child),
      onExit: (p) => {
        for (const t of p.threads) this.pendingRead.delete(t);
        m.exit(p.pid);
      },
      onMadvise: (pid, a, b, advice) => this.adviseModel(pid, a, b, advice),
      onMprotect: (pid, a, b, prot) => m.setAttrs(pid, a, b, (at) => (at.prot = prot)),
      onMremap: (pid, a, b, newStart) => m.mremap(pid, a, b, newStart),
      onPin: (id, pid, a, b, write) => m.pin(id, pid, a, b, write),
      onUnpin: (id) => m.unpin(id),
      onUffdRegister: (pid, a, b, mode) =>
        m.setAttrs(pid, a, b, (at) => (mode === 'wp' ? (at.uffdWp = true) : (at.uffdMissing = true))),
      onWrite: (pid, vpn, value) => m.write(pid, vpn, value),
      onAccess: (s, _where, t, vpn, r) => {
        if (s.access === 'write') return;
        if (r === AccessResult.BLOCKED) this.pendingRead.set(t, s);
        else this.checkRead(s, s.pid, vpn, this.out, '');
      },
      onWake: (t, pf, r) => {
        if (r !== AccessResult.OK) return;
        const st = this.pendingRead.get(t);
        if (st && !pf.write) {
          this.pendingRead.delete(t);
          this.checkRead(st, t.proc.pid, pf.vpn, this.out, ` (completed at step ${this.steps.length - 1})`);
        }
      },
      onReadPin: (s, _where, vals) => this.checkPin(s, vals),
      onTouchBlocked: (_s, _where, vpn) => {
        this.out.push({
          kind: 'error',
          message: `step ${this.steps.length - 1} (touch) blocked in userfaultfd at page 0x${vpn.toString(16)}, where the model has no registration`,
        });
        return true;
      },
    };
  }

  /** readPin: every page against the model; the values (or the model's, on a counted mismatch) become `expect`. */
  private checkPin(s: ReadPinStep, vals: number[]): void {
    const m = this.model;
    const exps = m.pinExpectations(s.id);
    const expect: number[] = [];
    for (let i = 0; i < vals.length; i++) {
      const got = vals[i]! >>> 0;
      const e = exps[i]!;
      const ok = 'exact' in e ? got === e.exact : e.oneOf.includes(got);
      if (ok) {
        expect.push(got);
        continue;
      }
      const leak = !m.mayHaveSeen(m.pinLineage(s.id, i), got);
      const v: Violation = {
        kind: leak ? 'pin-leak' : 'pin',
        message:
          `step ${this.steps.length - 1}: pin "${s.id}" page ${i} reads ${got}, the reference model says ${'exact' in e ? e.exact : e.oneOf.join(' or ')}` +
          (leak ? ` (${got} is another process's data: the pin leaks it)` : ''),
      };
      expect.push(this.mismatch(this.out, v, 'exact' in e ? e.exact : e.oneOf[0]!, got));
    }
    s.expect = expect;
  }

  private adviseModel(pid: string, a: number, b: number, advice: string): void {
    const m = this.model;
    switch (advice) {
      case 'dontneed':
        m.dontneed(pid, a, b);
        return;
      case 'dontfork':
        return m.setAttrs(pid, a, b, (at) => (at.dontfork = true));
      case 'dofork':
        return m.setAttrs(pid, a, b, (at) => (at.dontfork = false));
      case 'wipeonfork':
        return m.setAttrs(pid, a, b, (at) => (at.wipeonfork = true));
      case 'keeponfork':
        return m.setAttrs(pid, a, b, (at) => (at.wipeonfork = false));
    }
  }

  private checkRead(s: AccessStep, pid: string, vpn: number, out: Violation[], when: string): void {
    const want = this.model.read(pid, vpn);
    const got = this.k.lastValue >>> 0;
    s.expect = want;
    if (got !== want) {
      const leak = !this.model.mayHaveSeen(this.model.lineageOf(pid), got);
      const v: Violation = {
        kind: leak ? 'read-leak' : 'read',
        message: `read of page 0x${vpn.toString(16)} by "${pid}"${when} returned ${got}, the reference model says ${want}${leak ? ` (${got} is another process's data)` : ''}`,
      };
      s.expect = this.mismatch(out, v, want, got);
    }
  }
}

/** The OOM end of a run: core's SimError 'oom', or the scenario runner's error that wraps it. */
function isOutOfMemory(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const x = e as { code?: unknown; outOfMemory?: unknown };
  return x.code === 'oom' || x.outOfMemory === true;
}
