/**
 * The step driver: executes scenario steps (core's op vocabulary, with the same semantics as
 * core's scenario runner) through the kernel API, keeps the reference model in step, checks
 * every read and readPin against it, checks the invariants after every step, and records the
 * steps with `expect` fields filled in from the model, so the recorded list is a scenario that
 * `mmsim run` replays with the same checks.
 */
import {
  AccessResult,
  exitProcess,
  forkProcess,
  madvise,
  mmapAnon,
  mprotect,
  mremapMove,
  munmap,
  pinUserPages,
  readPin,
  uffdCopy,
  uffdRegister,
  uffdWriteProtect,
  unpinUserPages,
  userAccess,
  PAGE_SIZE,
  ZERO_PFN,
  type Kernel,
  type MmSystem,
  type Pin,
  type Process,
  type Step,
  type Thread,
} from '@mmsim/core';
import { checkInvariants, type Violation } from '../invariants/index.js';
import { ReferenceModel } from '../model/reference.js';
import { CoherenceChecker } from './coherence.js';

export interface Region {
  start: number;
  pages: number;
}

type AccessStep = Extract<Step, { op: 'access' }>;

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
}

export class StepDriver {
  readonly k: Kernel;
  readonly model = new ReferenceModel();
  /** per pid: region name → pages (like the runner: names survive munmap / mremap) */
  readonly regions = new Map<string, Map<string, Region>>();
  readonly pins = new Map<string, Pin>();
  /** the steps executed so far, `expect` fields filled in */
  readonly steps: Step[] = [];
  private readonly pendingRead = new Map<Thread, AccessStep>();
  private readonly invariants: boolean;
  private readonly coherence: CoherenceChecker | null;
  private readonly accept: (v: Violation) => boolean;
  /** violations `failOn` passed over */
  readonly ignored: Violation[] = [];
  private readonly suppressed = new Set<string>();

  constructor(
    readonly sys: MmSystem,
    opts: DriverOptions = {},
  ) {
    this.k = sys.kernel;
    this.invariants = opts.invariants ?? true;
    this.coherence = (opts.coherence ?? true) ? new CoherenceChecker(this) : null;
    this.accept = opts.failOn ?? (() => true);
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
      const note = bad.witness.length === 0 ? ' (no witness step could be built)' : seen ? '' : ' (the witness steps did not show it)';
      return [{ kind: bad.violation.kind, message: bad.violation.message + note }];
    }
    return out;
  }

  /** Execute and record one step; the step's own checks and the invariants. */
  private run(s: Step, witness = false): Violation[] {
    this.steps.push(s);
    const out: Violation[] = [];
    this.witnessing = witness;
    try {
      this.step(s, out);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      out.push({ kind: /stale TLB/.test(msg) ? 'tlb' : 'error', message: `step ${this.steps.length - 1} (${s.op}) threw: ${msg}` });
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

  /** running witness steps: every read/pin mismatch counts */
  private witnessing = false;

  /** A mismatch seen by a read or readPin: the value to record as `expect`. */
  private mismatch(out: Violation[], v: Violation, want: number, got: number): number {
    if (this.witnessing || this.accept(v)) {
      out.push(v);
      return want;
    }
    return got;
  }

  private pageRange(pid: string, s: { region: string; offset?: number | string | undefined; size?: number | string | undefined }): [number, number] {
    const r = this.region(pid, s.region)!;
    const off = Number(s.offset ?? 0);
    const size = s.size === undefined ? r.pages * PAGE_SIZE - off : Number(s.size);
    return [r.start + off / PAGE_SIZE, r.start + (off + size) / PAGE_SIZE];
  }

  private step(s: Step, out: Violation[]): void {
    const k = this.k;
    const m = this.model;
    switch (s.op) {
      case 'spawn':
        k.spawn(s.pid, s.cpu ?? 0);
        this.regions.set(s.pid, new Map());
        m.spawn(s.pid);
        return;
      case 'thread':
        k.addThread(this.alive(s.pid)!, s.cpu ?? 0, s.spin ?? false);
        return;
      case 'mmap': {
        const p = this.alive(s.pid)!;
        const pages = Number(s.size) / PAGE_SIZE;
        k.runOn(this.thread(p, s.cpu)!);
        const vma = mmapAnon(k, p.mm, pages, s.name, { alignPages: Number(s.align ?? PAGE_SIZE) / PAGE_SIZE });
        this.regions.get(s.pid)!.set(s.name, { start: vma.start, pages: vma.pages });
        m.mmap(s.pid, vma.start, vma.pages, s.prot ?? 'rw');
        if (s.prot && s.prot !== 'rw') mprotect(k, p.mm, vma.start, vma.end, s.prot);
        if (s.advice) {
          madvise(k, p.mm, vma.start, vma.end, s.advice);
          this.adviseModel(s.pid, vma.start, vma.end, s.advice);
        }
        return;
      }
      case 'munmap': {
        const p = this.alive(s.pid)!;
        const [a, b] = this.pageRange(s.pid, s);
        k.runOn(this.thread(p, s.cpu)!);
        munmap(k, p.mm, a, b);
        m.munmap(s.pid, a, b);
        return;
      }
      case 'access': {
        const p = this.alive(s.pid)!;
        const vpn = this.region(s.pid, s.region!)!.start + Number(s.offset ?? 0) / PAGE_SIZE;
        const t = this.thread(p, s.cpu)!;
        const write = s.access === 'write';
        const value = write ? s.value! >>> 0 : 0;
        const r = userAccess(k, t, vpn, write, value);
        if (r === AccessResult.BLOCKED) {
          if (!write) this.pendingRead.set(t, s);
          return;
        }
        if (write) m.write(s.pid, vpn, value);
        else this.checkRead(s, s.pid, vpn, out, '');
        return;
      }
      case 'touch': {
        const p = this.alive(s.pid)!;
        const [a, b] = this.pageRange(s.pid, s);
        const t = this.thread(p, s.cpu)!;
        const write = s.access === 'write';
        for (let vpn = a; vpn < b; vpn++) {
          const r = userAccess(k, t, vpn, write, write ? s.value! >>> 0 : 0);
          if (r === AccessResult.BLOCKED) {
            out.push({ kind: 'error', message: `step ${this.steps.length - 1} (touch) blocked in userfaultfd at page 0x${vpn.toString(16)}, where the model has no registration` });
            return;
          }
          if (write) m.write(s.pid, vpn, s.value! >>> 0);
        }
        return;
      }
      case 'fork': {
        const p = this.alive(s.pid)!;
        const t = this.thread(p, s.cpu)!;
        k.runOn(t);
        forkProcess(k, p, s.child, t.cpu);
        this.regions.set(s.child, new Map(this.regions.get(s.pid)));
        m.fork(s.pid, s.child);
        return;
      }
      case 'exit': {
        const p = this.alive(s.pid)!;
        exitProcess(k, p);
        for (const t of p.threads) this.pendingRead.delete(t);
        this.regions.delete(s.pid);
        m.exit(s.pid);
        return;
      }
      case 'madvise': {
        const p = this.alive(s.pid)!;
        const [a, b] = this.pageRange(s.pid, s);
        k.runOn(this.thread(p, s.cpu)!);
        madvise(k, p.mm, a, b, s.advice);
        this.adviseModel(s.pid, a, b, s.advice);
        return;
      }
      case 'mprotect': {
        const p = this.alive(s.pid)!;
        const [a, b] = this.pageRange(s.pid, s);
        k.runOn(this.thread(p, s.cpu)!);
        mprotect(k, p.mm, a, b, s.prot);
        m.setAttrs(s.pid, a, b, (at) => (at.prot = s.prot));
        return;
      }
      case 'mremap': {
        const p = this.alive(s.pid)!;
        const [a, b] = this.pageRange(s.pid, s);
        k.runOn(this.thread(p, s.cpu)!);
        const nv = mremapMove(k, p.mm, a, b, s.to);
        this.regions.get(s.pid)!.set(s.to, { start: nv.start, pages: nv.pages });
        m.mremap(s.pid, a, b, nv.start);
        return;
      }
      case 'pin': {
        const p = this.alive(s.pid)!;
        const [a, b] = this.pageRange(s.pid, s);
        k.runOn(this.thread(p, s.cpu)!);
        this.pins.set(s.id, pinUserPages(k, p.mm, a, b, s.write, s.longterm ?? false, s.id));
        m.pin(s.id, s.pid, a, b, s.write);
        return;
      }
      case 'unpin':
        unpinUserPages(k, this.pins.get(s.id)!);
        this.pins.delete(s.id);
        m.unpin(s.id);
        return;
      case 'readPin': {
        const vals = readPin(k, this.pins.get(s.id)!);
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
          expect.push(this.mismatch(out, v, 'exact' in e ? e.exact : e.oneOf[0]!, got));
        }
        s.expect = expect;
        return;
      }
      case 'uffdRegister': {
        const p = this.alive(s.pid)!;
        const [a, b] = this.pageRange(s.pid, s);
        uffdRegister(k, p.mm, a, b, s.mode);
        m.setAttrs(s.pid, a, b, (at) => (s.mode === 'wp' ? (at.uffdWp = true) : (at.uffdMissing = true)));
        return;
      }
      case 'uffdCopy': {
        const p = this.alive(s.pid)!;
        const [a, b] = this.pageRange(s.pid, s);
        k.runOn(this.thread(p, s.cpu)!);
        const value = s.value! >>> 0;
        uffdCopy(k, p.mm, a, b, s.wp ?? false, () => value);
        for (let v = a; v < b; v++) m.write(s.pid, v, value);
        this.wake(p, a, b, 'uffd-missing', out);
        return;
      }
      case 'uffdWriteProtect': {
        const p = this.alive(s.pid)!;
        const [a, b] = this.pageRange(s.pid, s);
        k.runOn(this.thread(p, s.cpu)!);
        uffdWriteProtect(k, p.mm, a, b, s.enable);
        if (!s.enable) this.wake(p, a, b, 'uffd-wp', out);
        return;
      }
      case 'drain':
        if (s.cpu === undefined) k.lruAddDrainAll();
        else {
          k.cpu = s.cpu;
          k.lruAddDrain(s.cpu);
        }
        return;
      case 'phase':
        return;
      case 'repeat':
        throw new Error('the driver runs flat step lists (no repeat)');
    }
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

  /** The runner's wake(): blocked threads of `p` whose fault lies in [a, b) retry. */
  private wake(p: Process, a: number, b: number, reason: string, out: Violation[]): void {
    for (const t of p.threads) {
      const pf = t.pending;
      if (!pf || pf.reason !== reason || pf.vpn < a || pf.vpn >= b) continue;
      t.pending = null;
      const saved = this.k.cpu;
      const r = userAccess(this.k, t, pf.vpn, pf.write, pf.value);
      this.k.cpu = saved;
      if (r !== AccessResult.OK) continue;
      if (pf.write) this.model.write(p.pid, pf.vpn, pf.value);
      const st = this.pendingRead.get(t);
      if (st && !pf.write) {
        this.pendingRead.delete(t);
        this.checkRead(st, p.pid, pf.vpn, out, ` (completed at step ${this.steps.length - 1})`);
      }
    }
  }
}
