import { describe, expect, it } from 'vitest';
import {
  createSystem,
  FlatHardware,
  LRU_GEN_MASK,
  mmapAnon,
  PG,
  PTE,
  ScanControl,
  shrinkNode,
  SWAP_CLUSTER_MAX,
  userAccess,
  type KernelConfig,
} from '../src/index.js';
import { pteIndex } from '../src/units.js';
import { tryToIncMaxSeq } from '../src/kernel/lru-gen-aging.js';

type Config = Partial<Omit<KernelConfig, 'features' | 'swap' | 'vm'>> & {
  features?: Partial<KernelConfig['features']>;
  swap?: Partial<KernelConfig['swap']>;
  vm?: Partial<KernelConfig['vm']>;
};
const system = (config: Config) => createSystem({ hardware: new FlatHardware(1, {}), config });

/**
 * One 128-page mapping, PMD-aligned: A its first 64 pages, B the last 64, all written once
 * (the faults add them with PG_active: the second youngest generation).
 */
function setup() {
  const sys = system({ memoryPages: 16384, swap: { slots: 4096 }, vm: { lruGen: true } });
  const k = sys.kernel;
  const p = k.spawn('p', 0);
  const vma = mmapAnon(k, p.mm, 128, 'x', { alignPages: 512 });
  const A = vma.start;
  const B = vma.start + 64;
  const touch = (start: number, n: number, write = false) => {
    for (let i = 0; i < n; i++) userAccess(k, p.main, start + i, write, 1);
  };
  touch(A, 128, true);
  k.lruAddDrain(0);
  const g = k.lrugen!;
  const pfn = (vpn: number) => k.translate(p.mm, vpn, false);
  const gen = (vpn: number) => (k.f.lruGen[pfn(vpn)]! & LRU_GEN_MASK) - 1;
  const young = (vpn: number) => (k.pt.fl[k.pt.slot(k.pteTable(p.mm, vpn), pteIndex(vpn))]! & PTE.young) !== 0;
  const resident = (start: number) => {
    let n = 0;
    for (let i = 0; i < 64; i++) if (pfn(start + i) > 0) n++;
    return n;
  };
  /** one direct-reclaim shrink_node() at priority 1 */
  const pass = () => {
    const sc = new ScanControl(false);
    sc.priority = 1;
    sc.nrToReclaim = SWAP_CLUSTER_MAX;
    shrinkNode(k, sc);
    return sc.nrReclaimed;
  };
  const seqs = () => ({ max: g.maxSeq, min: [g.minSeq[0], g.minSeq[1]], walks: g.walks, lru: k.lruCount });
  const v = (n: string) => sys.stats.get(n);
  return { sys, k, g, p, A, B, touch, pfn, gen, young, resident, pass, seqs, v };
}
const cs = (v: (n: string) => number, ns: string[]) => Object.fromEntries(ns.map((n) => [n, v(n)]));

describe('multi-gen LRU: generations (system.vm.lruGen)', () => {
  it('lru_gen_init_lruvec(): max_seq 3, min_seq 0; a faulted folio joins max_seq - 1 (PG_active from folio_add_lru())', () => {
    const t = setup();
    expect(t.seqs()).toEqual({ max: 3, min: [0, 0], walks: 0, lru: { inactive: 0, active: 128 } });
    expect([t.gen(t.A), t.gen(t.B + 63)]).toEqual([2, 2]);
    expect(Array.from(t.g.nrPages)).toEqual([0, 0, 0, 0, 128, 0, 0, 0]);
    // PG_active only while in the batch: lru_gen_add_folio() cleared it
    expect(t.k.f.flags[t.pfn(t.A)]! & (PG.active | PG.lru)).toBe(PG.lru);
    // the classic lists stay empty
    expect(t.k.lruvec.list(0)).toEqual([]);
    expect(t.k.lruvec.list(1)).toEqual([]);
  });

  it('the generation counters advance: empty oldest generations dropped, then an aging per shortage', () => {
    const t = setup();
    // nothing in gens 0 and 1: try_to_inc_min_seq() drops them, and eviction is not possible yet
    expect(t.pass()).toBe(0);
    expect(t.seqs()).toEqual({ max: 3, min: [2, 2], walks: 0, lru: { inactive: 0, active: 128 } });
    // min_seq + MIN_NR_GENS > max_seq: get_nr_to_scan() ages (try_to_inc_max_seq()): the walk
    // clears the 128 accessed bits (first sighting: PG_referenced only) and gen 2 turns inactive
    expect(t.pass()).toBe(0);
    expect(t.seqs()).toEqual({ max: 4, min: [2, 2], walks: 1, lru: { inactive: 128, active: 0 } });
    expect([t.young(t.A), t.young(t.B + 63)]).toEqual([false, false]);
    expect(t.k.f.flags[t.pfn(t.A)]! & (PG.referenced | PG.workingset)).toBe(PG.referenced);
    expect(t.v('pswpout')).toBe(0);
  });

  it('a working set touched again is promoted by the walk and survives; the cold half is evicted', () => {
    const t = setup();
    t.pass();
    t.pass();
    t.touch(t.A, 64);
    // min_seq + MIN_NR_GENS == max_seq: ages again; A is young a second time: folio_update_gen()
    // moves it to the youngest generation (seq 4, gen 0) with PG_workingset
    expect(t.pass()).toBe(0);
    expect(t.seqs()).toEqual({ max: 5, min: [2, 2], walks: 2, lru: { inactive: 64, active: 64 } });
    expect([t.gen(t.A), t.gen(t.B)]).toEqual([0, 2]);
    expect(t.k.f.flags[t.pfn(t.A)]! & PG.workingset).toBe(PG.workingset);
    // evict_folios(): from the tail of gen 2, A is sorted (promoted, pgrefill) and B isolated,
    // MIN_LRU_BATCH (64) pages at once, and swapped out
    expect(t.pass()).toBe(64);
    expect(cs(t.v, ['pgscan_direct', 'pgsteal_direct', 'pgrefill', 'pswpout', 'pgactivate'])).toEqual({
      pgscan_direct: 64,
      pgsteal_direct: 64,
      pgrefill: 64,
      pswpout: 64,
      pgactivate: 0,
    });
    expect([t.resident(t.A), t.resident(t.B)]).toEqual([64, 0]);
    expect(t.seqs()).toEqual({ max: 5, min: [4, 4], walks: 2, lru: { inactive: 0, active: 64 } });
  });

  it('lru_gen_refault(): a recent refault (max_seq moved less than MAX_NR_GENS since) is activated', () => {
    const t = setup();
    for (let i = 0; i < 2; i++) t.pass();
    t.touch(t.A, 64);
    t.pass();
    // B evicted at min_seq 4: evict_folios() runs try_to_inc_min_seq() before shrink_folio_list()
    t.pass();
    const before = t.sys.stats.snapshot();
    t.touch(t.B, 64);
    t.k.lruAddDrain(0);
    const d = t.sys.stats.toRecord(before);
    const names = ['pswpin', 'workingset_refault_anon', 'workingset_activate_anon', 'workingset_restore_anon'];
    expect(Object.fromEntries(names.map((n) => [n, d[n] ?? 0]))).toEqual({
      pswpin: 64,
      workingset_refault_anon: 64,
      workingset_activate_anon: 64,
      workingset_restore_anon: 0,
    });
    // the PID controller's input: 64 evicted and 64 refaulted in tier 0 of anon
    expect([t.g.evicted[0], t.g.refaulted[0]]).toEqual([64, 64]);
    // PG_active from the fault: B enters max_seq - 1 (seq 4, gen 0) with A
    expect([t.gen(t.B), t.gen(t.A)]).toEqual([0, 0]);
    expect(t.k.lruCount).toEqual({ inactive: 0, active: 128 });
  });

  it('lru_gen_refault(): after MAX_NR_GENS more generations the refault is not recent', () => {
    const t = setup();
    for (let i = 0; i < 2; i++) t.pass();
    t.touch(t.A, 64);
    t.pass();
    t.pass(); // B evicted at min_seq 4, max_seq 5
    // three more agings (inc_min_seq() makes room for the fourth generation)
    for (let i = 0; i < 3; i++) expect(tryToIncMaxSeq(t.k, t.g.maxSeq, 60)).toBe(true);
    expect(t.seqs()).toMatchObject({ max: 8, min: [5, 5] });
    const before = t.sys.stats.snapshot();
    t.touch(t.B, 64);
    t.k.lruAddDrain(0);
    const d = t.sys.stats.toRecord(before);
    expect([d.workingset_refault_anon ?? 0, d.workingset_activate_anon ?? 0]).toEqual([64, 0]);
    expect(t.g.refaulted[0]).toBe(0);
  });

  it('lru_gen_look_around(): a young PTE found by reclaim clears and promotes the young PTEs next to it', () => {
    const t = setup();
    for (let i = 0; i < 2; i++) t.pass();
    t.touch(t.A, 64);
    t.pass(); // A in the youngest generation (seq 4), B in the oldest (seq 2)
    t.touch(t.A + 60, 4); // young again: A's last four pages ...
    t.touch(t.B + 10, 1); // ... and one page of B
    expect(t.pass()).toBe(63);
    // B+10 was referenced (from the first walk) and young: lru_gen_set_refs() → activated, kept
    expect(cs(t.v, ['pswpout', 'pgactivate'])).toEqual({ pswpout: 63, pgactivate: 1 });
    expect(t.resident(t.B)).toBe(1);
    expect(t.g.lookArounds).toBe(1);
    // its look-around cleared A+60..63's accessed bits; a direct reclaimer that did not age has
    // no mm_walk: lru_gen_set_refs() (PG_workingset) and folio_activate() through the LRU batch
    expect([t.young(t.A + 59), t.young(t.A + 60), t.young(t.A + 63)]).toEqual([false, false, false]);
    expect([t.gen(t.A + 59), t.gen(t.A + 60), t.gen(t.A + 63), t.gen(t.B + 10)]).toEqual([0, 0, 0, 1]);
    // lru_activate(): into max_seq (seq 5, gen 1), pgactivate
    t.k.lruAddDrain(0);
    expect([t.gen(t.A + 59), t.gen(t.A + 60), t.gen(t.A + 63)]).toEqual([0, 1, 1]);
    expect(t.v('pgactivate')).toBe(5);
  });

  it('the two-list LRU is untouched when lruGen is off', () => {
    const sys = system({ memoryPages: 16384, swap: { slots: 4096 } });
    expect(sys.kernel.lrugen).toBeNull();
  });
});
