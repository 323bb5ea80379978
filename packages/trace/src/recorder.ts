/**
 * recordTrace(): watch a composed system through core's notifications and build a Chrome
 * trace-event timeline (the JSON Object Format that ui.perfetto.dev and chrome://tracing open).
 *
 * Sources, all plain notifications (nothing here answers a decision hook):
 * - fault.entered / fault.handled / fault.exited: one complete slice per handle_mm_fault();
 * - tlbFlush.request, tapped before (stage -2000) and after (+2000) the hardware model (-1000):
 *   an instant per request, and a slice for the cycles the hardware charged for it;
 * - CostClock.observeRemote(): work charged to another CPU. During a flush request that is an
 *   IPI handler (x86's flush_tlb_func; the only remote charge of a flush): a slice on the
 *   receiver and a flow from the sender's flush slice. Elsewhere (lru_add_drain_all's remote
 *   drains) a 'remote work' slice, with a flow when the sender is inside a slice.
 * - the hardware's tlbi_broadcast counter (arm64): a flush that broadcast TLBIs gets a slice on
 *   the initiator's "TLBI broadcast" track and a flow to it.
 * - RunOptions.onPhase and every `sampleEvery` faults: counter samples.
 */
import type { FaultEnteredEvent, FaultEvent, FaultExitedEvent, FlushRequest, MmStruct, MmSystem } from '@mmsim/core';
import { describeHolders, type DecisionRecord } from '@mmsim/core';
import type { ChromeTrace, TraceEvent, TraceMetadata } from './format.js';

export interface TraceOptions {
  /** clock rate that converts simulated cycles into trace time (default 3 GHz) */
  clockGHz?: number;
  /**
   * most slice / instant / flow events kept (default 25 000, about 5 MB): the run's first events are kept
   * whole; after that only counters are sampled (metadata.dropped says how many were left out)
   */
  maxEvents?: number;
  /** a counter sample every N faults (default 1000; doubled when samples are thinned) */
  sampleEvery?: number;
  /** most counter samples kept (default 2000): beyond, every other sample is dropped */
  maxSamples?: number;
  /** processes with an RSS counter of their own (default 16; the rest are summed as "(others)") */
  maxProcesses?: number;
}

export interface TraceRecorder {
  /** pass these to runScenario() (phase boundaries are counter sample points) */
  readonly runOptions: { onPhase(name: string): void };
  /**
   * a decision record (`--explain`, RunOptions.explain.onRecord): the open fault slice on its
   * CPU carries it as arguments (tap, answer, refcount by holder, counterfactuals)
   */
  onDecision(r: DecisionRecord): void;
  /** stop observing the system (the hooks' taps stay, but record nothing) */
  stop(): void;
  /** the trace so far, as a JSON-serialisable object */
  toJSON(): ChromeTrace;
}

/** pid of the machine; CPU n is tid n + 1 (Perfetto's JSON importer treated tid 0 specially). */
export const MACHINE_PID = 1;
export const cpuTid = (cpu: number): number => cpu + 1;
/** tid of CPU n's "TLBI broadcast" track (arm64) */
export const broadcastTid = (cpu: number): number => 1001 + cpu;

/** 1 trace time unit = 0.1 ns; ts/dur are µs with 4 decimals */
const UNITS_PER_US = 10_000;

interface FaultFrame {
  type: 'fault';
  b: number;
  vpn: number;
  pid: string;
  write: boolean;
  unshare: boolean;
  kinds: string[];
  order: number;
  /** the decision's explanation (onDecision), when --explain is on */
  explain?: Record<string, unknown>;
}
interface Remote {
  cpu: number;
  b: number;
  cycles: number;
}
interface FlushFrame {
  type: 'flush';
  b: number;
  req: FlushRequest;
  kind: string;
  reason: string;
  start: number;
  end: number;
  remotes: Remote[];
  broadcast: number;
}
type Frame = FaultFrame | FlushFrame;

interface Sample {
  /** trace units */
  t: number;
  rss: Map<string, number>;
  pageTables: number;
  memUsed: number;
  memFree: number | null;
  swapUsed: number;
}

const DECISION: Record<string, string> = {
  anon: 'new folio',
  zero: 'zero page',
  huge: 'new THP',
  'huge-zero': 'huge zero page',
  'wp-reuse': 'reuse',
  'wp-copy': 'copy',
  'wp-zero': 'copy (zero page)',
  swapin: 'swap-in',
  spurious: 'fix access flags',
};

export function recordTrace(system: MmSystem, opts: TraceOptions = {}): TraceRecorder {
  const ghz = opts.clockGHz ?? 3;
  if (!(ghz > 0) || !Number.isFinite(ghz)) throw new RangeError(`clockGHz must be a positive number, got ${ghz}`);
  const maxEvents = Math.max(0, Math.floor(opts.maxEvents ?? 25_000));
  const hardCap = maxEvents + 1_000;
  let sampleEvery = Math.max(1, Math.floor(opts.sampleEvery ?? 1000));
  const maxSamples = Math.max(4, Math.floor(opts.maxSamples ?? 2000));
  const maxProcesses = Math.max(1, Math.floor(opts.maxProcesses ?? 16));

  const k = system.kernel;
  const clock = system.clock;
  const ncpus = k.cpus.length;
  /**
   * Each CPU's trace clock: its charged cycles (CostClock.byCpu) plus the idle time it waited
   * for work from another CPU (see observeRemote below). Monotonic per CPU.
   */
  const idle = new Float64Array(ncpus);
  const T = (c: number): number => clock.byCpu[c]! + idle[c]!;
  const byCpu = (): number[] => Array.from({ length: ncpus }, (_, c) => T(c));
  const units = (cycles: number) => Math.round((cycles * 10) / ghz);
  const us = (u: number) => u / UNITS_PER_US;

  const events: TraceEvent[] = [];
  const dropped = { slices: 0, instants: 0, flows: 0 };
  let truncatedAt: number | null = null;
  const stacks: Frame[][] = Array.from({ length: ncpus }, () => []);
  let openFrames = 0;
  let faults = 0;
  let faultSlices = 0;
  let flushes = 0;
  let ipis = 0;
  let flowId = 0;
  let active = true;
  const flushStack: FlushFrame[] = [];
  const broadcastCpus = new Set<number>();
  const broadcastId = system.stats.counterNames().indexOf('tlbi_broadcast');

  // ------------------------------------------------------------------ budget
  /** at a top-level item: keep recording? (the cut falls between top-level items) */
  const gateOpen = (): boolean => {
    if (truncatedAt !== null) return false;
    if (events.length >= maxEvents) {
      truncatedAt = Math.max(...Array.from(byCpu(), units));
      return false;
    }
    return true;
  };
  const push = (e: TraceEvent, what: keyof typeof dropped): void => {
    if (events.length >= hardCap || (truncatedAt !== null && openFrames === 0)) dropped[what]++;
    else events.push(e);
  };

  // ------------------------------------------------------------------ names
  const pidOf = new WeakMap<MmStruct, string>();
  const pidFor = (mm: MmStruct): string => {
    let p = pidOf.get(mm);
    if (p === undefined) {
      for (const pr of k.procs.values()) if (pr.mm === mm) pidOf.set(pr.mm, pr.pid);
      p = pidOf.get(mm) ?? `mm${mm.id}`;
    }
    return p;
  };

  // ------------------------------------------------------------------ faults
  const h = system.hooks;
  const name = '@mmsim/trace';
  h.fault.entered.tap(name, (e: FaultEnteredEvent) => {
    if (!active) return;
    faults++;
    const st = stacks[e.cpu]!;
    if (openFrames === 0 && !gateOpen()) {
      dropped.slices++;
      return;
    }
    st.push({
      type: 'fault',
      b: T(e.cpu),
      vpn: e.vpn,
      pid: pidFor(e.mm as MmStruct),
      write: e.write,
      unshare: e.unshare,
      kinds: [],
      order: 0,
    });
    openFrames++;
  });
  h.fault.handled.tap(name, (e: FaultEvent) => {
    if (!active) return;
    const top = stacks[e.cpu]!.at(-1);
    if (top?.type !== 'fault') return;
    top.kinds.push(e.kind);
    top.order = e.order;
  });
  h.fault.exited.tap(name, (e: FaultExitedEvent) => {
    if (!active) return;
    const st = stacks[e.cpu]!;
    const top = st.at(-1);
    if (faults % sampleEvery === 0) sample();
    if (top?.type !== 'fault' || top.vpn !== e.vpn) return;
    st.pop();
    openFrames--;
    faultSlices++;
    push(faultSlice(top, T(e.cpu), e.cpu, e.outcome), 'slices');
  });

  const faultSlice = (f: FaultFrame, end: number, cpu: number, outcome: string): TraceEvent => {
    const last = f.kinds.at(-1);
    const nm =
      f.kinds.length > 0 ? f.kinds.join('+') : outcome !== 'ok' ? outcome : f.unshare ? 'unshare (no-op)' : 'no-op';
    const b = units(f.b);
    return {
      ph: 'X',
      cat: 'fault',
      name: nm,
      pid: MACHINE_PID,
      tid: cpuTid(cpu),
      ts: us(b),
      dur: us(units(end) - b),
      args: {
        vpn: `0x${f.vpn.toString(16)}`,
        process: f.pid,
        order: f.order,
        decision: last ? (DECISION[last] ?? last) : outcome,
        write: f.write,
        unshare: f.unshare,
        outcome,
        ...(f.explain ? { explain: f.explain } : {}),
      },
    };
  };

  // ------------------------------------------------------------------ flushes
  h.tlbFlush.request.tap({ name, stage: -2000 }, (r: FlushRequest) => {
    if (!active) return;
    flushes++;
    if (openFrames === 0 && !gateOpen()) {
      dropped.instants++;
      return;
    }
    const f: FlushFrame = {
      type: 'flush',
      b: T(r.cpu),
      req: r,
      kind: r.kind,
      reason: r.reason,
      start: r.start,
      end: r.end,
      remotes: [],
      broadcast: broadcastId >= 0 ? system.stats.v[broadcastId]! : 0,
    };
    stacks[r.cpu]!.push(f);
    flushStack.push(f);
    openFrames++;
  });
  h.tlbFlush.request.tap({ name, stage: 2000 }, (r: FlushRequest) => {
    if (!active) return;
    const top = flushStack.at(-1);
    if (!top || top.req !== r) return;
    flushStack.pop();
    const st = stacks[r.cpu]!;
    if (st.at(-1) === top) st.pop();
    closeFlush(top, r.cpu);
    openFrames--;
  });

  const closeFlush = (f: FlushFrame, cpu: number): void => {
    const b = units(f.b);
    const e = units(T(cpu));
    const tid = cpuTid(cpu);
    const range =
      f.kind === 'range' && f.end < Number.MAX_SAFE_INTEGER
        ? `0x${f.start.toString(16)}-0x${f.end.toString(16)}`
        : f.kind === 'range'
          ? 'all'
          : undefined;
    const args: Record<string, unknown> = { kind: f.kind, reason: f.reason };
    if (range !== undefined) args.range = range;
    if (f.req.mm) args.process = pidFor(f.req.mm);
    const bc = broadcastId >= 0 ? system.stats.v[broadcastId]! - f.broadcast : 0;
    if (f.remotes.length > 0) args.ipis = f.remotes.length;
    if (bc > 0) args.tlbiBroadcast = bc;
    push(
      { ph: 'i', s: 't', cat: 'tlb', name: `flush ${f.reason}`, pid: MACHINE_PID, tid, ts: us(b), args },
      'instants',
    );
    if (e <= b) return;
    push(
      { ph: 'X', cat: 'tlb', name: `tlb flush (${f.kind})`, pid: MACHINE_PID, tid, ts: us(b), dur: us(e - b), args },
      'slices',
    );
    const mid = us(b + Math.floor((e - b) / 2));
    for (const rm of f.remotes) {
      ipis++;
      const rb = units(rm.b);
      const re = units(rm.b + rm.cycles);
      const rtid = cpuTid(rm.cpu);
      push(
        {
          ph: 'X',
          cat: 'ipi',
          name: 'ipi: flush_tlb_func',
          pid: MACHINE_PID,
          tid: rtid,
          ts: us(rb),
          dur: us(re - rb),
          args: { from: `cpu ${cpu}`, reason: f.reason },
        },
        'slices',
      );
      if (re > rb) flow('ipi', cpu, mid, rm.cpu, us(rb + Math.floor((re - rb) / 2)));
    }
    if (bc > 0) {
      broadcastCpus.add(cpu);
      push(
        {
          ph: 'X',
          cat: 'tlbi',
          name: 'TLBI IS + DSB ISH',
          pid: MACHINE_PID,
          tid: broadcastTid(cpu),
          ts: us(b),
          dur: us(e - b),
          args: { ops: bc, reason: f.reason },
        },
        'slices',
      );
      flow('tlbi broadcast', cpu, mid, -1 - cpu, mid);
    }
  };

  /** a v1 flow (s → f, binding to the enclosing slices); `to` < 0: the broadcast track of cpu -1-to */
  const flow = (nm: string, from: number, ts: number, to: number, ts2: number): void => {
    if (events.length + 2 > hardCap || (truncatedAt !== null && openFrames === 0)) {
      dropped.flows += 2;
      return;
    }
    const id = ++flowId;
    const cat = nm === 'ipi' ? 'ipi' : nm === 'remote' ? 'remote' : 'tlbi';
    events.push({ ph: 's', cat, name: nm, id, pid: MACHINE_PID, tid: cpuTid(from), ts });
    const tid = to < 0 ? broadcastTid(-1 - to) : cpuTid(to);
    events.push({ ph: 'f', bp: 'e', cat, name: nm, id, pid: MACHINE_PID, tid, ts: ts2 });
  };

  // ------------------------------------------------------------------ remote work
  const unobserve = clock.observeRemote((cpu, cycles) => {
    if (!active) return;
    const f = flushStack.at(-1);
    // the receiver was idle until the sender asked (an IPI, a queued drain): bring it forward
    const from = f ? f.req.cpu : k.cpu;
    const at = f ? f.b : T(from);
    if (cpu !== from && stacks[cpu]!.length === 0 && T(cpu) < at) idle[cpu]! += at - T(cpu);
    const b = T(cpu);
    if (f) {
      f.remotes.push({ cpu, b, cycles });
      return;
    }
    if (openFrames === 0 && !gateOpen()) {
      dropped.slices++;
      return;
    }
    const rb = units(b);
    const re = units(b + cycles);
    push(
      {
        ph: 'X',
        cat: 'remote',
        name: 'remote work',
        pid: MACHINE_PID,
        tid: cpuTid(cpu),
        ts: us(rb),
        dur: us(re - rb),
        args: { from: `cpu ${k.cpu}` },
      },
      'slices',
    );
    // a flow only from inside a slice of the sender (it binds to the enclosing slice)
    if (re > rb && stacks[k.cpu]!.length > 0 && k.cpu !== cpu)
      flow('remote', k.cpu, us(units(T(k.cpu))), cpu, us(rb + Math.floor((re - rb) / 2)));
  });

  // ------------------------------------------------------------------ counters
  let samples: Sample[] = [];
  let phaseEvery = 1;
  let phases = 0;
  const rssNames: string[] = [];
  const now = () => Math.max(0, ...Array.from(byCpu(), units));
  const snapshot = (): Sample => {
    const rss = new Map<string, number>();
    for (const p of k.procs.values()) {
      if (!p.alive) continue;
      let key = p.pid;
      if (!rssNames.includes(key)) {
        if (rssNames.length < maxProcesses) rssNames.push(key);
        else key = '(others)';
      }
      rss.set(key, (rss.get(key) ?? 0) + p.mm.rssAnon * 4);
    }
    const max = k.mem.maxPages;
    return {
      t: now(),
      rss,
      pageTables: k.pt.liveAccounted * 4,
      memUsed: k.mem.allocatedPages * 4,
      memFree: max > 0 ? Math.max(0, max - k.mem.allocatedPages) * 4 : null,
      swapUsed: k.swap.used * 4,
    };
  };
  const sample = (): void => {
    samples.push(snapshot());
    if (samples.length >= maxSamples) {
      samples = samples.filter((_, i) => i % 2 === 0);
      sampleEvery *= 2;
      phaseEvery *= 2;
    }
  };
  sample();

  const counterEvents = (all: Sample[]): TraceEvent[] => {
    const out: TraceEvent[] = [];
    const names = [...rssNames, ...(all.some((s) => s.rss.has('(others)')) ? ['(others)'] : [])];
    for (const s of all) {
      const ts = us(s.t);
      const rss: Record<string, number> = {};
      for (const n of names) rss[n] = s.rss.get(n) ?? 0;
      const c = (nm: string, args: Record<string, number>): void => {
        out.push({ ph: 'C', cat: 'memory', name: nm, pid: MACHINE_PID, ts, args });
      };
      if (names.length > 0) c('RSS (kB)', rss);
      c('PageTables (kB)', { value: s.pageTables });
      c('MemUsed (kB)', { value: s.memUsed });
      if (s.memFree !== null) c('MemFree (kB)', { value: s.memFree });
      c('SwapUsed (kB)', { value: s.swapUsed });
    }
    return out;
  };

  return {
    onDecision(r: DecisionRecord) {
      if (!active) return;
      const top = stacks[r.cpu]?.at(-1);
      if (top?.type !== 'fault') return;
      top.explain = {
        hook: r.hook,
        answer: r.answer,
        tap: r.tap,
        step: r.step,
        refcount: describeHolders(r.holders),
        ...(r.avoidable.length ? { avoidable: r.avoidable.join(',') } : {}),
      };
    },
    runOptions: {
      onPhase(_name: string) {
        if (!active) return;
        if (phases++ % phaseEvery === 0) sample();
      },
    },
    stop() {
      active = false;
      unobserve();
    },
    toJSON(): ChromeTrace {
      const meta: TraceEvent[] = [
        {
          ph: 'M',
          name: 'process_name',
          pid: MACHINE_PID,
          args: { name: `mmsim ${system.hardware.name} ${system.kernelName} (${ncpus} CPUs)` },
        },
      ];
      for (let c = 0; c < ncpus; c++) {
        meta.push({ ph: 'M', name: 'thread_name', pid: MACHINE_PID, tid: cpuTid(c), args: { name: `cpu ${c}` } });
        meta.push({ ph: 'M', name: 'thread_sort_index', pid: MACHINE_PID, tid: cpuTid(c), args: { sort_index: c } });
      }
      for (const c of broadcastCpus) {
        const tid = broadcastTid(c);
        meta.push({ ph: 'M', name: 'thread_name', pid: MACHINE_PID, tid, args: { name: `cpu ${c}: TLBI broadcast` } });
        meta.push({ ph: 'M', name: 'thread_sort_index', pid: MACHINE_PID, tid, args: { sort_index: ncpus + c } });
      }
      // slices still open (a fault that threw): closed at the CPU's current time
      const open: TraceEvent[] = [];
      for (let c = 0; c < ncpus; c++) {
        for (const f of stacks[c]!) {
          if (f.type !== 'fault') continue;
          const e = faultSlice(f, T(c), c, 'unfinished');
          open.push(e);
        }
      }
      const end = snapshot();
      const metadata: TraceMetadata = {
        generator: '@mmsim/trace',
        hardware: system.hardware.name,
        kernel: system.kernelName,
        cpus: ncpus,
        clock: {
          GHz: ghz,
          source:
            'CostClock.byCpu: simulated cycles charged to each CPU (its own work and work done for others), plus idle time',
          note:
            `ts = cycles / ${ghz} GHz, in µs. Each CPU has its own time line, the cycles charged to it ` +
            '(so its slices never overlap); a CPU that receives work from another (an IPI handler, a ' +
            'remote drain) is first brought forward to the time the sender asked, as if idle until then. ' +
            'Otherwise CPUs are not synchronised: compare times within a track, and across tracks only ' +
            'along flows. Counters use the furthest CPU clock.',
        },
        counts: { faults, faultSlices, flushRequests: flushes, ipis, flows: flowId },
        limits: { maxEvents, maxSamples, sampleEveryFaults: sampleEvery, phaseSampleEvery: phaseEvery },
        truncated:
          truncatedAt === null
            ? null
            : {
                afterUs: us(truncatedAt),
                note: 'slices, instants and flows after this point (furthest CPU clock) were dropped; counters continue',
              },
        dropped: { ...dropped },
        counterSamples: samples.length + 1,
      };
      return {
        traceEvents: [...meta, ...events, ...open, ...counterEvents([...samples, end])],
        displayTimeUnit: 'ns',
        metadata,
      };
    },
  };
}
