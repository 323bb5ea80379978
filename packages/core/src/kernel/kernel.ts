import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { TOKENS } from '../di/tokens.js';
import type { Hooks } from '../hooks/catalogue.js';
import type { FlushKind, FlushRequest, TableChangeReason, TableUnshareRequest } from '../hooks/contexts.js';
import { VmFault } from './vm-fault.js';
import type { HardwareModel } from '../hardware/hardware.js';
import type { CostClock, Stats } from '../stats/stats.js';
import { C } from '../stats/counters.js';
import type { KernelConfig } from './config.js';
import { PhysMem } from '../mem/phys-mem.js';
import { GUP_PIN_COUNTING_BIAS, PG, type FolioTable } from '../mem/folios.js';
import { SwapDevice } from '../mem/swap.js';
import type { LruBatchKind } from '../mem/lru.js';
import { PageTablePool } from '../mm/page-table.js';
import { PTE } from '../mm/pte.js';
import { MmStruct } from '../mm/mm-struct.js';
import { AnonVmaRegistry } from '../mm/anon-vma.js';
import type { Vma } from '../mm/vma.js';
import { Cpu, Process, Thread } from './task.js';
import { PAGE_SHIFT, PTRS_PER_TABLE, tableIndex } from '../units.js';
import { MmGather } from './tlb-gather.js';

/** Top of the user address space for the top-down mmap allocator (x86-64 TASK_SIZE-ish). */
const MMAP_BASE = 0x7f00_0000_0000 / 4096;

export class SimError extends Error {
  constructor(
    message: string,
    readonly code: 'segv' | 'einval' | 'eexist' | 'enomem' | 'internal' = 'einval',
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
 * The simulated kernel: machine state plus the primitives every mechanism shares (page-table
 * walks, rmap, refcounts, LRU batches, TLB flush requests). The mechanisms themselves live in
 * one file each under kernel/ (fault.ts, fork.ts, zap.ts, reclaim.ts, ...).
 */
@injectable()
export class Kernel {
  readonly mem: PhysMem;
  readonly f: FolioTable;
  readonly pt = new PageTablePool();
  readonly swap: SwapDevice;
  readonly anonVmas = new AnonVmaRegistry();
  readonly cpus: Cpu[];
  readonly procs = new Map<string, Process>();
  readonly mms = new Set<MmStruct>();
  /** the CPU doing the current work (charged for it) */
  cpu = 0;
  /** NR_ANON_MAPPED in pages (AnonPages) */
  nrAnonMapped = 0;
  /** pages of PMD-mapped anon THPs (AnonHugePages) */
  nrAnonThp = 0;
  readonly lruCount = { inactive: 0, active: 0 };
  /** folios under asynchronous swap writeback, completed by completeWriteback() */
  readonly pendingWriteback: number[] = [];
  /** the last value read by access() */
  lastValue = 0;
  /** the reused vm_fault (handed to the fault paths as a parameter) */
  readonly vmf: VmFault;
  private readonly flushReq: FlushRequest;
  private nextMmId = 1;
  private nextTid = 1;
  /** counter ids per mTHP order (mthp_<size>_anon_fault_alloc) */
  readonly mthpFaultAlloc: number[] = [];

  constructor(
    @inject(TOKENS.Hooks) readonly hooks: Hooks,
    @inject(TOKENS.Hardware) readonly hw: HardwareModel,
    @inject(TOKENS.Stats) readonly stats: Stats,
    @inject(TOKENS.Clock) readonly clock: CostClock,
    @inject(TOKENS.KernelConfig) readonly config: KernelConfig,
  ) {
    this.mem = new PhysMem(config.memoryPages);
    this.f = this.mem.f;
    this.swap = new SwapDevice(config.swap);
    this.cpus = Array.from({ length: hw.ncpus }, (_, i) => new Cpu(i));
    this.vmf = new VmFault(this);
    this.flushReq = {
      kind: 'range',
      mm: null,
      cpu: 0,
      start: 0,
      end: 0,
      strideShift: PAGE_SHIFT,
      freedTables: false,
      writable: false,
      reason: '',
    };
    for (let o = 0; o <= 9; o++) {
      this.mthpFaultAlloc.push(o === 0 ? -1 : stats.define(`mthp_${4 << o}kB_anon_fault_alloc`));
    }
  }

  /* ------------------------------------------------------------------ costs */

  charge(cycles: number): void {
    this.clock.charge(this.cpu, cycles);
  }

  /* ------------------------------------------------------------ processes */

  newMm(): MmStruct {
    const id = this.nextMmId++;
    const pgd = this.pt.alloc(3, id);
    const mm = new MmStruct(id, pgd, this.cpus.length, MMAP_BASE);
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
    const id = this.pt.alloc(level, mm.id);
    mm.pgtablesBytes += 4096;
    this.stats.v[C.pgtable_alloc]!++;
    this.charge(this.hw.costs.tableAlloc);
    return id;
  }

  freeTable(mm: MmStruct, id: number): void {
    if (this.pt.refcount[id]! > 1) {
      // a shared table: drop this mm's reference only
      const left = --this.pt.refcount[id]!;
      if (this.hooks.pgtable.freed.isUsed()) this.hooks.pgtable.freed.call({ mm, table: id, level: this.pt.level[id]!, refcount: left });
      return;
    }
    const level = this.pt.level[id]!;
    const owner = this.pt.owner[id]!;
    const ownerMm = owner === mm.id ? mm : this.mmById(owner);
    if (ownerMm) ownerMm.pgtablesBytes -= 4096;
    this.pt.free(id);
    this.stats.v[C.pgtable_free]!++;
    this.charge(this.hw.costs.tableFree);
    if (this.hooks.pgtable.freed.isUsed()) this.hooks.pgtable.freed.call({ mm, table: id, level, refcount: 0 });
  }

  mmById(id: number): MmStruct | undefined {
    for (const m of this.mms) if (m.id === id) return m;
    return undefined;
  }

  /**
   * Walk from the pgd down to the table of `level` covering vpn. Missing tables are allocated
   * when `alloc` (pud_alloc / pmd_alloc / pte_alloc). Returns the table id, -1 when missing,
   * -2 when a huge leaf sits above `level`.
   */
  tableAt(mm: MmStruct, vpn: number, level: number, alloc: boolean): number {
    const pt = this.pt;
    let t = mm.pgd;
    for (let l = 3; l > level; l--) {
      const k = t * PTRS_PER_TABLE + tableIndex(vpn, l);
      const fl = pt.fl[k]!;
      if ((fl & PTE.table) !== 0) {
        t = pt.val[k]!;
        continue;
      }
      if (fl !== 0) return -2;
      if (!alloc) return -1;
      const nt = this.allocTable(mm, l - 1);
      pt.set(t, tableIndex(vpn, l), nt, PTE.present | PTE.write | PTE.table);
      t = nt;
    }
    return t;
  }

  /**
   * The PTE table covering vpn, ready to be modified: a shared (copy-on-write) table is first
   * unshared through `fork.unshareTable`. -1 when there is none (and !alloc), -2 for a huge PMD.
   */
  pteTableForWrite(mm: MmStruct, vpn: number, alloc: boolean, reason: TableChangeReason, end = vpn + 1): number {
    const pmd = this.tableAt(mm, vpn, 1, alloc);
    if (pmd < 0) return pmd;
    const i = tableIndex(vpn, 1);
    const k = pmd * PTRS_PER_TABLE + i;
    const fl = this.pt.fl[k]!;
    if ((fl & PTE.table) === 0) {
      if (fl !== 0) return -2;
      if (!alloc) return -1;
      const nt = this.allocTable(mm, 0);
      this.pt.set(pmd, i, nt, PTE.present | PTE.write | PTE.table);
      return nt;
    }
    const t = this.pt.val[k]!;
    if (this.pt.refcount[t]! > 1 || (fl & PTE.write) === 0) return this.unshareTable(mm, vpn, end, pmd, i, t, reason);
    return t;
  }

  private unshareTable(mm: MmStruct, vpn: number, end: number, pmd: number, i: number, t: number, reason: TableChangeReason): number {
    const req: TableUnshareRequest = {
      mm,
      tableStart: vpn - (vpn & 511),
      pmdTable: pmd,
      pmdIndex: i,
      table: t,
      reason,
      start: vpn,
      end,
    };
    const nt = this.hooks.fork.unshareTable.call(req);
    if (nt === undefined) {
      throw new SimError(
        `PTE table ${t} is shared or write-protected at the PMD but no policy taps fork.unshareTable`,
        'internal',
      );
    }
    return nt;
  }

  /**
   * What a page walk finds for vpn right now, without side effects: the PFN, or -1 when the
   * access would fault. `write` asks for write permission. For TLB coherence checking.
   */
  translate(mm: MmStruct, vpn: number, write: boolean): number {
    const pt = this.pt;
    let tbl = mm.pgd;
    let w = PTE.write;
    for (let level = 3; level >= 0; level--) {
      const k0 = tbl * PTRS_PER_TABLE + tableIndex(vpn, level);
      const fl = pt.fl[k0]!;
      if ((fl & PTE.present) === 0) return -1;
      w &= fl;
      if ((fl & PTE.table) === 0) {
        if ((fl & PTE.protNone) !== 0 || (write && (w & PTE.write) === 0)) return -1;
        const span = level * 9;
        return pt.val[k0]! + (span === 0 ? 0 : vpn & ((1 << span) - 1));
      }
      tbl = pt.val[k0]!;
    }
    return -1;
  }

  /** The PTE table covering vpn for reading, or -1 / -2 (huge PMD). */
  pteTable(mm: MmStruct, vpn: number): number {
    return this.tableAt(mm, vpn, 0, false);
  }

  /* -------------------------------------------------------------- folios */

  /** Allocate a folio of `order` (ref 1), zeroed when `zero`. */
  allocFolio(order: number, zero: boolean): number {
    let head: number;
    try {
      head = this.mem.alloc(order);
    } catch (e) {
      throw new SimError((e as Error).message, 'enomem');
    }
    const nr = 1 << order;
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
    if ((f.flags[head]! & PG.lru) !== 0) {
      const nr = 1 << f.order[head]!;
      if ((f.flags[head]! & PG.active) !== 0) this.lruCount.active -= nr;
      else this.lruCount.inactive -= nr;
    }
    const nr = 1 << f.order[head]!;
    this.stats.v[C.pgfree]! += nr;
    this.charge(this.hw.costs.folioFree);
    this.mem.freeFolio(head);
  }

  /** anon_vma_prepare() */
  anonVmaPrepare(mm: MmStruct, vma: Vma): number {
    if (vma.anonVma < 0) {
      vma.anonVma = this.anonVmas.create();
      this.anonVmas.link(vma.anonVma, mm, vma);
    }
    return vma.anonVma;
  }

  /**
   * folio_add_new_anon_rmap(): a fresh folio mapped by `nr` PTEs starting at its head page
   * (mapped at `vpn`), every page exclusive.
   */
  addNewAnonRmap(head: number, mm: MmStruct, vma: Vma, vpn: number, nr: number): void {
    const f = this.f;
    f.flags[head]! |= PG.anon;
    f.anonVma[head] = this.anonVmaPrepare(mm, vma);
    f.index[head] = vma.pgoffOf(vpn);
    for (let i = 0; i < nr; i++) {
      f.mapcount[head + i] = 1;
      f.flags[head + i]! |= PG.anonExclusive;
    }
    if (f.order[head]! > 0) f.largeMapcount[head] = nr;
    this.nrAnonMapped += nr;
    mm.rssAnon += nr;
  }

  /** folio_add_anon_rmap_ptes() / folio_dup_file_rmap: `nr` more PTE mappings of pages from `pfn`. */
  addAnonRmapPtes(head: number, pfn: number, nr: number, mm: MmStruct): void {
    const f = this.f;
    // a page of a PMD-mapped folio is already counted in NR_ANON_MAPPED (huge-memory.ts)
    const entire = f.entireMapcount[head]! > 0;
    for (let i = 0; i < nr; i++) {
      if (f.mapcount[pfn + i]!++ === 0 && !entire) this.nrAnonMapped++;
    }
    if (f.order[head]! > 0) f.largeMapcount[head]! += nr;
    mm.rssAnon += nr;
  }

  /** folio_remove_rmap_ptes() */
  removeRmapPtes(head: number, pfn: number, nr: number, mm: MmStruct): void {
    const f = this.f;
    const entire = f.entireMapcount[head]! > 0;
    let unmapped = 0;
    for (let i = 0; i < nr; i++) {
      const m = --f.mapcount[pfn + i]!;
      if (m === 0) {
        if (!entire) this.nrAnonMapped--;
        unmapped++;
        f.flags[pfn + i]! &= ~PG.anonExclusive;
      } else if (m < 0) throw new SimError(`mapcount underflow on page ${pfn + i}`, 'internal');
    }
    if (f.order[head]! > 0) {
      f.largeMapcount[head]! -= nr;
      // __folio_remove_rmap(): pages became unmapped while others stay mapped (and no PMD
      // maps the folio): the partially mapped large folio goes on the deferred split queue
      if (unmapped > 0 && !entire && f.largeMapcount[head]! > 0 && (f.flags[head]! & PG.partiallyMapped) === 0) {
        f.flags[head]! |= PG.partiallyMapped;
        this.stats.v[C.thp_deferred_split_page]!++;
      }
    }
    mm.rssAnon -= nr;
  }

  /* ------------------------------------------------------------ LRU batches */

  /** folio_add_lru(): park the folio in this CPU's lru_add batch, holding a reference. */
  lruAdd(head: number): void {
    this.lruBatchAdd(head, 'add');
  }

  lruBatchAdd(head: number, kind: LruBatchKind): void {
    const f = this.f;
    f.ref[head]!++;
    f.flags[head]! |= PG.inBatch;
    const batch = this.cpus[this.cpu]!.lru[kind];
    batch.push(head);
    if (kind === 'add') this.stats.v[C.lru_add_batched]!++;
    // folio_batch_add_and_move(): move when the batch is full, or for a large folio
    if (batch.length >= this.config.lruBatchSize || f.order[head]! > 0) this.drainBatch(this.cpu, kind);
  }

  /** folio_batch_move_lru() for one batch of one CPU. */
  drainBatch(cpu: number, kind: LruBatchKind): void {
    const batch = this.cpus[cpu]!.lru[kind];
    if (batch.length === 0) return;
    const f = this.f;
    const saved = this.cpu;
    this.stats.v[C.lru_batch_drain]!++;
    for (const head of batch) {
      const nr = 1 << f.order[head]!;
      f.flags[head]! &= ~PG.inBatch;
      const fl = f.flags[head]!;
      if (kind === 'add') {
        if ((fl & PG.lru) === 0) {
          f.flags[head]! |= PG.lru;
          this.lruCount.inactive += nr;
        }
      } else if ((fl & PG.lru) !== 0) {
        const active = (fl & PG.active) !== 0;
        if (kind === 'activate' && !active) {
          f.flags[head]! |= PG.active;
          this.lruCount.inactive -= nr;
          this.lruCount.active += nr;
          this.stats.v[C.pgactivate]! += nr;
        } else if (kind !== 'activate' && active) {
          f.flags[head]! &= ~PG.active;
          this.lruCount.active -= nr;
          this.lruCount.inactive += nr;
          this.stats.v[kind === 'lazyfree' ? C.pglazyfree : C.pgdeactivate]! += nr;
        }
      }
      if (cpu === saved) this.clock.charge(cpu, this.hw.costs.lruMove);
      else this.clock.chargeRemote(cpu, this.hw.costs.lruMove);
      this.folioPut(head);
    }
    batch.length = 0;
    this.cpu = saved;
  }

  /** lru_add_drain(): this CPU's batches. */
  lruAddDrain(cpu: number): void {
    this.drainBatch(cpu, 'add');
    this.drainBatch(cpu, 'deactivate');
    this.drainBatch(cpu, 'lazyfree');
    this.drainBatch(cpu, 'activate');
  }

  /** lru_add_drain_all() */
  lruAddDrainAll(): void {
    for (let c = 0; c < this.cpus.length; c++) this.lruAddDrain(c);
  }

  /** folio_isolate_lru(): take the folio off its LRU list with a reference. */
  isolateLru(head: number): boolean {
    const f = this.f;
    if ((f.flags[head]! & PG.lru) === 0) return false;
    const nr = 1 << f.order[head]!;
    if ((f.flags[head]! & PG.active) !== 0) this.lruCount.active -= nr;
    else this.lruCount.inactive -= nr;
    f.flags[head]! &= ~(PG.lru | PG.active);
    f.ref[head]!++;
    return true;
  }

  /** folio_putback_lru() */
  putbackLru(head: number): void {
    const f = this.f;
    f.flags[head]! |= PG.lru;
    this.lruCount.inactive += 1 << f.order[head]!;
    this.folioPut(head);
  }

  /* ------------------------------------------------------------ swap cache */

  /** add_to_swap(): give the folio swap slots and put it in the swap cache. */
  addToSwap(head: number): boolean {
    const f = this.f;
    const nr = 1 << f.order[head]!;
    const slot = this.swap.allocSlots(nr);
    if (slot < 0) return false;
    for (let i = 0; i < nr; i++) {
      this.swap.hasCache[slot + i] = 1;
      this.swap.cache[slot + i] = head + i;
    }
    f.swap[head] = slot;
    f.flags[head]! |= PG.swapcache | PG.dirty;
    f.ref[head]! += nr;
    this.swap.cachedPages += nr;
    this.stats.v[C.swap_cache_add]! += nr;
    return true;
  }

  /** delete_from_swap_cache(): drop the swap cache's references and free unused slots. */
  deleteFromSwapCache(head: number): void {
    const f = this.f;
    const nr = 1 << f.order[head]!;
    const slot = f.swap[head]!;
    for (let i = 0; i < nr; i++) {
      this.swap.hasCache[slot + i] = 0;
      this.swap.cache[slot + i] = -1;
      this.swap.maybeFree(slot + i);
    }
    f.swap[head] = -1;
    f.flags[head]! &= ~PG.swapcache;
    this.swap.cachedPages -= nr;
    this.stats.v[C.swap_cache_del]! += nr;
    this.folioPut(head, nr);
  }

  /**
   * folio_free_swap() / try_to_free_swap(): drop the folio from the swap cache when no swap
   * entry references its slots any more and it is not under writeback.
   */
  folioFreeSwap(head: number): boolean {
    const f = this.f;
    if ((f.flags[head]! & PG.swapcache) === 0 || (f.flags[head]! & PG.writeback) !== 0) return false;
    const nr = 1 << f.order[head]!;
    const slot = f.swap[head]!;
    for (let i = 0; i < nr; i++) if (this.swap.count[slot + i] !== 0) return false;
    this.deleteFromSwapCache(head);
    return true;
  }

  /** swap_free() for one slot referenced by a PTE. */
  swapFree(slot: number): void {
    if (this.swap.count[slot] === 0) throw new SimError(`swap count underflow on slot ${slot}`, 'internal');
    this.swap.count[slot]!--;
    this.swap.maybeFree(slot);
  }

  /** free_swap_and_cache(): a zapped swap PTE. */
  freeSwapAndCache(slot: number): void {
    this.swapFree(slot);
    if (this.swap.count[slot] === 0 && this.swap.hasCache[slot] === 1) {
      const pfn = this.swap.cache[slot]!;
      const head = this.f.head(pfn);
      if (this.f.folioMapcount(head) === 0) this.folioFreeSwap(head);
    }
  }

  /* ------------------------------------------------------------ TLB flushes */

  /** Issue a flush request to the hardware (tlbFlush.request). */
  flush(kind: FlushKind, mm: MmStruct | null, start: number, end: number, reason: string, freedTables = false, writable = false, strideShift = PAGE_SHIFT): void {
    const r = this.flushReq;
    r.kind = kind;
    r.mm = mm;
    r.cpu = this.cpu;
    r.start = start;
    r.end = end;
    r.strideShift = strideShift;
    r.freedTables = freedTables;
    r.writable = writable;
    r.reason = reason;
    this.stats.v[C.tlb_flush_request]!++;
    this.hooks.tlbFlush.request.call(r);
  }

  /** flush_tlb_page() as done by ptep_clear_flush(). */
  flushPage(mm: MmStruct, vpn: number, reason: string): void {
    this.flush('range', mm, vpn, vpn + 1, reason);
  }

  /** flush_tlb_mm() */
  flushMm(mm: MmStruct, reason: string): void {
    this.flush('mm', mm, 0, Number.MAX_SAFE_INTEGER, reason);
  }

  /** flush_tlb_batched_pending(): a reclaim elsewhere left this mm's flush pending. */
  flushBatchedPending(mm: MmStruct): void {
    if (mm.tlbFlushBatched) {
      mm.tlbFlushBatched = false;
      this.flushMm(mm, 'flush_tlb_batched_pending');
    }
  }

  /** set_tlb_ubc_flush_pending(): reclaim unmapped a PTE of `mm` and deferred the flush. */
  tlbBatchAdd(mm: MmStruct, dirty: boolean, vpn: number): void {
    const ubc = this.cpus[this.cpu]!.tlbUbc;
    ubc.flushRequired = true;
    if (dirty) ubc.writable = true;
    ubc.mms.add(mm);
    mm.tlbFlushBatched = true;
    this.flush('batch-add', mm, vpn, vpn + 1, 'try_to_unmap', false, dirty);
  }

  /** try_to_unmap_flush() / try_to_unmap_flush_dirty() */
  tlbBatchFlush(dirtyOnly: boolean): void {
    const ubc = this.cpus[this.cpu]!.tlbUbc;
    if (!ubc.flushRequired || (dirtyOnly && !ubc.writable)) return;
    this.flush('batch-flush', null, 0, 0, dirtyOnly ? 'try_to_unmap_flush_dirty' : 'try_to_unmap_flush');
    ubc.flushRequired = false;
    ubc.writable = false;
    ubc.mms.clear();
  }

  /** tlb_gather_mmu() */
  gather(mm: MmStruct, fullmm = false): MmGather {
    return new MmGather(this, mm, fullmm);
  }

  /** folio_end_writeback() for every pending asynchronous swap write. */
  completeWriteback(): void {
    for (const head of this.pendingWriteback) this.f.flags[head]! &= ~PG.writeback;
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
