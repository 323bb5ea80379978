/**
 * Helpers of the range fast path's equivalence tests (range-equivalence-*.test.ts): run the same
 * scenario with Kernel.rangeFaults on and off and return everything that could differ: the run
 * document (all counters, all phases, cycles, meminfo, checks), the progress and interruption
 * polls, the error if the run failed, and a digest of the whole simulated machine after the run
 * (every typed array, number and string reachable from the system: page contents, folio and
 * page-table state, LRU and per-CPU batches, the hardware model's TLBs, clocks, the vm_fault).
 */
import { createHash, type Hash } from 'node:crypto';
import {
  accessRangePages,
  createSystem,
  runScenario,
  type MmSystem,
  type RunOptions,
  type Scenario,
} from '@mmsim/core';
import { createHardware, runFile } from '../src/index.js';
import { resolveSystem } from '../src/resolve.js';

export interface RunOutcome {
  document: unknown;
  error: string | null;
  progress: number[];
  /** property path (two levels below the system) → digest of what it reaches */
  state: Record<string, string>;
  /** pgfault over the run, to show the corpus exercises faults */
  faults: number;
  /** pages the range path itself completed in the run (0 with it off) */
  rangePages: number;
}

/** Keys not part of the simulated state: the hook objects (taps, compiled call functions) and the switch itself. */
const SKIP = new Set(['hooks', 'rangeFaults']);

function feed(h: Hash, v: unknown, seen: Map<object, number>): void {
  if (v === null || v === undefined) {
    h.update(v === null ? 'N;' : 'U;');
    return;
  }
  switch (typeof v) {
    case 'number':
      h.update(`n${Object.is(v, -0) ? '-0' : String(v)};`);
      return;
    case 'string':
      h.update(`s${v.length}:${v};`);
      return;
    case 'boolean':
      h.update(v ? 'T;' : 'F;');
      return;
    case 'bigint':
      h.update(`b${v};`);
      return;
    case 'function':
    case 'symbol':
      return;
  }
  const o = v as object;
  const id = seen.get(o);
  if (id !== undefined) {
    h.update(`@${id};`);
    return;
  }
  seen.set(o, seen.size);
  if (ArrayBuffer.isView(o)) {
    h.update(`A${o.constructor.name}${o.byteLength}:`);
    h.update(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
    return;
  }
  if (o instanceof WeakMap || o instanceof WeakSet || o instanceof Promise) return;
  if (o instanceof Map) {
    h.update(`M${o.size}{`);
    for (const [k, x] of o) {
      feed(h, k, seen);
      feed(h, x, seen);
    }
    h.update('}');
    return;
  }
  if (o instanceof Set) {
    h.update(`S${o.size}{`);
    for (const x of o) feed(h, x, seen);
    h.update('}');
    return;
  }
  if (Array.isArray(o)) {
    h.update(`[${o.length}:`);
    for (const x of o) feed(h, x, seen);
    h.update(']');
    return;
  }
  h.update(`{${o.constructor?.name ?? ''}:`);
  for (const k of Object.keys(o)) {
    if (SKIP.has(k)) continue;
    h.update(`${k}=`);
    feed(h, (o as Record<string, unknown>)[k], seen);
  }
  h.update('}');
}

/** Digests of everything reachable from the system, per property path two levels down. */
export function stateDigest(sys: MmSystem): Record<string, string> {
  const seen = new Map<object, number>();
  const out: Record<string, string> = {};
  const root = sys as unknown as Record<string, unknown>;
  seen.set(root, 0);
  for (const k of Object.keys(root)) {
    if (SKIP.has(k)) continue;
    const v = root[k];
    if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v) && !(v instanceof Map) && !Array.isArray(v)) {
      if (seen.has(v)) continue;
      seen.set(v, seen.size);
      const o = v as Record<string, unknown>;
      for (const k2 of Object.keys(o)) {
        if (SKIP.has(k2)) continue;
        const h = createHash('sha256');
        feed(h, o[k2], seen);
        out[`${k}.${k2}`] = h.digest('hex').slice(0, 16);
      }
    } else {
      const h = createHash('sha256');
      feed(h, v, seen);
      out[k] = h.digest('hex').slice(0, 16);
    }
  }
  return out;
}

function pgfault(sys: MmSystem): number {
  return sys.stats.get('pgfault');
}

/** An example file with `--hardware hw`, the range path on or off. */
export async function runExample(
  file: string,
  hw: string,
  range: boolean,
  vars?: Record<string, string>,
): Promise<RunOutcome> {
  let sys: MmSystem | undefined;
  const pages0 = accessRangePages();
  const progress: number[] = [];
  let document: unknown = null;
  let error: string | null = null;
  try {
    const out = await runFile(file, {
      hardware: hw,
      vars,
      onProgress: (d, t) => progress.push(d, t),
      instrument: (s) => {
        sys = s;
        s.kernel.rangeFaults = range;
        return undefined;
      },
    });
    document = out.document;
  } catch (e) {
    error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  if (!sys) throw new Error(`${file}: no system composed (${error})`);
  const rangePages = accessRangePages() - pages0;
  return { document, error, progress, state: stateDigest(sys), faults: pgfault(sys), rangePages };
}

/**
 * The scenario's system without a kernel preset or policies (a bare createSystem: nothing taps
 * fault.anonOrders), its hardware, CPUs, LRU batch size, memory and swap as the scenario says.
 */
async function bareSystem(sc: Scenario): Promise<MmSystem> {
  const s = sc.system ?? {};
  const hardware = await createHardware({
    name: s.hardware ?? 'flat',
    options: { cpus: (s.hardwareOptions?.cpus as number | undefined) ?? 1 },
    baseDir: process.cwd(),
    file: sc.name,
  });
  const memory = typeof s.memory === 'string' ? Number.parseInt(s.memory, 10) / 4 : 0;
  return createSystem({
    hardware,
    config: {
      ...(s.lruBatchSize !== undefined ? { lruBatchSize: s.lruBatchSize } : {}),
      ...(memory > 0 ? { memoryPages: memory } : {}),
      ...(s.swap ? { swap: { slots: 2048, synchronousIo: s.swap.synchronousIo ?? false } } : {}),
    },
  });
}

/**
 * A scenario object on a freshly composed system (`bare`: bareSystem()), the range path on or
 * off; `stopAt`: the shouldStop poll that stops the run (an interruption inside a touch), none
 * when undefined.
 */
export async function runObject(
  sc: Scenario,
  range: boolean,
  stopAt?: number,
  explain = false,
  bare = false,
): Promise<RunOutcome> {
  const sys = bare ? await bareSystem(sc) : await resolveSystem(sc.system, { baseDir: process.cwd(), file: sc.name });
  sys.kernel.rangeFaults = range;
  const pages0 = accessRangePages();
  const progress: number[] = [];
  let polls = 0;
  const opts: RunOptions = {
    onProgress: (d, t) => progress.push(d, t),
    ...(stopAt !== undefined ? { shouldStop: () => ++polls >= stopAt } : {}),
    ...(explain ? { explain: true } : {}),
  };
  let document: unknown = null;
  let error: string | null = null;
  try {
    document = runScenario(sys, sc, opts);
  } catch (e) {
    error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  const rangePages = accessRangePages() - pages0;
  return { document, error, progress, state: stateDigest(sys), faults: pgfault(sys), rangePages };
}
