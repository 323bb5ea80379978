/**
 * What a cgroup v2 directory's memory files would show (mm/memcontrol.c: memory_current_read(),
 * swap_current_read(), memory_max_show(), memory_stat_format(), memory_events_show()): sizes in
 * bytes, as the files do; "max" for no limit. Only the memory.stat entries the model produces.
 */
import type { Kernel } from '../kernel/kernel.js';
import { EV_HIGH, EV_LOW, EV_MAX, EV_OOM, EV_OOM_KILL, ME, type MemCgroup } from '../kernel/memcontrol.js';
import { LRU } from '../mem/lru.js';
import { PAGE_SIZE } from '../units.js';

export interface MemcgFiles {
  'memory.current': number;
  'memory.swap.current': number;
  'memory.max': number | 'max';
  'memory.high': number | 'max';
  'memory.swap.max': number | 'max';
  /** memory_stat_format() order: sizes (bytes), then events */
  'memory.stat': Record<string, number>;
  'memory.events': { low: number; high: number; max: number; oom: number; oom_kill: number };
}

const limit = (pages: number): number | 'max' => (pages === Number.POSITIVE_INFINITY ? 'max' : pages * PAGE_SIZE);

function files(m: MemCgroup): MemcgFiles {
  const p = m.lruvec.pages;
  const e = m.ev;
  const ev = (n: keyof typeof ME) => e[ME[n]]!;
  return {
    'memory.current': m.memory * PAGE_SIZE,
    'memory.swap.current': m.swap * PAGE_SIZE,
    'memory.max': limit(m.max),
    'memory.high': limit(m.high),
    'memory.swap.max': limit(m.swapMax),
    'memory.stat': {
      anon: m.anon * PAGE_SIZE,
      pagetables: m.pagetables * PAGE_SIZE,
      inactive_anon: p[LRU.inactiveAnon]! * PAGE_SIZE,
      active_anon: p[LRU.activeAnon]! * PAGE_SIZE,
      workingset_refault_anon: ev('workingset_refault_anon'),
      workingset_activate_anon: ev('workingset_activate_anon'),
      workingset_restore_anon: ev('workingset_restore_anon'),
      pgscan: ev('pgscan_kswapd') + ev('pgscan_direct'),
      pgsteal: ev('pgsteal_kswapd') + ev('pgsteal_direct'),
      pgscan_kswapd: ev('pgscan_kswapd'),
      pgscan_direct: ev('pgscan_direct'),
      pgsteal_kswapd: ev('pgsteal_kswapd'),
      pgsteal_direct: ev('pgsteal_direct'),
      pgfault: ev('pgfault'),
      pgmajfault: ev('pgmajfault'),
      pgrefill: ev('pgrefill'),
      pgactivate: ev('pgactivate'),
      pgdeactivate: ev('pgdeactivate'),
    },
    'memory.events': {
      low: m.events[EV_LOW]!,
      high: m.events[EV_HIGH]!,
      max: m.events[EV_MAX]!,
      oom: m.events[EV_OOM]!,
      oom_kill: m.events[EV_OOM_KILL]!,
    },
  };
}

/** The declared cgroups' files by name; undefined without cgroups (the output as before). */
export function memcgFiles(k: Kernel): Record<string, MemcgFiles> | undefined {
  if (k.memcgs.length === 1) return undefined;
  const out: Record<string, MemcgFiles> = Object.create(null);
  for (let i = 1; i < k.memcgs.length; i++) out[k.memcgs[i]!.name] = files(k.memcgs[i]!);
  return out;
}
