import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { TOKENS } from '../di/tokens.js';
import type { Hooks } from '../hooks/catalogue.js';
import type { FlushKind, FlushRequest } from '../hooks/contexts.js';
import { VmFault } from './vm-fault.js';
import type { HardwareModel } from '../hardware/hardware.js';
import type { CostClock, Stats } from '../stats/stats.js';
import { C } from '../stats/counters.js';
import type { KernelConfig } from './config.js';
import { PhysMem } from '../mem/phys-mem.js';
import { GUP_PIN_COUNTING_BIAS, PG, type FolioTable } from '../mem/folios.js';
import { SwapDevice } from '../mem/swap.js';
import { LRU, Lruvec, type LruBatchKind } from '../mem/lru.js';
import { LruGen } from '../mem/lru-gen.js';
import { lruGenDelFolio } from './lru-gen.js';
import type { Pin } from './gup.js';
import type { Explainer } from '../explain/explainer.js';
import { PageTablePool } from '../mm/page-table.js';
import { MmStruct } from '../mm/mm-struct.js';
import { AnonVmaRegistry } from '../mm/anon-vma.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PageCache } from '../mem/page-cache.js';
import { Cpu, Process, Thread } from './task.js';
import { PAGE_SHIFT } from '../units.js';
import { MmGather } from './tlb-gather.js';
import { pteTable, tableAt, translate } from './pgwalk.js';
import { addAnonRmapPtes, addNewAnonRmap, removeRmapPtes } from './rmap.js';
import { folioLru, lruAdd, lruAddDrain, lruAddDrainAll, lruBatchAdd } from './lru-batch.js';
import { addToSwap, deleteFromSwapCache, folioFreeSwap } from './swap-cache.js';
import { flush, flushMm, flushPage, tlbBatchFlush } from './tlb-flush.js';
import { mmapBasePages } from './unmapped-area.js';
import { taskSizeOf } from '../hardware/limits.js';
import { zoneWatermarks, type Watermarks } from './watermarks.js';
import { VmscanState } from './vmscan.js';
import { Kswapd } from './kswapd.js';
import { prepareAlloc } from './page-alloc.js';
import { folioRotateReclaimable } from './file-reclaim.js';
import { createMemcgs, memcgUncharge, tryChargeMemcg, type MemCgroup } from './memcontrol.js';
import type { KsmState } from './ksm-state.js';
import { ksmOf } from './ksm.js';

/** MMSIM_RANGE_FAULTS=0 turns the range fast path off (Kernel.rangeFaults); no process object: on. */
function rangeFaultsDefault(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.MMSIM_RANGE_FAULTS !== '0';
}

export class SimError extends Error {
  constructor(
    message: string,
    readonly code:
      | 'segv'
      | 'sigbus'
      | 'einval'
      | 'enoent'
      | 'eexist'
      | 'enomem'
      | 'efault'
      | 'eagain'
      | 'ebusy'
      | 'eperm'
      | 'oom'
      | 'internal' = 'einval',
    /** the scenario field the error is about, when the syscall's argument maps to one (e.g. `region`) */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'SimError';
  }
}

/**
 * Note for plugin authors: the typed arrays of `kernel.f` (FolioTable) and `kernel.pt`
 * (PageTablePool) are replaced when they grow. Read them through `kernel.f.ref[...]` at call
 * time; never keep a reference to an array across calls.
 *
 * The simulated kernel: machine state, construction, processes, and the allocation and
 * refcount primitives (page-table pages, folios). Every mechanism lives in its own file under
 * kernel/ (pgwalk.ts, rmap.ts, lru-batch.ts, swap-cache.ts, tlb-flush.ts, fault.ts, fork.ts,
 * zap.ts, reclaim.ts, huge-memory.ts, ...), as functions taking the kernel.
 */
@injectable()
export class Kernel {
  readonly mem: PhysMem;
  readonly f: FolioTable;
  readonly pt = new PageTablePool();
  readonly swap: SwapDevice;
  readonly anonVmas = new AnonVmaRegistry();
  /** every file's address_space and the page-cache figures (mem/page-cache.ts) */
  readonly pageCache = new PageCache();
  readonly cpus: Cpu[];
  readonly procs = new Map<string, Process>();
  readonly mms = new Set<MmStruct>();
  /** the CPU doing the current work (charged for it) */
  cpu = 0;
  /** NR_ANON_MAPPED in pages (AnonPages) */
  nrAnonMapped = 0;
  /** a step used mlock (kernel/mlock.ts): meminfo shows Mlocked, Unevictable and VmLck */
  mlockUsed = false;
  /** pages of PMD-mapped anon THPs (AnonHugePages) */
  nrAnonThp = 0;
  /** the largest hiwater_rss of an exited process, in pages (signal->maxrss: getrusage's ru_maxrss) */
  maxRss = 0;
  /** zone watermarks of a bounded memory (watermarks.ts), null when memory is unlimited */
  readonly wmark: Watermarks | null;
  /**
   * The bits x86's pte_mkdirty() adds besides PTE.dirty: PTE.softDirty where the hardware has
   * soft-dirty (HardwareModel.softDirty), else 0. Every kernel path that dirties a PTE ORs it in.
   */
  readonly sd: number;
  /** VM_SOFTDIRTY where the hardware has soft-dirty, else 0 (mmap sets it on new VMAs) */
  readonly vmSoftDirty: number;
  /** reclaim state (vmscan.ts) and kswapd0 (kswapd.ts) */
  readonly vmscan = new VmscanState();
  readonly kswapd = new Kswapd();
  /** the node's LRU lists (mem/lru.ts): the root memcg's lruvec */
  readonly lruvec: Lruvec;
  /** the multi-gen LRU's state when system.vm.lruGen is on (mem/lru-gen.ts), else null */
  readonly lrugen: LruGen | null;
  /** memory cgroups (memcontrol.ts): [0] is the root; and their lruvecs, lruvecs[0] = lruvec */
  readonly memcgs: MemCgroup[];
  readonly lruvecs: Lruvec[];
  /** the memcg new folios are charged to: the faulting mm's (set at fault entry, fork, ...) */
  memcgCharge = 0;
  /** anon LRU sizes in pages (NR_INACTIVE_ANON / NR_ACTIVE_ANON), from the lists */
  get lruCount(): { inactive: number; active: number } {
    let inactive = 0;
    let active = 0;
    for (const lv of this.lruvecs) {
      inactive += lv.pages[LRU.inactiveAnon]!;
      active += lv.pages[LRU.activeAnon]!;
    }
    return { inactive, active };
  }
  /** folios under asynchronous swap writeback, completed by completeWriteback() */
  readonly pendingWriteback: number[] = [];
  /** FOLL_PIN pins not yet unpinned (gup.ts), so explanations can name the pin holding a page */
  readonly livePins = new Set<Pin>();
  /** KSM (kernel/ksm.ts): created by system.ksm or the first step that uses KSM, else null */
  ksm: KsmState | null = null;
  /** decision records (`--explain`), null when off: explain/explainer.ts */
  explain: Explainer | null = null;
  /**
   * What condResched() calls: the runner installs a check that throws to stop the run when the
   * user interrupts the simulator (Ctrl-C); null when nothing can interrupt it
   */
  interruptCheck: (() => void) | null = null;
  private reschedTicks = 0;
  /**
   * Whether sequential touches take the range fast path (fault-range.ts accessRange): same
   * results as one userAccess() per page, which `false` forces. Default true; the environment
   * variable MMSIM_RANGE_FAULTS=0, read when the kernel is created, makes it false.
   */
  rangeFaults = rangeFaultsDefault();
  /** the last value read by access() */
  lastValue = 0;
  /**
   * The errno a syscall returned without stopping the run (MADV_COLLAPSE's EAGAIN ...), '' when
   * it succeeded: what a step's `expectError` compares when nothing was thrown. Reset per step.
   */
  lastErrno = '';
  /** the reused vm_fault: taken once per fault by beginFault() (fault.ts) and passed down as a parameter */
  readonly vmf: VmFault;
  /** the reused TLB flush request (tlb-flush.ts) */
  readonly flushReq: FlushRequest;
  private nextMmId = 1;
  private nextTid = 1;
  /** counter ids per mTHP order (mthp_<size>_anon_fault_alloc) */
  readonly mthpFaultAlloc: number[] = [];
  /** counter ids per mTHP order (mthp_<size>_split_deferred) */
  readonly mthpSplitDeferred: number[] = [];
  /** counter ids per mTHP order (mthp_<size>_anon_fault_fallback, mthp_<size>_swpout, mthp_<size>_swpin) */
  readonly mthpFaultFallback: number[] = [];
  readonly mthpSwpout: number[] = [];
  readonly mthpSwpin: number[] = [];
  /** counter ids per mTHP order (mthp_<size>_split, _split_failed, _swpout_fallback, _swpin_fallback, _anon_fault_fallback_charge) */
  readonly mthpSplit: number[] = [];
  readonly mthpSplitFailed: number[] = [];
  readonly mthpSwpoutFallback: number[] = [];
  readonly mthpSwpinFallback: number[] = [];
  readonly mthpFaultFallbackCharge: number[] = [];
  /**
   * gauge ids per mTHP order (mthp_<size>_nr_anon, mthp_<size>_nr_anon_partially_mapped):
   * counters that also go down, so a phase's value is the gauge's change over the phase
   */
  readonly mthpNrAnon: number[] = [];
  readonly mthpNrAnonPartiallyMapped: number[] = [];
  /** TASK_SIZE in bytes: the hardware's (x86-64's 2^47 - 4096 by default) */
  readonly taskSize: number;
  /** mmap_base() in pages: where every mm's top-down allocator starts */
  readonly mmapBase: number;

  constructor(
    @inject(TOKENS.Hooks) readonly hooks: Hooks,
    @inject(TOKENS.Hardware) readonly hw: HardwareModel,
    @inject(TOKENS.Stats) readonly stats: Stats,
    @inject(TOKENS.Clock) readonly clock: CostClock,
    @inject(TOKENS.KernelConfig) readonly config: KernelConfig,
  ) {
    this.mem = new PhysMem(config.memoryPages);
    this.f = this.mem.f;
    this.lruvec = new Lruvec(this.f);
    this.sd = hw.softDirty === false ? 0 : PTE.softDirty;
    this.vmSoftDirty = hw.softDirty === false ? 0 : VM.softDirty;
    this.lrugen = config.vm.lruGen === true ? new LruGen() : null;
    this.memcgs = createMemcgs(this, config.cgroups ?? []);
    this.lruvecs = this.memcgs.map((m) => m.lruvec);
    this.wmark = config.memoryPages > 0 ? zoneWatermarks(config.memoryPages, config.vm) : null;
    this.swap = new SwapDevice(config.swap);
    if (this.memcgs.length > 1) {
      // swap_range_free() → mem_cgroup_uncharge_swap(): the slot's swap_cgroup record
      const swap = this.swap;
      const memcgs = this.memcgs;
      swap.onFreeSlot = (slot) => {
        const id = swap.memcg[slot]!;
        if (id === 0) return;
        memcgs[id]!.swap--;
        swap.memcg[slot] = 0;
      };
    }
    this.cpus = Array.from({ length: hw.ncpus }, (_, i) => new Cpu(i));
    this.taskSize = taskSizeOf(hw);
    this.mmapBase = mmapBasePages(this.taskSize);
    this.vmf = new VmFault(this);
    if (config.ksm !== undefined) ksmOf(this); // system.ksm: the knobs at boot
    this.flushReq = {
      kind: 'range',
      mm: null,
      cpu: 0,
      start: 0,
      end: 0,
      strideShift: PAGE_SHIFT,
      gather: false,
      freedTables: false,
      writable: false,
      reason: '',
    };
    for (let o = 0; o <= 9; o++) {
      this.mthpFaultAlloc.push(o === 0 ? -1 : stats.define(`mthp_${4 << o}kB_anon_fault_alloc`));
      this.mthpSplitDeferred.push(o === 0 ? -1 : stats.define(`mthp_${4 << o}kB_split_deferred`));
      this.mthpFaultFallback.push(o === 0 ? -1 : stats.define(`mthp_${4 << o}kB_anon_fault_fallback`));
      this.mthpSwpout.push(o === 0 ? -1 : stats.define(`mthp_${4 << o}kB_swpout`));
      this.mthpSwpin.push(o === 0 ? -1 : stats.define(`mthp_${4 << o}kB_swpin`));
      this.mthpSplit.push(o === 0 ? -1 : stats.define(`mthp_${4 << o}kB_split`));
      this.mthpSplitFailed.push(o === 0 ? -1 : stats.define(`mthp_${4 << o}kB_split_failed`));
      this.mthpSwpoutFallback.push(o === 0 ? -1 : stats.define(`mthp_${4 << o}kB_swpout_fallback`));
      this.mthpSwpinFallback.push(o === 0 ? -1 : stats.define(`mthp_${4 << o}kB_swpin_fallback`));
      this.mthpFaultFallbackCharge.push(o === 0 ? -1 : stats.define(`mthp_${4 << o}kB_anon_fault_fallback_charge`));
      this.mthpNrAnon.push(o === 0 ? -1 : stats.define(`mthp_${4 << o}kB_nr_anon`));
      this.mthpNrAnonPartiallyMapped.push(o === 0 ? -1 : stats.define(`mthp_${4 << o}kB_nr_anon_partially_mapped`));
    }
  }

  /* ------------------------------------------------------------------ costs */

  /**
   * cond_resched() in a long kernel loop (gup, UFFDIO_COPY, copy_page_range, zap, mprotect,
   * madvise) that did `n` more pages: every 4096 pages the simulator polls for an interruption
   * of its own run, so one step over 64 GiB still stops within a second. No modelled effect.
   */
  condResched(n: number): void {
    if (this.interruptCheck === null) return;
    this.reschedTicks += n;
    if (this.reschedTicks < 4096) return;
    this.reschedTicks = 0;
    this.interruptCheck();
  }

  charge(cycles: number): void {
    this.clock.charge(this.cpu, cycles);
  }

  /* ------------------------------------------------------------ processes */

  newMm(): MmStruct {
    const id = this.nextMmId++;
    const pgd = this.pt.alloc(3, id);
    const mm = new MmStruct(id, pgd, this.cpus.length, this.mmapBase);
    this.mms.add(mm);
    this.hooks.mm.created.call(mm);
    return mm;
  }

  spawn(pid: string, cpu: number): Process {
    this.checkCpu(cpu);
    if (this.procs.get(pid)?.alive) throw new SimError(`process "${pid}" already exists`);
    const p = new Process(pid, this.newMm());
    this.procs.set(pid, p);
    this.addThread(p, cpu, false);
    return p;
  }

  addThread(p: Process, cpu: number, spin: boolean): Thread {
    this.checkCpu(cpu);
    const t = new Thread(this.nextTid++, p, cpu, spin);
    p.threads.push(t);
    if (spin) this.runOn(t);
    return t;
  }

  checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus.length) {
      throw new SimError(`cpu ${cpu} does not exist (the hardware has ${this.cpus.length} CPUs)`);
    }
  }

  proc(pid: string): Process {
    const p = this.procs.get(pid);
    if (!p || !p.alive) throw new SimError(`no live process "${pid}"`);
    return p;
  }

  /** Make `t` the running thread of its CPU (schedule + switch_mm when the mm changes). */
  runOn(t: Thread): void {
    const cpu = this.cpus[t.cpu]!;
    this.cpu = t.cpu;
    if (cpu.curr === t) return;
    cpu.curr = t;
    const next = t.proc.mm;
    const prev = cpu.loadedMm;
    if (prev !== next) {
      // switch_mm_irqs_off(): leave prev's cpumask, join next's
      if (prev) prev.cpumask[t.cpu] = 0;
      next.cpumask[t.cpu] = 1;
      cpu.loadedMm = next;
      this.stats.v[C.context_switch]!++;
      this.charge(this.hw.costs.contextSwitch);
      this.hooks.sched.switchMm.call(t.cpu, prev, next);
    }
  }

  /* ----------------------------------------------------------- page tables */

  allocTable(mm: MmStruct, level: number): number {
    // pte_alloc_one() etc. allocate a page (GFP_PGTABLE_USER): the same watermarks and reclaim
    if (this.wmark !== null) prepareAlloc(this, 0, -1);
    // GFP_PGTABLE_USER has __GFP_ACCOUNT: charged to the memcg (memory.stat pagetables)
    const mc = mm.memcg;
    if (mc !== 0) tryChargeMemcg(this, mc, 1, true);
    const id = this.pt.alloc(level, mm.id);
    this.pt.memcg[id] = mc;
    if (mc !== 0) this.memcgs[mc]!.pagetables++;
    mm.pgtablesBytes += 4096;
    this.stats.v[C.pgtable_alloc]!++;
    this.charge(this.hw.costs.tableAlloc);
    return id;
  }

  freeTable(mm: MmStruct, id: number): void {
    if (this.pt.refcount[id]! > 1) {
      // a shared table: drop this mm's reference only
      const left = --this.pt.refcount[id]!;
      if (this.hooks.pgtable.freed.isUsed())
        this.hooks.pgtable.freed.call({ mm, table: id, level: this.pt.level[id]!, refcount: left });
      return;
    }
    const level = this.pt.level[id]!;
    const owner = this.pt.owner[id]!;
    const ownerMm = owner === mm.id ? mm : this.mmById(owner);
    if (ownerMm) ownerMm.pgtablesBytes -= 4096;
    const mc = this.pt.memcg[id]!;
    if (mc !== 0) {
      this.pt.memcg[id] = 0;
      this.memcgs[mc]!.pagetables--;
      memcgUncharge(this, mc, 1);
    }
    this.pt.free(id);
    this.stats.v[C.pgtable_free]!++;
    this.charge(this.hw.costs.tableFree);
    if (this.hooks.pgtable.freed.isUsed()) this.hooks.pgtable.freed.call({ mm, table: id, level, refcount: 0 });
  }

  mmById(id: number): MmStruct | undefined {
    for (const m of this.mms) if (m.id === id) return m;
    return undefined;
  }

  /* Page-table walks (pgwalk.ts), rmap (rmap.ts), LRU batches (lru-batch.ts), the swap cache
   * (swap-cache.ts) and TLB flush requests (tlb-flush.ts) live in their own modules; core calls
   * those functions. The methods below are the ones other packages call on the kernel. */

  /** pgwalk.ts tableAt() */
  tableAt(mm: MmStruct, vpn: number, level: number, alloc: boolean): number {
    return tableAt(this, mm, vpn, level, alloc);
  }
  /** pgwalk.ts translate() */
  translate(mm: MmStruct, vpn: number, write: boolean): number {
    return translate(this, mm, vpn, write);
  }
  /** pgwalk.ts pteTable() */
  pteTable(mm: MmStruct, vpn: number): number {
    return pteTable(this, mm, vpn);
  }

  /* -------------------------------------------------------------- folios */

  /**
   * Allocate a folio of `order` (ref 1), zeroed when `zero`. With a bounded memory the
   * watermarks apply first (page-alloc.ts): kswapd, direct reclaim, or an `oom` error; a large
   * folio that does not fit fails with `enomem` (the caller falls back). `held`: a folio the
   * caller works on (a CoW source), which reclaim must leave alone.
   */
  allocFolio(order: number, zero: boolean, held = -1): number {
    if (this.wmark !== null && !prepareAlloc(this, order, held))
      throw new SimError(`out of memory for an order-${order} folio`, 'enomem');
    const nr = 1 << order;
    // mem_cgroup_charge(): a large folio's charge does not reclaim (GFP_TRANSHUGE_LIGHT)
    const mc = this.memcgCharge;
    if (mc !== 0) {
      this.vmscan.heldFolio = held;
      try {
        if (!tryChargeMemcg(this, mc, nr, order === 0))
          throw new SimError(
            `memory.max of cgroup "${this.memcgs[mc]!.name}" reached for an order-${order} folio`,
            'enomem',
            'memcg',
          );
      } finally {
        this.vmscan.heldFolio = -1;
      }
    }
    let head: number;
    try {
      head = this.mem.alloc(order);
    } catch (e) {
      if (mc !== 0) memcgUncharge(this, mc, nr);
      throw new SimError((e as Error).message, 'enomem');
    }
    if (mc !== 0) this.f.memcg.fill(mc, head, head + nr);
    this.stats.v[C.pgalloc]! += nr;
    this.charge(this.hw.costs.folioAlloc + (zero ? this.hw.costs.zeroPage * nr : 0));
    return head;
  }

  folioGet(head: number, n = 1): void {
    this.f.ref[head]! += n;
  }

  /** folio_put(): drop references, freeing the folio at zero. */
  folioPut(head: number, n = 1): void {
    const f = this.f;
    const r = (f.ref[head]! -= n);
    if (r > 0) return;
    if (r < 0) throw new SimError(`refcount underflow on folio ${head}`, 'internal');
    this.freeFolio(head);
  }

  private freeFolio(head: number): void {
    const f = this.f;
    if ((f.flags[head]! & PG.reserved) !== 0) throw new SimError(`freeing reserved page ${head}`, 'internal');
    if (this.lrugen !== null) {
      // an unevictable folio is on no generation list (lru_gen_del_folio() fails)
      if ((f.flags[head]! & PG.lru) !== 0 && !lruGenDelFolio(this, head, false))
        this.folioLruvec(head).del(folioLru(f.flags[head]!), head, 1 << f.order[head]!);
      f.lruGen[head] = 0;
    } else if ((f.flags[head]! & PG.lru) !== 0)
      this.folioLruvec(head).del(folioLru(f.flags[head]!), head, 1 << f.order[head]!);
    if ((f.flags[head]! & PG.mlocked) !== 0) {
      // __page_cache_release() / free_pages_prepare(): freed while still mlocked
      this.stats.v[C.nr_mlock]! -= 1 << f.order[head]!;
      this.stats.v[C.unevictable_pgs_cleared]! += 1 << f.order[head]!;
    }
    const order = f.order[head]!;
    const mc = f.memcg[head]!;
    if (mc !== 0) {
      // __mem_cgroup_uncharge()
      memcgUncharge(this, mc, 1 << order);
      f.memcg.fill(0, head, head + (1 << order));
    }
    if (order > 0 && this.config.features.mthpNrAnonStats) {
      // free_pages_prepare(): mod_mthp_stat(order, MTHP_STAT_NR_ANON, -1) for an anon folio (5d65c8d758f2, v6.12)
      if ((f.flags[head]! & PG.anon) !== 0) this.stats.v[this.mthpNrAnon[order]!]!--;
      // folio_unqueue_deferred_split(): MTHP_STAT_NR_ANON_PARTIALLY_MAPPED -1 (8175ebfd30b1, v6.12)
      if ((f.flags[head]! & PG.partiallyMapped) !== 0) this.stats.v[this.mthpNrAnonPartiallyMapped[order]!]!--;
    }
    const nr = 1 << order;
    this.stats.v[C.pgfree]! += nr;
    this.charge(this.hw.costs.folioFree);
    this.mem.freeFolio(head);
  }

  /** folio_lruvec(): the lruvec of the folio's memcg */
  folioLruvec(head: number): Lruvec {
    return this.lruvecs[this.f.memcg[head]!]!;
  }

  /* ------------------------------------------------- delegates (see above) */

  /** rmap.ts addNewAnonRmap() */
  addNewAnonRmap(head: number, mm: MmStruct, vma: Vma, vpn: number, nr: number): void {
    addNewAnonRmap(this, head, mm, vma, vpn, nr);
  }
  /** rmap.ts addAnonRmapPtes() */
  addAnonRmapPtes(head: number, pfn: number, nr: number, mm: MmStruct): void {
    addAnonRmapPtes(this, head, pfn, nr, mm);
  }
  /** rmap.ts removeRmapPtes() */
  removeRmapPtes(head: number, pfn: number, nr: number, mm: MmStruct): void {
    removeRmapPtes(this, head, pfn, nr, mm);
  }
  /** lru-batch.ts lruAdd() */
  lruAdd(head: number): void {
    lruAdd(this, head);
  }
  /** lru-batch.ts lruBatchAdd() */
  lruBatchAdd(head: number, kind: LruBatchKind): void {
    lruBatchAdd(this, head, kind);
  }
  /** lru-batch.ts lruAddDrain() */
  lruAddDrain(cpu: number): void {
    lruAddDrain(this, cpu);
  }
  /** lru-batch.ts lruAddDrainAll() */
  lruAddDrainAll(): void {
    lruAddDrainAll(this);
  }
  /** swap-cache.ts addToSwap() */
  addToSwap(head: number): boolean {
    return addToSwap(this, head);
  }
  /** swap-cache.ts deleteFromSwapCache() */
  deleteFromSwapCache(head: number): void {
    deleteFromSwapCache(this, head);
  }
  /** swap-cache.ts folioFreeSwap() */
  folioFreeSwap(head: number): boolean {
    return folioFreeSwap(this, head);
  }
  /** tlb-flush.ts flush() */
  flush(
    kind: FlushKind,
    mm: MmStruct | null,
    start: number,
    end: number,
    reason: string,
    freedTables = false,
    writable = false,
    strideShift = PAGE_SHIFT,
    gather = false,
  ): void {
    flush(this, kind, mm, start, end, reason, freedTables, writable, strideShift, gather);
  }
  /** tlb-flush.ts flushPage() */
  flushPage(mm: MmStruct, vpn: number, reason: string): void {
    flushPage(this, mm, vpn, reason);
  }
  /** tlb-flush.ts flushMm() */
  flushMm(mm: MmStruct, reason: string): void {
    flushMm(this, mm, reason);
  }
  /** tlb-flush.ts tlbBatchFlush() */
  tlbBatchFlush(dirtyOnly: boolean): void {
    tlbBatchFlush(this, dirtyOnly);
  }

  /* ------------------------------------------------------------ helpers */

  /** tlb_gather_mmu() */
  gather(mm: MmStruct, fullmm = false): MmGather {
    return new MmGather(this, mm, fullmm);
  }

  /** folio_end_writeback() for every pending asynchronous swap write. */
  completeWriteback(): void {
    for (const head of this.pendingWriteback) {
      this.f.flags[head]! &= ~PG.writeback;
      if ((this.f.flags[head]! & PG.reclaim) !== 0) folioRotateReclaimable(this, head);
    }
    this.pendingWriteback.length = 0;
  }

  /* -------------------------------------------------------------- helpers */

  /** Put a pinned folio reference (unpin_user_page). */
  unpinFolio(head: number): void {
    const f = this.f;
    f.pincount[head]!--;
    this.folioPut(head, f.order[head] === 0 ? GUP_PIN_COUNTING_BIAS : 1);
  }
}
