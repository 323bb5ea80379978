import type { Kernel } from '../kernel/kernel.js';
import { freePages } from '../kernel/page-alloc.js';
import { LRU } from '../mem/lru.js';
import { PG } from '../mem/folios.js';
import { lruvecPages } from '../kernel/vmscan.js';
import { memcgFiles, type MemcgFiles } from './memcg-files.js';
import { C } from './counters.js';
import { nrUnevictable } from '../kernel/mlock.js';
import { ksmStat } from '../scenario/ops/ksm.js';

export interface ProcessMeminfo {
  /** /proc/PID/status, in kB */
  VmRSS: number;
  RssAnon: number;
  VmPTE: number;
  VmSwap: number;
  /** with files or shared memory in the scenario only: MM_FILEPAGES / MM_SHMEMPAGES in kB */
  RssFile?: number;
  RssShmem?: number;
  /** after an mlock step only: mm->locked_vm in kB (kernel/mlock.ts) */
  VmLck?: number;
  /** once KSM is used (v6.1+): /proc/PID/ksm_stat, its lines of the kernel's era */
  ksm_stat?: Record<string, number>;
}

export interface Meminfo {
  /** /proc/meminfo names, in kB */
  AnonPages: number;
  AnonHugePages: number;
  PageTables: number;
  SwapCached: number;
  SwapTotal: number;
  SwapFree: number;
  Active_anon: number;
  Inactive_anon: number;
  /** frames handed out to folios (MemTotal - MemFree, without the kernel's own use) */
  MemUsed: number;
  /**
   * With a bounded `system.memory` only (kB, /proc/meminfo spelling): MemTotal, MemFree (not
   * handed out to folios or page tables) and the LRU list sizes.
   */
  MemTotal?: number;
  MemFree?: number;
  'Active(anon)'?: number;
  'Inactive(anon)'?: number;
  'Active(file)'?: number;
  'Inactive(file)'?: number;
  /**
   * With files or shared memory in the scenario only (kB): Cached (NR_FILE_PAGES, shmem
   * included), Shmem, Mapped (NR_FILE_MAPPED), Dirty (NR_FILE_DIRTY: dirty page-cache folios of
   * regular files) and the file LRU lists.
   */
  Cached?: number;
  Shmem?: number;
  Mapped?: number;
  Dirty?: number;
  Active_file?: number;
  Inactive_file?: number;
  /** after an mlock step only (kB): Mlocked (NR_MLOCK), Unevictable (the unevictable LRU) */
  Mlocked?: number;
  Unevictable?: number;
  processes: Record<string, ProcessMeminfo>;
  /** With `system.cgroups` only: each cgroup's memory files, in bytes as the files show them (memcg-files.ts) */
  cgroups?: Record<string, MemcgFiles>;
}

/** NR_FILE_DIRTY in pages: dirty folios in the page cache of regular files. */
function fileDirtyPages(k: Kernel): number {
  const f = k.f;
  let n = 0;
  for (const as of k.pageCache.spaces) {
    if (as.shmem) continue;
    for (let i = 0; i < as.pages; i++) {
      const h = as.folio[i]!;
      if (h >= 0 && (f.flags[h]! & PG.dirty) !== 0) n++;
    }
  }
  return n;
}

/** What /proc/meminfo and /proc/PID/status would show now. */
export function meminfo(k: Kernel): Meminfo {
  const processes: Record<string, ProcessMeminfo> = Object.create(null);
  const files = k.pageCache.used;
  for (const [pid, p] of k.procs) {
    if (!p.alive) continue;
    const mm = p.mm;
    processes[pid] = {
      VmRSS: (mm.rssAnon + mm.rssFile + mm.rssShmem) * 4,
      RssAnon: mm.rssAnon * 4,
      VmPTE: mm.pgtablesBytes / 1024,
      VmSwap: mm.swapEnts * 4,
    };
    if (files) {
      processes[pid]!.RssFile = mm.rssFile * 4;
      processes[pid]!.RssShmem = mm.rssShmem * 4;
    }
    if (k.mlockUsed) processes[pid]!.VmLck = mm.lockedVm * 4;
    if (k.ksm !== null) {
      const st = ksmStat(k, mm);
      if (st !== null) processes[pid]!.ksm_stat = st;
    }
  }
  const mlockKeys = k.mlockUsed ? { Mlocked: k.stats.v[C.nr_mlock]! * 4, Unevictable: nrUnevictable(k) * 4 } : {};
  const pc = k.pageCache;
  const fileKeys = files
    ? {
        Cached: pc.nrFilePages * 4,
        Shmem: pc.nrShmem * 4,
        Mapped: pc.nrFileMapped * 4,
        Dirty: fileDirtyPages(k) * 4,
        Active_file: k.lruvec.pages[LRU.activeFile]! * 4,
        Inactive_file: k.lruvec.pages[LRU.inactiveFile]! * 4,
      }
    : {};
  const bounded =
    k.wmark === null
      ? {}
      : {
          MemTotal: k.config.memoryPages * 4,
          MemFree: freePages(k) * 4,
          'Active(anon)': lruvecPages(k, k.lruvec, LRU.activeAnon) * 4,
          'Inactive(anon)': lruvecPages(k, k.lruvec, LRU.inactiveAnon) * 4,
          'Active(file)': lruvecPages(k, k.lruvec, LRU.activeFile) * 4,
          'Inactive(file)': lruvecPages(k, k.lruvec, LRU.inactiveFile) * 4,
        };
  const cgroups = memcgFiles(k);
  return {
    ...bounded,
    AnonPages: k.nrAnonMapped * 4,
    AnonHugePages: k.nrAnonThp * 4,
    PageTables: k.pt.liveAccounted * 4,
    SwapCached: k.swap.cachedPages * 4,
    SwapTotal: k.swap.opts.slots * 4,
    SwapFree: (k.swap.opts.slots - k.swap.used) * 4,
    Active_anon: k.lruCount.active * 4,
    Inactive_anon: k.lruCount.inactive * 4,
    MemUsed: k.mem.allocatedPages * 4,
    ...fileKeys,
    ...mlockKeys,
    processes,
    ...(cgroups === undefined ? {} : { cgroups }),
  };
}
