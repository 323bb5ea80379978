/**
 * Watching the policies' taps in `mmsim check` (core's TapMonitor): which tap is running (for
 * the watchdog, in shared memory) and what the last taps answered (a ring of decisions, for the
 * report of a broken invariant). Only taps of extra policies (precedence 'override') are
 * watched, not the preset's; only while check builds its systems (runFuzzInput).
 */
import type { TapMonitor } from '@mmsim/core';

/** One tap call of a policy: in which step, which hook, what it answered. */
export interface Decision {
  /** index in the run's steps (`steps[N]`) and its op */
  step: number;
  op: string;
  plugin: string;
  hook: string;
  /** the tap's answer (absent: none, e.g. a notify hook or a bail tap passing) */
  answer?: unknown;
  /** the faulting virtual page number (hex), for fault hooks (FaultContext.address) */
  page?: string;
}

/**
 * Slots of the shared Int32Array: the running tap (id + 1, 0: none), tap calls so far, the
 * watchdog's verdict; for a check in a worker (watch/channel.ts) also the stop flag the main
 * thread sets, the tap budget (ms), the step being run (n + 1) and its op (id + 1).
 */
export const SLOT = { running: 0, calls: 1, firedTap: 2, firedMs: 3, stop: 4, budget: 5, step: 6, op: 7 } as const;
export const SLOTS = 8;

/** Tells the other thread the names behind new tap and op ids (the flags hold only ids). */
export interface TapAnnounce {
  tap(id: number, plugin: string, hook: string): void;
  op(id: number, op: string): void;
}

/** `steps[3] (access)`, or '' before the first step: what TapWatch.where() and the supervisor print. */
export function whereText(step: number, op: string | undefined): string {
  return step < 0 ? '' : `steps[${step}] (${op ?? '?'})`;
}

const RING = 32;

interface Entry {
  id: number;
  step: number;
  answer: unknown;
  address: number;
}

export class TapWatch implements TapMonitor {
  readonly taps: Array<{ plugin: string; hook: string }> = [];
  private readonly ids = new Map<string, number>();
  private readonly stack: number[] = [];
  private cur = -1;
  private readonly ring: Entry[] = Array.from({ length: RING }, () => ({
    id: -1,
    step: -1,
    answer: undefined,
    address: -1,
  }));
  private pos = 0;
  private step = -1;
  private readonly ops: string[] = [];
  private readonly opIds = new Map<string, number>();

  /** `flags`: shared with the watchdog (a plain array without one); `announce`: see TapAnnounce */
  constructor(
    readonly flags: Int32Array = new Int32Array(SLOTS),
    private readonly announce?: TapAnnounce,
  ) {}

  register(plugin: string, hook: string, precedence: 'normal' | 'override'): number {
    if (precedence !== 'override') return -1;
    const key = `${plugin}\0${hook}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.taps.length;
      this.taps.push({ plugin, hook });
      this.ids.set(key, id);
      this.announce?.tap(id, plugin, hook);
    }
    return id;
  }

  enter(id: number): void {
    this.stack.push(this.cur);
    this.cur = id;
    Atomics.store(this.flags, SLOT.running, id + 1);
    Atomics.add(this.flags, SLOT.calls, 1);
  }

  exit(id: number, answer: unknown, args: readonly unknown[]): void {
    this.cur = this.stack.pop() ?? -1;
    Atomics.store(this.flags, SLOT.running, this.cur + 1);
    const e = this.ring[this.pos]!;
    this.pos = (this.pos + 1) % RING;
    e.id = id;
    e.step = this.step;
    e.answer = answer;
    const a = (args[0] as { address?: unknown } | undefined)?.address;
    e.address = typeof a === 'number' ? a : -1;
  }

  /** A new run: forget the decisions and the steps. */
  reset(): void {
    for (const e of this.ring) e.id = -1;
    this.step = -1;
    this.ops.length = 0;
    this.stack.length = 0;
    this.cur = -1;
    Atomics.store(this.flags, SLOT.running, 0);
    Atomics.store(this.flags, SLOT.step, 0);
  }

  /** The step being run: `steps[3] (access)`, or '' before the first. */
  where(): string {
    return whereText(this.step, this.ops[this.step]);
  }

  /** The driver starts steps[n]. */
  beginStep(n: number, op: string): void {
    this.step = n;
    this.ops[n] = op;
    let id = this.opIds.get(op);
    if (id === undefined) {
      id = this.opIds.size;
      this.opIds.set(op, id);
      this.announce?.op(id, op);
    }
    Atomics.store(this.flags, SLOT.step, n + 1);
    Atomics.store(this.flags, SLOT.op, id + 1);
  }

  /**
   * The decisions that preceded a violation found in steps[n]: those of that step, else the
   * last few before it (oldest first).
   */
  decisionsBefore(n: number): Decision[] {
    const all: Decision[] = [];
    for (let i = 0; i < RING; i++) {
      const e = this.ring[(this.pos + i) % RING]!;
      if (e.id < 0 || e.step > n) continue;
      const t = this.taps[e.id]!;
      const d: Decision = { step: e.step, op: this.ops[e.step] ?? '?', plugin: t.plugin, hook: t.hook };
      if (e.answer !== undefined) d.answer = plain(e.answer);
      if (e.address >= 0) d.page = `0x${e.address.toString(16)}`;
      all.push(d);
    }
    const inStep = all.filter((d) => d.step === n);
    return inStep.length ? inStep : all.slice(-5);
  }
}

/** An answer as JSON can show it (a ctx.reuseRange() object → its fields). */
function plain(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'bigint' || typeof v === 'function' ? String(v) : v;
  try {
    return JSON.parse(JSON.stringify(v));
  } catch {
    return String(v);
  }
}

/** `steps[4] (access): fault.wpReuse → always-reuse answered "reuse" at page 0x10` */
export function formatDecision(d: Decision): string {
  const ans = 'answer' in d ? `answered ${JSON.stringify(d.answer)}` : 'ran (no answer)';
  return `steps[${d.step}] (${d.op}): ${d.hook} → ${d.plugin} ${ans}${d.page ? ` at page ${d.page}` : ''}`;
}

/** The policies to blame: those whose taps answered (or ran) in the failing step. */
export function blameOf(decisions: readonly Decision[], step: number): string[] {
  return [...new Set(decisions.filter((d) => d.step === step).map((d) => d.plugin))];
}
