/**
 * Per-CPU LRU batches and LRU isolation (mm/swap.c: folio_add_lru, folio_batch_move_lru,
 * lru_add_drain[_all]; mm/vmscan.c: folio_isolate_lru, folio_putback_lru).
 */
import { PG } from '../mem/folios.js';
import { LRU, type LruBatchKind } from '../mem/lru.js';
import { LRU_REFS_MASK } from '../mem/lru-gen.js';
import { C } from '../stats/counters.js';
import type { Kernel } from './kernel.js';
import { lruGenAddFolio, lruGenDelFolio } from './lru-gen.js';
import { ME, memcgEvent } from './memcontrol.js';

/** folio_lru_list(): the list a folio with these flags belongs on (anon, or swap-backed shmem: anon lists; page cache: file lists). */
export function folioLru(fl: number): number {
  if ((fl & PG.unevictable) !== 0) return LRU.unevictable;
  // a lazyfree folio (MADV_FREE) is anonymous without PG_swapbacked: the file lists
  return (
    ((fl & (PG.anon | PG.swapbacked)) !== 0 && (fl & PG.lazyfree) === 0 ? LRU.inactiveAnon : LRU.inactiveFile) +
    ((fl & PG.active) !== 0 ? 1 : 0)
  );
}

/**
 * lruvec_add_folio(): at the head of the list its flags name; with the multi-gen LRU an evictable
 * folio goes to its generation (lru_gen_add_folio() refuses an unevictable one).
 */
export function lruvecAddFolio(k: Kernel, head: number): void {
  const f = k.f;
  if (k.lrugen !== null && (f.flags[head]! & PG.unevictable) === 0) lruGenAddFolio(k, head, false);
  else k.folioLruvec(head).addHead(folioLru(f.flags[head]!), head, 1 << f.order[head]!);
}

/** lruvec_del_folio(): off its generation list (lru_gen_del_folio()) or its classic list. */
export function lruvecDelFolio(k: Kernel, head: number): void {
  const f = k.f;
  if (k.lrugen !== null && lruGenDelFolio(k, head, false)) return;
  k.folioLruvec(head).del(folioLru(f.flags[head]!), head, 1 << f.order[head]!);
}

/**
 * lru_add()'s evictability test: an mlocked folio goes to the unevictable list (PG_active
 * cleared, mlock_count 0, unevictable_pgs_culled unless it was unevictable already); an evictable
 * one that was is rescued (unevictable_pgs_rescued). Whether it is unevictable now.
 */
function lruAddEvictable(k: Kernel, head: number, nr: number): boolean {
  const f = k.f;
  const fl = f.flags[head]!;
  const was = (fl & PG.unevictable) !== 0;
  if ((fl & PG.mlocked) === 0) {
    if (was) {
      f.flags[head]! &= ~PG.unevictable;
      k.stats.v[C.unevictable_pgs_rescued]! += nr;
    }
    return false;
  }
  f.flags[head]! = (fl & ~PG.active) | PG.unevictable;
  if (!was) k.stats.v[C.unevictable_pgs_culled]! += nr;
  return true;
}

/**
 * shrink_folio_list() meeting an isolated folio that is not evictable (`!folio_evictable()` →
 * activate_locked, PG_active not set for an mlocked folio) → move_folios_to_lru() →
 * folio_putback_lru() → lru_add(): onto the unevictable list (culled), dropping the isolation
 * reference. The kernel goes through the lru_add batch; mmsim adds it at once.
 */
export function putbackUnevictable(k: Kernel, head: number): void {
  const f = k.f;
  const nr = 1 << f.order[head]!;
  lruAddEvictable(k, head, nr);
  f.flags[head]! |= PG.lru;
  k.folioLruvec(head).addHead(LRU.unevictable, head, nr);
  f.lruPrev[head] = 0;
  k.charge(k.hw.costs.lruMove);
  k.folioPut(head);
}

/**
 * folio_add_lru(): park the folio in this CPU's lru_add batch, holding a reference. With the
 * multi-gen LRU a folio added by a fault (lru_gen_in_fault(), not under PF_MEMALLOC) gets
 * PG_active: lru_gen_add_folio() puts it in a young generation. `inFault`: false for the
 * additions outside a page fault (fork's copies, UFFDIO_COPY, khugepaged).
 */
export function lruAdd(k: Kernel, head: number, inFault = true): void {
  if (k.lrugen !== null && inFault && !k.vmscan.inReclaim) k.f.flags[head]! |= PG.active;
  lruBatchAdd(k, head, 'add');
}

/** folio_batch_add_and_move() into this CPU's batch of `kind`. */
export function lruBatchAdd(k: Kernel, head: number, kind: LruBatchKind): void {
  const f = k.f;
  f.ref[head]!++;
  f.flags[head]! |= PG.inBatch;
  const batch = k.cpus[k.cpu]!.lru[kind];
  batch.push(head);
  if (kind === 'add') k.stats.v[C.lru_add_batched]!++;
  // folio_batch_add_and_move(): move when the batch is full, or for a large folio
  if (batch.length >= k.config.lruBatchSize || f.order[head]! > 0) drainBatch(k, k.cpu, kind);
}

/** folio_deactivate(): only an active folio on an LRU list is batched (deactivate_page() in 5.x). */
export function folioDeactivate(k: Kernel, head: number): void {
  const fl = k.f.flags[head]!;
  // with the multi-gen LRU every folio on a list may be deactivated (its flags have no PG_active)
  if ((fl & PG.lru) === 0 || ((fl & PG.active) === 0 && k.lrugen === null)) return;
  lruBatchAdd(k, head, 'deactivate');
}

/** folio_batch_move_lru() for one batch of one CPU. */
export function drainBatch(k: Kernel, cpu: number, kind: LruBatchKind): void {
  const batch = k.cpus[cpu]!.lru[kind];
  if (batch.length === 0) return;
  const f = k.f;
  const saved = k.cpu;
  k.stats.v[C.lru_batch_drain]!++;
  for (const head of batch) {
    const nr = 1 << f.order[head]!;
    f.flags[head]! &= ~PG.inBatch;
    const fl = f.flags[head]!;
    const lv = k.folioLruvec(head);
    if (kind === 'add' && (fl & PG.lru) === 0 && (fl & (PG.mlocked | PG.unevictable)) !== 0) {
      // lru_add() of an mlocked folio (or one that was): the unevictable list, or back (mlock.ts)
      if (lruAddEvictable(k, head, nr)) {
        f.flags[head]! |= PG.lru;
        lv.addHead(LRU.unevictable, head, nr);
        f.lruPrev[head] = 0; // folio->mlock_count = 0: reclaim fixes an undercount
      } else if (k.lrugen !== null) drainLruGen(k, head, kind);
      else {
        f.flags[head]! |= PG.lru;
        lv.addHead(folioLru(f.flags[head]!), head, nr);
      }
    } else if ((fl & PG.unevictable) !== 0) {
      // folio_activate_fn(), lru_deactivate_fn(), lru_lazyfree_fn(): not for unevictable folios
    } else if (k.lrugen !== null) drainLruGen(k, head, kind);
    else if (kind === 'add') {
      // lru_add(): lruvec_add_folio() at the head of the folio's list (active after a
      // workingset refault: workingset_refault() set PG_active)
      if ((fl & PG.lru) === 0) {
        f.flags[head]! |= PG.lru;
        lv.addHead(folioLru(fl), head, nr);
      }
    } else if (kind === 'lazyfree') {
      // lru_lazyfree(): an anonymous swap-backed folio, active or not, to the inactive file list
      if ((fl & PG.lru) !== 0 && (fl & PG.anon) !== 0 && (fl & (PG.lazyfree | PG.swapcache)) === 0) {
        lv.del(folioLru(fl), head, nr);
        const nfl = (fl & ~(PG.active | PG.referenced)) | PG.lazyfree;
        f.flags[head] = nfl;
        lv.addHead(folioLru(nfl), head, nr);
        k.stats.v[C.pglazyfree]! += nr;
      }
    } else if ((fl & PG.lru) !== 0) {
      const active = (fl & PG.active) !== 0;
      if (kind === 'activate' && !active) {
        // folio_activate_fn(): lruvec_del_folio, folio_set_active, lruvec_add_folio
        lv.del(folioLru(fl), head, nr);
        f.flags[head]! |= PG.active;
        lv.addHead(folioLru(fl | PG.active), head, nr);
        k.stats.v[C.pgactivate]! += nr;
        memcgEvent(k, lv.memcg, ME.pgactivate, nr);
      } else if (kind !== 'activate' && active) {
        // lru_deactivate_fn(): to the head of the inactive list
        lv.del(folioLru(fl), head, nr);
        f.flags[head]! &= ~(PG.active | PG.referenced);
        lv.addHead(folioLru(fl & ~PG.active), head, nr);
        k.stats.v[C.pgdeactivate]! += nr;
        memcgEvent(k, lv.memcg, ME.pgdeactivate, nr);
      }
    }
    if (cpu === saved) k.clock.charge(cpu, k.hw.costs.lruMove);
    else k.clock.chargeRemote(cpu, k.hw.costs.lruMove);
    k.folioPut(head);
  }
  batch.length = 0;
  k.cpu = saved;
}

/**
 * The batch functions with the multi-gen LRU: lru_add(); lru_activate() (PG_active, into a
 * young generation, pgactivate); lru_deactivate() / lru_lazyfree() (PG_active and
 * PG_referenced cleared, lru_gen_add_folio() again). lru_lazyfree() also clears
 * PG_swapbacked (the file type) in the kernel; here the folio stays anon.
 */
function drainLruGen(k: Kernel, head: number, kind: LruBatchKind): void {
  const f = k.f;
  const nr = 1 << f.order[head]!;
  if (kind === 'add') {
    if ((f.flags[head]! & PG.lru) === 0) {
      f.flags[head]! |= PG.lru;
      lruGenAddFolio(k, head, false);
    }
    return;
  }
  if ((f.flags[head]! & PG.lru) === 0) return;
  if (
    kind === 'lazyfree' &&
    ((f.flags[head]! & PG.anon) === 0 || (f.flags[head]! & (PG.lazyfree | PG.swapcache)) !== 0)
  )
    return;
  lruGenDelFolio(k, head, false);
  if (kind === 'lazyfree') {
    // lru_lazyfree(): lru_gen_clear_refs(), PG_swapbacked cleared: the file type now
    f.flags[head]! = (f.flags[head]! & ~(PG.active | PG.referenced)) | PG.lazyfree;
    f.lruGen[head]! &= ~LRU_REFS_MASK;
    k.stats.v[C.pglazyfree]! += nr;
  } else if (kind === 'activate') {
    f.flags[head]! |= PG.active;
    k.stats.v[C.pgactivate]! += nr;
  } else {
    f.flags[head]! &= ~(PG.active | PG.referenced);
    k.stats.v[C.pgdeactivate]! += nr;
  }
  lruGenAddFolio(k, head, false);
}

/** lru_add_drain(): this CPU's batches. */
export function lruAddDrain(k: Kernel, cpu: number): void {
  drainBatch(k, cpu, 'add');
  drainBatch(k, cpu, 'deactivate');
  drainBatch(k, cpu, 'lazyfree');
  drainBatch(k, cpu, 'activate');
}

/** lru_add_drain_all() */
export function lruAddDrainAll(k: Kernel): void {
  for (let c = 0; c < k.cpus.length; c++) lruAddDrain(k, c);
}

/** folio_isolate_lru(): take the folio off its LRU list with a reference. */
export function isolateLru(k: Kernel, head: number): boolean {
  const f = k.f;
  if ((f.flags[head]! & PG.lru) === 0) return false;
  lruvecDelFolio(k, head);
  f.flags[head]! &= ~(PG.lru | PG.active);
  f.ref[head]!++;
  return true;
}

/** folio_putback_lru(): back at the head of its list (inactive after reclaim_pages()). */
export function putbackLru(k: Kernel, head: number): void {
  const f = k.f;
  f.flags[head]! |= PG.lru;
  lruvecAddFolio(k, head);
  k.folioPut(head);
}
