/**
 * Memory cgroups, cgroup v2 (mm/memcontrol.c): a page_counter per memcg (memory.current,
 * memory.swap.current), mem_cgroup_charge() / try_charge_memcg() at folio allocation, the
 * uncharge at free (__mem_cgroup_uncharge()), the swap charge at folio_alloc_swap()
 * (__mem_cgroup_try_charge_swap(), swap_cgroup records per slot, uncharged when the slot is freed:
 * mem_cgroup_uncharge_swap()), memory.high (mem_cgroup_handle_over_high()) and memory.max
 * (try_to_free_mem_cgroup_pages(), MAX_RECLAIM_RETRIES, then mem_cgroup_oom()).
 *
 * Every declared cgroup is a child of the root (id 0), which has no limits and is not charged
 * (mem_cgroup_is_root()). No per-CPU charge stock (MEMCG_CHARGE_BATCH): memory.current is exact.
 */
import { Lruvec } from '../mem/lru.js';
import type { Kernel } from './kernel.js';
import { SimError } from './kernel.js';
import { C } from '../stats/counters.js';
import { MAX_RECLAIM_RETRIES } from './vmscan.js';
import { tryToFreeMemCgroupPages } from './memcg-reclaim.js';

/** A cgroup as the scenario declares it (pages; Infinity = "max"). */
export interface MemcgConfig {
  name: string;
  max: number;
  high: number;
  swapMax: number;
}

/** memory.stat event counters (the kernel's v2 names); the sizes are derived (memcgFiles()). */
export const MEMCG_EVENTS = [
  'pgfault',
  'pgmajfault',
  'pgscan_kswapd',
  'pgscan_direct',
  'pgsteal_kswapd',
  'pgsteal_direct',
  'pgrefill',
  'pgactivate',
  'pgdeactivate',
  'workingset_refault_anon',
  'workingset_activate_anon',
  'workingset_restore_anon',
] as const;
export type MemcgEvent = (typeof MEMCG_EVENTS)[number];
/** Indexes into MemCgroup.ev. */
export const ME = Object.freeze(Object.fromEntries(MEMCG_EVENTS.map((n, i) => [n, i])) as Record<MemcgEvent, number>);

/** memory.events (MEMCG_LOW ... MEMCG_OOM_KILL). */
export const MEMCG_FILE_EVENTS = ['low', 'high', 'max', 'oom', 'oom_kill'] as const;

/** MEMCG_CHARGE_BATCH: over memory.high by more than this, try_charge_memcg() reclaims at once. */
export const MEMCG_CHARGE_BATCH = 64;

/** struct mem_cgroup */
export class MemCgroup {
  /** memory.current (pages): folios and page-table pages charged */
  memory = 0;
  /** memory.swap.current (pages): swap slots charged (swap_cgroup records) */
  swap = 0;
  /** NR_ANON_MAPPED of this memcg (memory.stat `anon`) */
  anon = 0;
  /** NR_PAGETABLE (memory.stat `pagetables`) */
  pagetables = 0;
  /** current->memcg_nr_pages_over_high */
  nrPagesOverHigh = 0;
  /** memory.stat events, by ME */
  readonly ev = new Float64Array(MEMCG_EVENTS.length);
  /** memory.events low, high, max, oom, oom_kill */
  readonly events = new Float64Array(MEMCG_FILE_EVENTS.length);
  constructor(
    readonly id: number,
    readonly name: string,
    readonly max: number,
    readonly high: number,
    readonly swapMax: number,
    readonly lruvec: Lruvec,
  ) {}
}

export const EV_LOW = 0;
export const EV_HIGH = 1;
export const EV_MAX = 2;
export const EV_OOM = 3;
export const EV_OOM_KILL = 4;

/** The memcgs of the kernel: index 0 is the root (its lruvec is k.lruvec), then the scenario's. */
export function createMemcgs(k: Kernel, cgroups: readonly MemcgConfig[]): MemCgroup[] {
  const out = [
    new MemCgroup(0, '', Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, k.lruvec),
  ];
  for (const c of cgroups) {
    const id = out.length;
    out.push(new MemCgroup(id, c.name, c.max, c.high, c.swapMax, new Lruvec(k.f, id)));
  }
  return out;
}

/** The memcg id of a cgroup name ('' or '/' = the root), -1 when unknown. */
export function memcgByName(k: Kernel, name: string): number {
  if (name === '' || name === '/') return 0;
  for (const m of k.memcgs) if (m.id !== 0 && m.name === name) return m.id;
  return -1;
}

/** count_memcg_events(): a memory.stat event of a non-root memcg. */
export function memcgEvent(k: Kernel, id: number, ev: number, n: number): void {
  if (id !== 0) k.memcgs[id]!.ev[ev]! += n;
}

/** lruvec_stat_mod_folio(NR_ANON_MAPPED) for the folio's memcg. */
export function memcgModAnon(k: Kernel, pfn: number, n: number): void {
  const id = k.f.memcg[pfn]!;
  if (id !== 0) k.memcgs[id]!.anon += n;
}

/**
 * try_charge_memcg(): charge `nr` pages to memcg `id` (memory.max). Over the limit, an
 * allocation that may block reclaims within the memcg (try_to_free_mem_cgroup_pages()) and
 * retries, MAX_RECLAIM_RETRIES times without progress, then the memcg OOM killer ends the run.
 * `mayReclaim` false (a THP / mTHP allocation: GFP_TRANSHUGE_LIGHT has no __GFP_DIRECT_RECLAIM):
 * fails at once (the caller falls back). PF_MEMALLOC (inside reclaim) force-charges.
 */
export function tryChargeMemcg(k: Kernel, id: number, nr: number, mayReclaim: boolean): boolean {
  const m = k.memcgs[id]!;
  if (m.memory + nr > m.max) {
    if (k.vmscan.inReclaim) {
      m.memory += nr; // force: PF_MEMALLOC
      return true;
    }
    if (!mayReclaim) return false;
    memcgReclaimToFit(k, m, nr);
  }
  m.memory += nr;
  // done_restock: over memory.high, reclaim on the way back to user (set_notify_resume())
  if (m.memory > m.high) {
    m.nrPagesOverHigh += nr;
    if (m.nrPagesOverHigh > MEMCG_CHARGE_BATCH && !k.vmscan.inReclaim) memcgHandleOverHigh(k);
  }
  return true;
}

/** The retry loop of try_charge_memcg() over memory.max; returns once `nr` pages fit. */
function memcgReclaimToFit(k: Kernel, m: MemCgroup, nr: number): void {
  let retries = MAX_RECLAIM_RETRIES;
  // 6.x raises MEMCG_MAX once per charge (raised_max_event)
  m.events[EV_MAX]!++;
  for (;;) {
    const reclaimed = tryToFreeMemCgroupPages(k, m, nr);
    if (m.memory + nr <= m.max) return;
    // nr_reclaimed && nr_pages <= (1 << PAGE_ALLOC_COSTLY_ORDER): retry
    if (reclaimed > 0 && nr <= 8) continue;
    if (retries-- > 0) continue;
    memcgOutOfMemory(k, m, nr);
  }
}

/** mem_cgroup_handle_over_high() → reclaim_high(): every memcg over memory.high reclaims its excess. */
export function memcgHandleOverHigh(k: Kernel): void {
  for (let i = 1; i < k.memcgs.length; i++) {
    const m = k.memcgs[i]!;
    const nr = m.nrPagesOverHigh;
    if (nr === 0) continue;
    m.nrPagesOverHigh = 0;
    if (m.memory <= m.high) continue;
    m.events[EV_HIGH]!++;
    tryToFreeMemCgroupPages(k, m, nr);
  }
}

/** mem_cgroup_uncharge(): `nr` pages of memcg `id` go. */
export function memcgUncharge(k: Kernel, id: number, nr: number): void {
  if (id !== 0) k.memcgs[id]!.memory -= nr;
}

/**
 * __mem_cgroup_try_charge_swap(): slots [slot, slot + nr) allocated for a folio of memcg `id`:
 * charge memory.swap (memory.swap.max: fails, counting memory.swap.events max) and record the
 * memcg per slot (swap_cgroup_record()). Cgroup v2 keeps the folio's memory charge until it is
 * freed (mem_cgroup_swapout() does nothing on the default hierarchy).
 */
export function memcgTryChargeSwap(k: Kernel, id: number, slot: number, nr: number): boolean {
  if (id === 0) {
    for (let i = 0; i < nr; i++) k.swap.memcg[slot + i] = 0;
    return true;
  }
  const m = k.memcgs[id]!;
  if (m.swap + nr > m.swapMax) return false;
  m.swap += nr;
  for (let i = 0; i < nr; i++) k.swap.memcg[slot + i] = id;
  return true;
}

/** mem_cgroup_get_nr_swap_pages(): swap pages memcg `id` may still use. */
export function memcgNrSwapPages(k: Kernel, id: number): number {
  const free = k.swap.opts.slots - k.swap.used;
  if (id === 0) return free;
  const m = k.memcgs[id]!;
  return Math.min(free, m.swapMax - m.swap);
}

/**
 * mem_cgroup_out_of_memory(): memory.events oom, then out_of_memory() restricted to the memcg's
 * tasks (oom_kill). The run stops with the out-of-memory error, naming the cgroup.
 */
function memcgOutOfMemory(k: Kernel, m: MemCgroup, nr: number): never {
  m.events[EV_OOM]!++;
  let victim = '';
  let worst = -1;
  for (const [pid, p] of k.procs) {
    if (!p.alive || p.mm.memcg !== m.id) continue;
    const mm = p.mm;
    const badness = mm.rssAnon + mm.swapEnts + mm.pgtablesBytes / 4096;
    if (badness > worst) {
      worst = badness;
      victim = pid;
    }
  }
  m.events[EV_OOM_KILL]!++;
  k.stats.v[C.oom_kill]!++;
  throw new SimError(
    `out of memory in cgroup "${m.name}": charging ${nr} page(s) would exceed memory.max (${m.memory} of ${m.max} pages charged, swap ${m.swap} pages charged, ${memcgNrSwapPages(k, m.id)} more allowed) and reclaim freed nothing; the OOM killer picked "${victim}" (${worst} pages)`,
    'oom',
  );
}
