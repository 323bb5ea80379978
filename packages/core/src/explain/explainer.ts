/**
 * Decision records (`mmsim run --explain`): every answer of fault.wpReuse (do_wp_page() and
 * do_huge_pmd_wp_page()) with the tap that gave it, the folio's state and its references by
 * holder (holders.ts), aggregated per phase into the `decisions` document:
 *   { "fault.wpReuse": { "copy": { count, by: { lru_batch, swapcache, ... }, taps, avoidable_by_* } } }
 * `by` counts decisions under each kind of reference present beyond the faulting mapping.
 * The counterfactuals say, without running the alternative, whether the copy would have been a
 * reuse under the v5.9 refcount rule (refcount == 1) had a known mechanism dropped its references:
 * lru_add_drain() on the faulting CPU, lru_add_drain_all(), or folio_free_swap().
 * Off (Kernel.explain === null) unless asked for: the fault path then pays one null test.
 */
import { PG } from '../mem/folios.js';
import type { Kernel } from '../kernel/kernel.js';
import type { VmFault } from '../kernel/vm-fault.js';
import { refHolders, type RefHolders } from './holders.js';
import { mappingsInMm } from '../kernel/large-folio.js';

/** The reference kinds a decision is counted under in `by` (docs/counters.md "Decisions"). */
export const HOLDER_KINDS = [
  'mapped',
  'lru_batch',
  'lru_batch_local',
  'lru_batch_remote',
  'swapcache',
  'gup_pin',
  'other',
] as const;
export type HolderKind = (typeof HOLDER_KINDS)[number];

/** The counterfactual counts of a copy answer. */
export const AVOIDABLE = ['avoidable_by_drain_local', 'avoidable_by_drain_all', 'avoidable_by_free_swap'] as const;
export type Avoidable = (typeof AVOIDABLE)[number];

/** One answer of one decision hook, as recorded. */
export interface DecisionRecord {
  hook: string;
  /** 'reuse', 'copy', or 'reuse_range' (a ctx.reuseRange() answer) */
  answer: string;
  /** the plugin whose tap answered, or '(default)' when no tap did */
  tap: string;
  /** the scenario step (steps[i]...) and its phase */
  step: string;
  phase: string;
  cpu: number;
  /** the faulting process, and the address */
  pid: string;
  addr: string;
  /** FAULT_FLAG_UNSHARE (a GUP read pin breaking CoW) rather than a write */
  unshare: boolean;
  /** the folio: head PFN, order, flags */
  pfn: number;
  order: number;
  flags: string[];
  holders: RefHolders;
  /** holders.mapped per process (rmap walk: mappingsInMm), pid → mappings */
  mappedBy: Record<string, number>;
  /** holders.pins per pin (the scenario's pin id) → pages of this folio it holds */
  pinnedBy: Record<string, number>;
  /** the avoidable_by_* this copy counts under (empty for reuses) */
  avoidable: Avoidable[];
}

/** The aggregate of one answer. */
export interface AnswerSummary {
  count: number;
  by?: Partial<Record<HolderKind, number>>;
  /** which plugin's tap gave the answer, how often */
  taps: Record<string, number>;
  avoidable_by_drain_local?: number;
  avoidable_by_drain_all?: number;
  avoidable_by_free_swap?: number;
}
/** hook → answer → summary */
export type Decisions = Record<string, Record<string, AnswerSummary>>;

/** `tap` of a waterfall's result (fault.anonOrders, fault.cowOrder): every tap refined it */
export const WATERFALL = '(waterfall)';

/** `tap` of an answer no tap gave: core's own rule (defaultWpReuse / defaultPmdReuse) */
export const DEFAULT_TAP = '(default)';

const FLAG_NAMES: ReadonlyArray<[number, string]> = [
  [PG.anon, 'anon'],
  [PG.swapcache, 'swapcache'],
  [PG.lru, 'lru'],
  [PG.active, 'active'],
  [PG.dirty, 'dirty'],
  [PG.writeback, 'writeback'],
  [PG.inBatch, 'in_lru_batch'],
  [PG.partiallyMapped, 'partially_mapped'],
  [PG.anonExclusive, 'anon_exclusive'],
];

function bump<K extends string>(o: Partial<Record<K, number>>, key: K, n = 1): void {
  o[key] = (o[key] ?? 0) + n;
}

export interface ExplainerOptions {
  /** records kept for the result's `records` (the last N; default 256) */
  keep?: number;
  /** called with every record (a timeline adds them to fault slices) */
  onRecord?: (r: DecisionRecord) => void;
}

export class Explainer {
  step = '';
  private phaseName = 'main';
  private readonly byPhase = new Map<string, Decisions>();
  private readonly total: Decisions = Object.create(null);
  private readonly ring: DecisionRecord[] = [];
  private next = 0;
  private readonly keep: number;

  constructor(
    private readonly k: Kernel,
    private readonly opts: ExplainerOptions = {},
  ) {
    this.keep = opts.keep ?? 256;
  }

  enterPhase(name: string): void {
    this.phaseName = name;
  }

  /** The decisions of a phase (empty object when it had none). */
  phase(name: string): Decisions {
    return this.byPhase.get(name) ?? Object.create(null);
  }
  totals(): Decisions {
    return this.total;
  }
  /** The last records, oldest first. */
  records(): DecisionRecord[] {
    return this.ring.length < this.keep
      ? this.ring.slice()
      : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  /** A fault.wpReuse answer for the folio at `head` (vmf: the fault), decided by `answeredBy`. */
  wpReuse(vmf: VmFault, head: number, answer: 'reuse' | 'copy' | 'reuse_range', answeredBy: string): void {
    this.record('fault.wpReuse', vmf, head, answer, answeredBy, true);
  }

  /** A fault.swapinWritable answer (do_swap_page(), small folios) for the folio just mapped. */
  swapinWritable(vmf: VmFault, head: number, writable: boolean, answeredBy: string): void {
    this.record('fault.swapinWritable', vmf, head, writable ? 'writable' : 'read_only', answeredBy, false);
  }

  /** A fault.gupUnshare answer (a read-only pin of a page that may be shared). */
  gupUnshare(vmf: VmFault, head: number, unshare: boolean, answeredBy: string): void {
    this.record('fault.gupUnshare', vmf, head, unshare ? 'unshare' : 'keep', answeredBy, false);
  }

  /**
   * Record one answer. The faulting PTE (or PMD) is one of the folio's mappings; the others
   * count under `mapped`. `counterfactual`: a copy answer gets its avoidable_by_* counts.
   */
  private record(
    hookName: string,
    vmf: VmFault,
    head: number,
    answer: string,
    answeredBy: string,
    counterfactual: boolean,
  ): void {
    const k = this.k;
    const tap = answeredBy || DEFAULT_TAP;
    const f = k.f;
    const h = refHolders(k, head);
    const flags: string[] = [];
    for (const [bit, name] of FLAG_NAMES) if ((f.flags[head]! & bit) !== 0) flags.push(name);
    const local = h.lruBatches.reduce((n, b) => n + (b.cpu === vmf.cpu ? b.refs : 0), 0);
    const remote = h.lruBatch - local;
    const otherMaps = h.mapped > 0 ? h.mapped - 1 : 0;
    const avoidable: Avoidable[] = [];
    if (
      counterfactual &&
      answer === 'copy' &&
      f.order[head] === 0 &&
      otherMaps === 0 &&
      h.pinned === 0 &&
      h.other === 0
    ) {
      // had this mechanism dropped its references, the refcount would have been 1
      if (h.swapcache === 0 && h.lruBatch > 0) {
        if (remote === 0) avoidable.push('avoidable_by_drain_local');
        avoidable.push('avoidable_by_drain_all');
      }
      if (h.lruBatch === 0 && h.swapcache > 0 && this.swapFreeable(head)) avoidable.push('avoidable_by_free_swap');
    }
    const rec: DecisionRecord = {
      hook: hookName,
      answer,
      tap,
      step: this.step,
      phase: this.phaseName,
      cpu: vmf.cpu,
      pid: this.pidOf(vmf),
      addr: `0x${(vmf.vpn * 4096).toString(16)}`,
      unshare: vmf.unshare,
      pfn: head,
      order: f.order[head]!,
      flags,
      holders: h,
      mappedBy: this.mappedBy(head),
      pinnedBy: h.pins > 0 ? this.pinnedBy(head) : Object.create(null),
      avoidable,
    };
    const present: HolderKind[] = [];
    if (otherMaps > 0) present.push('mapped');
    if (h.lruBatch > 0) present.push('lru_batch');
    if (local > 0) present.push('lru_batch_local');
    if (remote > 0) present.push('lru_batch_remote');
    if (h.swapcache > 0) present.push('swapcache');
    if (h.pinned > 0) present.push('gup_pin');
    if (h.other !== 0) present.push('other');
    for (const s of this.summaries(hookName, answer, tap)) {
      if (present.length) {
        s.by ??= Object.create(null) as Partial<Record<HolderKind, number>>;
        for (const p of present) bump(s.by!, p);
      }
      for (const a of avoidable) s[a] = (s[a] ?? 0) + 1;
    }
    if (this.ring.length < this.keep) this.ring.push(rec);
    else this.ring[this.next] = rec;
    this.next = (this.next + 1) % this.keep;
    this.opts.onRecord?.(rec);
  }

  /**
   * An answer without a folio record: a tap's answer to fork.*, reclaim.* or
   * fault.swapinSkipCache (the sink of di/instrument.ts), or the order a fault settled on
   * after the fault.anonOrders / fault.cowOrder waterfalls (`order_N`).
   */
  count(hookName: string, answer: string, tap: string): void {
    this.summaries(hookName, answer, tap);
  }

  /** Count one answer by `tap` in the phase's and the run's summaries; returns both. */
  private summaries(hookName: string, answer: string, tap: string): [AnswerSummary, AnswerSummary] {
    let ph = this.byPhase.get(this.phaseName);
    if (!ph) {
      ph = Object.create(null) as Decisions;
      this.byPhase.set(this.phaseName, ph);
    }
    const one = (d: Decisions): AnswerSummary => {
      const hook = (d[hookName] ??= Object.create(null) as Record<string, AnswerSummary>);
      const s = (hook[answer] ??= { count: 0, taps: Object.create(null) as Record<string, number> });
      s.count++;
      bump(s.taps, tap);
      return s;
    };
    return [one(ph), one(this.total)];
  }

  /** folio_free_swap() would succeed: no swap PTE still references a slot, no writeback. */
  private swapFreeable(head: number): boolean {
    const k = this.k;
    const f = k.f;
    if ((f.flags[head]! & (PG.writeback | PG.swapcache)) !== PG.swapcache) return false;
    const slot = f.swap[head]!;
    for (let i = 0; i < 1 << f.order[head]!; i++) if (k.swap.count[slot + i] !== 0) return false;
    return true;
  }

  private mappedBy(head: number): Record<string, number> {
    const out: Record<string, number> = Object.create(null);
    for (const p of this.k.procs.values()) {
      if (!p.alive) continue;
      const n = mappingsInMm(this.k, head, p.mm);
      if (n > 0) out[p.pid] = n;
    }
    return out;
  }

  private pinnedBy(head: number): Record<string, number> {
    const out: Record<string, number> = Object.create(null);
    const f = this.k.f;
    for (const pin of this.k.livePins) {
      let n = 0;
      for (const pfn of pin.pfns) if (f.head(pfn) === head) n++;
      if (n > 0) out[pin.id] = (out[pin.id] ?? 0) + n;
    }
    return out;
  }

  private pidOf(vmf: VmFault): string {
    for (const p of this.k.procs.values()) if (p.mm === vmf.mm) return p.pid;
    return `mm${vmf.mm.id}`;
  }
}
