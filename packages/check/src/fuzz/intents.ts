/**
 * Fuzzing input: a list of abstract "intents" (op kind + small indices), generated and shrunk
 * by fast-check. Indices name processes (p0..p3), regions (a..d), pins (pin0..pin2) and
 * page offsets; `concretize.ts` turns each intent into a valid scenario step for the current
 * state, or skips it. Removing an intent while shrinking never makes the rest invalid: later
 * intents that lose their target are skipped.
 */
import fc from 'fast-check';
import { ADVICES, type Advice } from '@mmsim/core';

export const PIDS = ['p0', 'p1', 'p2', 'p3'] as const;
export const REGIONS = ['a', 'b', 'c', 'd'] as const;
export const PIN_IDS = ['pin0', 'pin1', 'pin2'] as const;
/** region sizes in pages: small ones, large-folio-sized ones, and a whole PTE table (COW PTE tables share only fully covered tables) */
export const REGION_PAGES = [1, 2, 4, 16, 32] as const;
/**
 * every advice but collapse (its own intent kind: it does something only on whole PTE tables,
 * `tableRegions`), the MADV_POPULATE_* pair, MADV_DONTNEED_LOCKED and MADV_FREE (not fuzzed yet:
 * the reference model would need MADV_FREE's zero reads after reclaim; adding them would change
 * every seed's runs, and a populate of a userfaultfd range would have to block)
 */
const NOT_FUZZED: readonly string[] = [
  'collapse',
  'populate_read',
  'populate_write',
  'dontneed_locked',
  'free',
  // KSM's: `ksmMerge` intents, with `--ksm`
  'mergeable',
  'unmergeable',
];
export const FUZZ_ADVICES = ADVICES.filter((a) => !NOT_FUZZED.includes(a));

export type Intent =
  | { t: 'spawn'; p: number; cpu: number }
  | { t: 'thread'; p: number; cpu: number; spin: boolean }
  | { t: 'mmap'; p: number; r: number; pages: number; adv: 'none' | 'hugepage' | 'nohugepage' }
  | { t: 'munmap'; p: number; r: number; off: number; len: number }
  | { t: 'write'; p: number; r: number; off: number; cpu: number }
  | { t: 'read'; p: number; r: number; off: number; cpu: number }
  | { t: 'touch'; p: number; r: number; off: number; len: number }
  | { t: 'fork'; p: number; c: number; cpu: number }
  | { t: 'exit'; p: number }
  | { t: 'madvise'; p: number; r: number; off: number; len: number; advice: Advice }
  | { t: 'mprotect'; p: number; r: number; off: number; len: number; prot: 'r' | 'rw' | 'none' }
  | { t: 'mremap'; p: number; r: number; off: number; len: number; to: number }
  /** mremap with newSize: shrink (grow < 0), grow in place, or grow with MREMAP_MAYMOVE to `to` */
  | { t: 'mremapResize'; p: number; r: number; off: number; len: number; grow: number; to: number }
  /** /proc/PID/maps + smaps (reads only) */
  | { t: 'maps'; p: number; r: number; off: number; len: number }
  | { t: 'pin'; p: number; r: number; off: number; len: number; write: boolean; longterm: boolean; id: number }
  | { t: 'unpin'; id: number }
  | { t: 'readPin'; id: number }
  | { t: 'uffdRegister'; p: number; r: number; off: number; len: number; mode: 'wp' | 'missing' }
  | { t: 'uffdCopy'; p: number; r: number; off: number; len: number; wp: boolean }
  | { t: 'uffdWriteProtect'; p: number; r: number; off: number; len: number; enable: boolean }
  | { t: 'migrate'; p: number; r: number; off: number; len: number }
  | { t: 'drain'; cpu: number }
  | { t: 'khugepaged' }
  | { t: 'ksmMerge'; p: number; r: number; off: number; len: number; merge: boolean }
  | { t: 'ksmd'; pages: number; full: boolean };

const pid = fc.nat({ max: PIDS.length - 1 });
const reg = fc.nat({ max: REGIONS.length - 1 });
/** offsets: mostly the first pages, so ops often meet on the same page */
const off = fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 1 }) }, { weight: 1, arbitrary: fc.nat({ max: 31 }) });
const len = fc.integer({ min: 1, max: 32 });
const cpu = fc.integer({ min: -1, max: 3 });
/** smaller pids and regions are likelier: most runs act on p0/p1 and a/b */
const near = (n: fc.Arbitrary<number>) =>
  fc.oneof({ weight: 3, arbitrary: n.map((x) => x % 2) }, { weight: 1, arbitrary: n });

/** advice mix: page-outs, zaps and partial-fork advice matter most */
const ADVICE_WEIGHTS: Record<string, number> = { pageout: 3, dontneed: 2, dontfork: 2, wipeonfork: 2 };
const adviceArb = fc.oneof(...FUZZ_ADVICES.map((a) => ({ weight: ADVICE_WEIGHTS[a] ?? 1, arbitrary: fc.constant(a) })));

export interface IntentWeights {
  [t: string]: number;
}

/** Default mix: lots of writes, reads, forks, pins and page-outs; a little of everything. */
export const DEFAULT_WEIGHTS: IntentWeights = {
  spawn: 4,
  thread: 2,
  mmap: 6,
  munmap: 1,
  write: 14,
  read: 10,
  touch: 3,
  fork: 5,
  exit: 3,
  madvise: 5,
  pageout: 3,
  mprotect: 2,
  mremap: 1,
  pin: 3,
  pinWrite: 2,
  unpin: 1,
  readPin: 5,
  uffdRegister: 1,
  uffdCopy: 1,
  uffdWriteProtect: 1,
  drain: 1,
};

/**
 * Added to the mix when regions of a whole PTE table are drawn (THP, COW PTE tables, pressure):
 * MADV_COLLAPSE (v6.1+ presets) and one khugepaged pass.
 */
export const TABLE_WEIGHTS: IntentWeights = { collapse: 1, khugepaged: 1 };

/** With KSM (`mmsim check --ksm`): the default mix plus MADV_(UN)MERGEABLE and ksmd scans. */
export const KSM_WEIGHTS: IntentWeights = { ...DEFAULT_WEIGHTS, touch: 8, ksmMerge: 10, ksmd: 20 };

/** Under memory pressure a `touch` may write a whole table-sized region: RAM fills up. */
export const PRESSURE_TOUCH_PAGES = 512;

export function intentArbitrary(
  weights: IntentWeights = DEFAULT_WEIGHTS,
  regionPages: readonly number[] = REGION_PAGES,
  bigTouches = false,
): fc.Arbitrary<Intent> {
  const P = near(pid);
  const R = near(reg);
  const arbs: Record<Intent['t'] | 'pinWrite' | 'pageout' | 'collapse', fc.Arbitrary<Intent>> = {
    spawn: fc.record({ t: fc.constant('spawn' as const), p: P, cpu: fc.nat({ max: 3 }) }),
    thread: fc.record({ t: fc.constant('thread' as const), p: P, cpu: fc.nat({ max: 3 }), spin: fc.boolean() }),
    mmap: fc.record({
      t: fc.constant('mmap' as const),
      p: P,
      r: R,
      pages: fc.constantFrom(...regionPages),
      adv: fc.constantFrom('none' as const, 'none' as const, 'hugepage' as const, 'nohugepage' as const),
    }),
    munmap: fc.record({ t: fc.constant('munmap' as const), p: P, r: R, off, len }),
    write: fc.record({ t: fc.constant('write' as const), p: P, r: R, off, cpu }),
    read: fc.record({ t: fc.constant('read' as const), p: P, r: R, off, cpu }),
    touch: fc.record({
      t: fc.constant('touch' as const),
      p: P,
      r: R,
      off,
      len: bigTouches ? fc.oneof(len, fc.constant(PRESSURE_TOUCH_PAGES)) : len,
    }),
    fork: fc.record({ t: fc.constant('fork' as const), p: P, c: pid, cpu }),
    exit: fc.record({ t: fc.constant('exit' as const), p: pid }),
    madvise: fc.record({ t: fc.constant('madvise' as const), p: P, r: R, off, len, advice: adviceArb }),
    pageout: fc.record({
      t: fc.constant('madvise' as const),
      p: P,
      r: R,
      off,
      len,
      advice: fc.constant('pageout' as const),
    }),
    mprotect: fc.record({
      t: fc.constant('mprotect' as const),
      p: P,
      r: R,
      off,
      len,
      prot: fc.constantFrom('r' as const, 'rw' as const, 'none' as const),
    }),
    mremap: fc.record({ t: fc.constant('mremap' as const), p: P, r: R, off, len, to: reg }),
    pin: fc.record({
      t: fc.constant('pin' as const),
      p: P,
      r: R,
      off,
      len: fc.integer({ min: 1, max: 4 }),
      write: fc.constant(false),
      longterm: fc.boolean(),
      id: fc.nat({ max: PIN_IDS.length - 1 }),
    }),
    pinWrite: fc.record({
      t: fc.constant('pin' as const),
      p: P,
      r: R,
      off,
      len: fc.integer({ min: 1, max: 4 }),
      write: fc.constant(true),
      longterm: fc.boolean(),
      id: fc.nat({ max: PIN_IDS.length - 1 }),
    }),
    unpin: fc.record({ t: fc.constant('unpin' as const), id: fc.nat({ max: PIN_IDS.length - 1 }) }),
    readPin: fc.record({ t: fc.constant('readPin' as const), id: fc.nat({ max: PIN_IDS.length - 1 }) }),
    uffdRegister: fc.record({
      t: fc.constant('uffdRegister' as const),
      p: P,
      r: R,
      off,
      len,
      mode: fc.constantFrom('wp' as const, 'missing' as const),
    }),
    uffdCopy: fc.record({ t: fc.constant('uffdCopy' as const), p: P, r: R, off, len, wp: fc.boolean() }),
    uffdWriteProtect: fc.record({
      t: fc.constant('uffdWriteProtect' as const),
      p: P,
      r: R,
      off,
      len,
      enable: fc.boolean(),
    }),
    drain: fc.record({ t: fc.constant('drain' as const), cpu }),
    collapse: fc.record({
      t: fc.constant('madvise' as const),
      p: P,
      r: R,
      off: fc.constant(0),
      len: fc.constant(512),
      advice: fc.constant('collapse' as const),
    }),
    khugepaged: fc.record({ t: fc.constant('khugepaged' as const) }),
    // not in DEFAULT_WEIGHTS (weight 0): a default run's intents are those of earlier versions
    mremapResize: fc.record({
      t: fc.constant('mremapResize' as const),
      p: P,
      r: R,
      off,
      len,
      grow: fc.integer({ min: -8, max: 8 }).filter((g) => g !== 0),
      to: reg,
    }),
    maps: fc.record({ t: fc.constant('maps' as const), p: P, r: R, off, len }),
    // not in DEFAULT_WEIGHTS (the default mix, and so every seed's sequence, stays as it was):
    // generated when the weights give it one, e.g. check({ weights: { ...DEFAULT_WEIGHTS, migrate: 2 } })
    migrate: fc.record({ t: fc.constant('migrate' as const), p: P, r: R, off, len }),
    // KSM (`ksm: true`, KSM_WEIGHTS): MADV_MERGEABLE / MADV_UNMERGEABLE and ksmd scanning a few pages
    ksmMerge: fc.record({
      t: fc.constant('ksmMerge' as const),
      p: P,
      r: R,
      off,
      len,
      merge: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    }),
    ksmd: fc.record({ t: fc.constant('ksmd' as const), pages: fc.integer({ min: 1, max: 40 }), full: fc.boolean() }),
  };
  const entries = Object.entries(arbs)
    .map(([t, arbitrary]) => ({ weight: weights[t] ?? 0, arbitrary }))
    .filter((e) => e.weight > 0);
  return fc.oneof(...entries);
}

/** System variations drawn per run. */
export interface RunVariant {
  largeFolios: boolean;
  swapSync: boolean;
  /** small LRU batches (drained often) instead of the preset's size */
  smallBatches: boolean;
  /** memory pressure (system.ts PRESSURE_MEMORY); absent when the check does not ask for it */
  pressure?: boolean;
  /**
   * swarm testing: the intent kinds this run uses (others are skipped), or null for all.
   * Runs that use a few kinds go deeper into their interactions.
   */
  swarm: string[] | null;
}

/** The weight key of an intent (write pins are weighted apart from read-only pins). */
export function intentKind(i: Intent): string {
  if (i.t === 'pin' && i.write) return 'pinWrite';
  if (i.t === 'madvise' && i.advice === 'pageout') return 'pageout';
  if (i.t === 'madvise' && i.advice === 'collapse') return 'collapse';
  return i.t;
}

/** Kinds every swarm keeps: without them nothing happens. */
const ALWAYS = ['spawn', 'mmap', 'write'];

export function variantArbitrary(
  opts: { largeFolios?: boolean | 'random'; weights?: IntentWeights; pressure?: boolean | 'random' } = {},
): fc.Arbitrary<RunVariant> {
  const lf = opts.largeFolios ?? 'random';
  const kinds = Object.entries(opts.weights ?? DEFAULT_WEIGHTS)
    .filter(([k, w]) => w > 0 && !ALWAYS.includes(k))
    .map(([k]) => k);
  const base = fc.record({
    largeFolios: lf === 'random' ? fc.boolean() : fc.constant(lf),
    swapSync: fc.boolean(),
    smallBatches: fc.boolean(),
    swarm: fc.option(
      fc.subarray(kinds, { minLength: 2 }).map((ks) => [...ALWAYS, ...ks]),
      { nil: null, freq: 3 },
    ),
  });
  // without a pressure option the variants (and so a seed's runs) are those of earlier versions
  const pr = opts.pressure;
  if (pr === undefined || pr === false) return base;
  return fc
    .tuple(base, pr === 'random' ? fc.boolean() : fc.constant(true))
    .map(([v, pressure]) => ({ ...v, pressure }));
}

export interface FuzzInput {
  variant: RunVariant;
  intents: Intent[];
}

/** Region sizes when whole PTE tables matter (COW PTE tables share only fully covered tables). */
export const TABLE_REGION_PAGES = [...REGION_PAGES, 512] as const;

export function fuzzInputArbitrary(
  maxSteps: number,
  opts: {
    largeFolios?: boolean | 'random';
    weights?: IntentWeights;
    tableRegions?: boolean;
    pressure?: boolean | 'random';
    /** the preset has MADV_COLLAPSE (v6.1+): with table regions, collapse intents join the mix */
    collapse?: boolean;
  } = {},
): fc.Arbitrary<FuzzInput> {
  const scenes: Intent[][] = [
    [],
    [
      { t: 'spawn', p: 0, cpu: 0 },
      { t: 'mmap', p: 0, r: 0, pages: 16, adv: 'none' },
    ],
    [
      { t: 'spawn', p: 0, cpu: 0 },
      { t: 'thread', p: 0, cpu: 1, spin: false },
      { t: 'mmap', p: 0, r: 0, pages: 32, adv: 'none' },
    ],
    [
      { t: 'spawn', p: 0, cpu: 0 },
      { t: 'mmap', p: 0, r: 0, pages: 4, adv: 'none' },
    ],
  ];
  // under pressure, regions of a whole table too, and a scene that starts with one: 512 pages
  // written reach kswapd's low mark of the 4 MiB machine
  const underPressure = opts.pressure !== undefined && opts.pressure !== false;
  const tableRegions = opts.tableRegions || underPressure;
  // whole PTE tables: MADV_COLLAPSE and khugepaged passes too (unless the caller chose weights)
  if (tableRegions && !opts.weights)
    opts = { ...opts, weights: { ...DEFAULT_WEIGHTS, ...TABLE_WEIGHTS, collapse: opts.collapse ? 1 : 0 } };
  if (tableRegions)
    scenes.push([
      { t: 'spawn', p: 0, cpu: 0 },
      { t: 'mmap', p: 0, r: 0, pages: 512, adv: 'none' },
    ]);
  const weights = opts.weights;
  return fc.record({
    variant: variantArbitrary(opts),
    // the first intents set the scene: start with a process and a mapping most of the time
    intents: fc
      .tuple(
        fc.constantFrom<Intent[]>(...scenes),
        fc.array(intentArbitrary(weights, tableRegions ? TABLE_REGION_PAGES : REGION_PAGES, underPressure), {
          minLength: 1,
          maxLength: maxSteps,
          size: 'max',
        }),
      )
      .map(([pre, rest]) => [...pre, ...rest]),
  });
}
