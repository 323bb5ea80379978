import { describe, expect, it } from 'vitest';
import {
  createSystem,
  FlatHardware,
  DEF_PRIORITY,
  LRU,
  mmapAnon,
  PG,
  runScenario,
  ScanControl,
  shrinkNode,
  SWAP_CLUSTER_MAX,
  userAccess,
  ScenarioError,
  ScenarioSchema,
  zoneWatermarks,
  type CostProfile,
  type KernelConfig,
  type RunResult,
} from '../src/index.js';
import { getScanCount } from '../src/kernel/vmscan.js';

type Config = Partial<Omit<KernelConfig, 'features' | 'swap' | 'vm'>> & {
  features?: Partial<KernelConfig['features']>;
  swap?: Partial<KernelConfig['swap']>;
  vm?: Partial<KernelConfig['vm']>;
};

function system(config: Config, costs: Partial<CostProfile> = {}, cpus = 1) {
  return createSystem({ hardware: new FlatHardware(cpus, costs), config });
}
function run(config: Config, steps: unknown[], costs: Partial<CostProfile> = {}): RunResult {
  return runScenario(system(config, costs), ScenarioSchema.parse({ name: 't', steps }));
}
const c = (r: RunResult, n: string, ph = 'x'): number => r.phases[ph]!.counters[n] ?? 0;
const cs = (r: RunResult, ns: string[], ph = 'x') => Object.fromEntries(ns.map((n) => [n, c(r, n, ph)]));
const V = { swappiness: 60, watermarkScaleFactor: 10, minFreeKbytes: 0 };

describe('watermarks: calculate_min_free_kbytes() and __setup_per_zone_wmarks()', () => {
  // min_free_kbytes = clamp(int_sqrt(kB * 16), 128, 262144); min = that / 4 pages;
  // low = min + max(min / 4, pages * 10 / 10000), high = low + the same
  it.each([
    ['256 KiB (the 128 kB floor)', 64, { minFreeKbytes: 128, min: 32, low: 40, high: 48 }],
    ['4 MiB', 1024, { minFreeKbytes: 256, min: 64, low: 80, high: 96 }],
    ['64 MiB', 16384, { minFreeKbytes: 1024, min: 256, low: 320, high: 384 }],
    ['1 GiB (the scale factor wins)', 262144, { minFreeKbytes: 4096, min: 1024, low: 1286, high: 1548 }],
    ['16 GiB', 4194304, { minFreeKbytes: 16384, min: 4096, low: 8290, high: 12484 }],
    ['16 TiB (the 262144 kB ceiling)', 2 ** 32, { minFreeKbytes: 262144, min: 65536, low: 4360503, high: 8655470 }],
  ])('%s', (_name, pages, want) => {
    expect(zoneWatermarks(pages, V)).toEqual(want);
  });
  it('vm.watermark_scale_factor and vm.min_free_kbytes', () => {
    expect(zoneWatermarks(16384, { ...V, watermarkScaleFactor: 1000 })).toEqual({
      minFreeKbytes: 1024,
      min: 256,
      low: 256 + 1638,
      high: 256 + 2 * 1638,
    });
    expect(zoneWatermarks(16384, { ...V, minFreeKbytes: 4096 })).toMatchObject({ min: 1024, low: 1280, high: 1536 });
  });
});

// 4 MiB: min 64 pages; a 2 MiB-aligned mapping of 513..1024 pages needs a PUD, a PMD and two
// PTE tables (4 pages of PageTables)
const MEM4 = { memoryPages: 1024 };
const touch = (pages: number, extra: unknown[] = []) => [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'a', size: `${pages * 4}KiB`, align: '2MiB' },
  { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 'x' },
  ...extra,
];

describe('system.memory is exact, page by page', () => {
  it('no swap: the pages above the min watermark can all be touched, without reclaim', () => {
    // 1024 - 4 page-table pages - 64 (min) = 956
    const r = run({ ...MEM4, swap: { slots: 0 } }, touch(956));
    expect(cs(r, ['pgalloc', 'allocstall_normal', 'pgscan_kswapd', 'pgscan_direct', 'oom_kill'])).toEqual({
      pgalloc: 956,
      allocstall_normal: 0,
      pgscan_kswapd: 0,
      pgscan_direct: 0,
      oom_kill: 0,
    });
    expect(r.phases.x!.meminfo).toMatchObject({ MemTotal: 4096, MemFree: 64 * 4, PageTables: 16 });
  });
  it('no swap: one page more is out of memory, naming the step and the op', () => {
    let err: unknown;
    try {
      run({ ...MEM4, swap: { slots: 0 } }, touch(957));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as ScenarioError).outOfMemory).toBe(true);
    expect((err as Error).message).toMatch(/^<scenario>: steps\[2\]: op touch: out of memory: /);
    expect((err as Error).message).toContain('(64 pages free, min watermark 64, swap 0 of 0 pages free)');
    expect((err as Error).message).toContain('the OOM killer picked "p" (960 pages)');
  });
  it('with swap: one page more is served by reclaim (swap-out) instead', () => {
    const r = run({ ...MEM4, swap: { slots: 4096 } }, touch(957));
    expect(c(r, 'pgalloc')).toBe(957);
    expect(c(r, 'pswpout')).toBeGreaterThan(0);
    expect(c(r, 'pswpout')).toBe(c(r, 'pgsteal_kswapd') + c(r, 'pgsteal_direct'));
    expect(c(r, 'oom_kill')).toBe(0);
  });
  it('unlimited memory (memoryPages 0) has no watermarks and no MemFree', () => {
    const r = run({}, touch(2000));
    expect(c(r, 'pgalloc')).toBe(2000);
    expect(r.phases.x!.meminfo.MemFree).toBeUndefined();
  });
});

describe('get_scan_count(): vm.swappiness', () => {
  const scan = (swappiness: number, fileIsTiny: boolean, priority = 0) => {
    const sys = system({ memoryPages: 4096, vm: { swappiness } });
    const k = sys.kernel;
    k.lruvec.pages[LRU.inactiveAnon] = 2048;
    k.lruvec.pages[LRU.activeAnon] = 1024;
    const sc = new ScanControl(false);
    sc.priority = priority;
    sc.fileIsTiny = fileIsTiny;
    getScanCount(k, sc);
    return Array.from(sc.nr.subarray(0, 4));
  };
  it('swappiness 0 and a normal file cache: no anon scan (SCAN_FRACT with ap = 0)', () => {
    expect(scan(0, false, 2)).toEqual([0, 0, 0, 0]);
  });
  it('swappiness 60 at priority 2, no costs yet: anon gets 60 / (60 + 140) of size >> 2', () => {
    expect(scan(60, false, 2)).toEqual([Math.floor((512 * 60) / 200), Math.floor((256 * 60) / 200), 0, 0]);
  });
  it('no file pages (file_is_tiny): anon only, whatever the swappiness', () => {
    expect(scan(0, true, 2)).toEqual([512, 256, 0, 0]);
  });
  it('a pressure run swaps with swappiness 0 when there is no file cache', () => {
    const steps = touch(1500);
    const r0 = run({ ...MEM4, vm: { swappiness: 0 } }, steps);
    const r60 = run({ ...MEM4, vm: { swappiness: 60 } }, steps);
    expect(c(r0, 'pswpout')).toBeGreaterThan(500);
    expect(cs(r0, ['pswpout', 'pgscan_kswapd', 'pgscan_direct'])).toEqual(
      cs(r60, ['pswpout', 'pgscan_kswapd', 'pgscan_direct']),
    );
  });
  it('no swap space: anon is not scanned at all (and the run runs out of memory)', () => {
    expect(() => run({ ...MEM4, swap: { slots: 0 } }, touch(1500))).toThrow(/out of memory/);
  });
});

// Aging on the two lists, driven by hand: two 64-page regions A (older) and B on the inactive
// list, one shrink_node() pass at priority 0 (every page looked at once), A touched again, a
// second pass. Flat hardware has no TLB: every access walks and sets the accessed bit.
describe('the two-list LRU: which pages go first', () => {
  const setup = (features: Partial<KernelConfig['features']> = {}) => {
    const sys = system({ memoryPages: 16384, swap: { slots: 4096 }, features });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const a = mmapAnon(k, p.mm, 64, 'a');
    const b = mmapAnon(k, p.mm, 64, 'b');
    const touchAll = (start: number, write: boolean) => {
      for (let i = 0; i < 64; i++) userAccess(k, p.main, start + i, write, 1);
    };
    touchAll(a.start, true);
    touchAll(b.start, true);
    k.lruAddDrain(0);
    const pass = () => {
      const sc = new ScanControl(false);
      sc.priority = 0;
      sc.nrToReclaim = SWAP_CLUSTER_MAX;
      shrinkNode(k, sc);
      return sc.nrReclaimed;
    };
    const resident = (start: number) => {
      let n = 0;
      for (let i = 0; i < 64; i++) if (k.translate(p.mm, start + i, false) > 0) n++;
      return n;
    };
    return { sys, k, a, b, touchAll, pass, resident, v: (n: string) => sys.stats.get(n) };
  };

  it('the list is FIFO: folio_batch_move_lru() adds at the head, isolation takes from the tail', () => {
    const { k, a, b } = setup();
    const list = k.lruvec.list(LRU.inactiveAnon);
    const first = k.translate(k.proc('p').mm, a.start, false);
    const last = k.translate(k.proc('p').mm, b.start + 63, false);
    expect(list.length).toBe(128);
    expect(list[0]).toBe(last); // newest at the head
    expect(list[127]).toBe(first); // oldest at the tail
  });

  it('linux-5.9+: a fresh page is kept once (PG_referenced), then a page touched again is activated and an untouched one reclaimed', () => {
    const t = setup();
    // first look: every PTE young from its fault: FOLIOREF_KEEP, young cleared, nothing reclaimed
    expect(t.pass()).toBe(0);
    expect(cs2(t.v, ['pgscan_direct', 'pgactivate', 'pswpout'])).toEqual({
      pgscan_direct: 128,
      pgactivate: 0,
      pswpout: 0,
    });
    t.touchAll(t.a.start, false);
    // second look: A (the tail, older) is young again and PG_referenced: activated; B goes
    expect(t.pass()).toBe(32);
    expect(cs2(t.v, ['pgscan_direct', 'pgactivate', 'pswpout'])).toEqual({
      pgscan_direct: 128 + 96,
      pgactivate: 64,
      pswpout: 32,
    });
    expect([t.resident(t.a.start), t.resident(t.b.start)]).toEqual([64, 32]);
    // then inactive_is_low() (32 * 1 < 64): shrink_active_list() moves 32 back from the active tail
    expect(cs2(t.v, ['pgrefill', 'pgdeactivate'])).toEqual({ pgrefill: 32, pgdeactivate: 32 });
    expect(t.k.lruCount).toEqual({ active: 32, inactive: 64 });
  });

  it('before v5.9: one referenced PTE activates a swap-backed page at the first look', () => {
    const t = setup({ anonTwoReferences: false });
    expect(t.pass()).toBe(0);
    expect(cs2(t.v, ['pgscan_direct', 'pgactivate', 'pswpout'])).toEqual({
      pgscan_direct: 128,
      pgactivate: 128,
      pswpout: 0,
    });
    // and inactive_is_low() (0 < 128) deactivates SWAP_CLUSTER_MAX of them again
    expect(t.k.lruCount).toEqual({ active: 96, inactive: 32 });
  });

  it('shrink_active_list(): referenced or not, anon folios are deactivated from the active tail (pgrefill, pgdeactivate, PG_workingset)', () => {
    const t = setup({ anonTwoReferences: false });
    t.pass(); // all 128 activated (A first: the active tail), 32 of A deactivated again
    t.touchAll(t.a.start, false); // A young again
    // at DEF_PRIORITY the lists are too short to scan (128 >> 12 = 0); inactive_is_low()
    // (32 < 96) ages the next SWAP_CLUSTER_MAX from the active tail: the rest of A, young or not
    const sc = new ScanControl(false);
    sc.priority = DEF_PRIORITY;
    sc.nrToReclaim = SWAP_CLUSTER_MAX;
    shrinkNode(t.k, sc);
    expect(cs2(t.v, ['pgrefill', 'pgdeactivate', 'pswpout'])).toEqual({ pgrefill: 64, pgdeactivate: 64, pswpout: 0 });
    const mm = t.k.proc('p').mm;
    const flags = (vpn: number) => t.k.f.flags[t.k.translate(mm, vpn, false)]! & (PG.active | PG.workingset);
    expect([flags(t.a.start), flags(t.a.start + 63), flags(t.b.start)]).toEqual([
      PG.workingset,
      PG.workingset,
      PG.active,
    ]);
    expect(t.k.lruCount).toEqual({ active: 64, inactive: 64 });
  });
});

describe('workingset refaults of anon folios (mm/workingset.c, anon since v5.9)', () => {
  // A activated by a second reference, 32 pages of B evicted; then B read back. Each of B's
  // refault distances (evictions and activations since its eviction) is 32: within the
  // workingset (active anon: 32 pages after the pass's own deactivation), so v5.9+ activates.
  const refault = (workingsetAnon: boolean) => {
    const sys = system({ memoryPages: 16384, swap: { slots: 4096 }, features: { workingsetAnon } });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const a = mmapAnon(k, p.mm, 64, 'a');
    const b = mmapAnon(k, p.mm, 64, 'b');
    const touchAll = (start: number, write: boolean) => {
      for (let i = 0; i < 64; i++) userAccess(k, p.main, start + i, write, 1);
    };
    const pass = () => {
      const sc = new ScanControl(false);
      sc.priority = 0;
      sc.nrToReclaim = SWAP_CLUSTER_MAX;
      shrinkNode(k, sc);
    };
    touchAll(a.start, true);
    touchAll(b.start, true);
    k.lruAddDrain(0);
    pass();
    touchAll(a.start, false);
    pass();
    const before = sys.stats.snapshot();
    touchAll(b.start, false);
    k.lruAddDrain(0);
    const names = ['pswpin', 'workingset_refault_anon', 'workingset_activate_anon', 'workingset_restore_anon'];
    const d = sys.stats.toRecord(before);
    return { counters: Object.fromEntries(names.map((n) => [n, d[n] ?? 0])), lru: k.lruCount };
  };
  it('linux-5.9+: the refaulting folios are activated (workingset_activate_anon), not restored (never active)', () => {
    expect(refault(true)).toEqual({
      counters: { pswpin: 32, workingset_refault_anon: 32, workingset_activate_anon: 32, workingset_restore_anon: 0 },
      lru: { active: 64, inactive: 64 },
    });
  });
  it('before v5.9: no shadow entries, no refault detection; the swapped-in folios start inactive', () => {
    expect(refault(false)).toEqual({
      counters: { pswpin: 32, workingset_refault_anon: 0, workingset_activate_anon: 0, workingset_restore_anon: 0 },
      lru: { active: 32, inactive: 96 },
    });
  });
});

const cs2 = (v: (n: string) => number, ns: string[]) => Object.fromEntries(ns.map((n) => [n, v(n)]));

describe('kswapd and direct reclaim', () => {
  const steps = touch(3000);
  it('a slow allocator is served by kswapd alone: no allocstall', () => {
    // each fault costs 2000 cycles, each page written to swap 1: kswapd keeps ahead
    const r = run(MEM4, steps, { faultEntry: 2000, swapIoPage: 1 });
    expect(cs(r, ['allocstall_normal', 'pgscan_direct', 'pgsteal_direct'])).toEqual({
      allocstall_normal: 0,
      pgscan_direct: 0,
      pgsteal_direct: 0,
    });
    expect(c(r, 'pgsteal_kswapd')).toBe(c(r, 'pswpout'));
    expect(c(r, 'pswpout')).toBeGreaterThan(2000);
  });
  it('a fast allocator outruns kswapd and stalls in direct reclaim', () => {
    const r = run(MEM4, steps, { faultEntry: 1, swapIoPage: 200 });
    expect(c(r, 'allocstall_normal')).toBeGreaterThan(10);
    expect(c(r, 'pgsteal_direct')).toBeGreaterThan(c(r, 'pgsteal_kswapd'));
    expect(c(r, 'pgsteal_kswapd') + c(r, 'pgsteal_direct')).toBe(c(r, 'pswpout'));
  });
});
