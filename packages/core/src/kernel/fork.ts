/** fork(): dup_mmap() and copy_page_range() (kernel/fork.c, mm/memory.c). */
import { SimError, type Kernel } from './kernel.js';
import { khugepagedFork } from './khugepaged-scan.js';
import type { Process } from './task.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { folioPteBatch } from './pte-batch.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { ksmFork, ksmZeroPteCopied } from './ksm-unmerge.js';
import { C } from '../stats/counters.js';
import { PTRS_PER_TABLE, pmdStart, pteIndex } from '../units.js';
import { ForkCtx } from '../hooks/contexts.js';
import { Process as Proc } from './task.js';
import { copyHugePmd } from './huge-pmd-ops.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { addAnonRmapPtes, addNewAnonRmap } from './rmap.js';
import { lruAdd } from './lru-batch.js';
import { flushMm } from './tlb-flush.js';
import { copyFilePte } from './file-rmap.js';
import { dupUserfaultfd, uffdHas } from './uffd-ctx.js';

/** fork() of `parent` into a new process `childPid`; the child's thread sits on `cpu`. */
export function forkProcess(k: Kernel, parent: Process, childPid: string, cpu: number): Process {
  if (k.procs.get(childPid)?.alive) throw new SimError(`process "${childPid}" already exists`);
  k.checkCpu(cpu);
  const pmm = parent.mm;
  const cmm = k.newMm();
  cmm.mmapBase = pmm.mmapBase;
  // the child starts in the parent's cgroup (cgroup_post_fork()); copy_present_page() charges it
  cmm.memcg = pmm.memcg;
  k.memcgCharge = cmm.memcg;
  khugepagedFork(k, cmm, pmm); // dup_mmap()
  const ctx = new ForkCtx(k, pmm, cmm);
  // the child gets at most as many tables as the parent has (dup_mmap(): copy_page_range())
  k.pt.reserve(pmm.pgtablesBytes / 4096);
  // dup_userfaultfd(): with UFFD_FEATURE_EVENT_FORK the child's VMAs stay registered, with a
  // context of their own (uffd-ctx.ts); without it the child is not registered
  const eventFork = uffdHas(pmm, 'event_fork');
  let dupCtx = false;
  for (const vma of pmm.vmas) {
    if ((vma.flags & VM.dontcopy) !== 0) continue;
    const nv = vma.clone();
    if (!eventFork) nv.flags &= ~(VM.uffdMissing | VM.uffdWp | VM.uffdMinor);
    else if ((nv.flags & (VM.uffdMissing | VM.uffdWp | VM.uffdMinor)) !== 0) dupCtx = true;
    // dup_mmap(): vm_flags_clear(tmp, VM_LOCKED_MASK): mlock is not inherited
    nv.flags &= ~(VM.locked | VM.lockonfault);
    cmm.insertVma(nv);
    if (nv.file !== null) nv.file.iMmap.push({ mm: cmm, vma: nv }); // dup_mmap(): vma_interval_tree_insert_after()
    if ((vma.flags & VM.wipeonfork) !== 0) {
      nv.anonVma = -1; // a fresh, empty mapping in the child
      continue;
    }
    // nothing was ever faulted in: vma_needs_copy() is false, unless userfaultfd_wp(dst_vma)
    // (the PTE markers must be copied)
    if (vma.anonVma < 0 && !(eventFork && (nv.flags & VM.uffdWp) !== 0)) continue;
    if (vma.anonVma < 0) {
      ctx.vma = vma;
      copyPageRange(k, ctx, nv);
      continue;
    }
    k.anonVmas.link(vma.anonVma, cmm, nv);
    ctx.vma = vma;
    copyPageRange(k, ctx, nv);
  }
  if (dupCtx) dupUserfaultfd(pmm, cmm, childPid);
  // dup_mmap(): flush_tlb_mm(oldmm) for the write-protected parent PTEs
  flushMm(k, pmm, 'dup_mmap');
  cmm.hasPinned = false;
  if (k.ksm !== null) ksmFork(k, pmm, cmm);
  const child = new Proc(childPid, cmm);
  k.procs.set(childPid, child);
  k.addThread(child, cpu, false);
  k.hooks.fork.done.call(pmm, cmm);
  return child;
}

function copyPageRange(k: Kernel, ctx: ForkCtx, dstVma: Vma): void {
  const src = ctx.vma;
  const pmm = ctx.parent;
  const cmm = ctx.child;
  for (let v = src.start; v < src.end; ) {
    const tStart = pmdStart(v);
    const tEnd = Math.min(src.end, tStart + PTRS_PER_TABLE);
    k.condResched(tEnd - v);
    let st = pteTable(k, pmm, v);
    if (st === -2) {
      // copy_huge_pmd(): share the THP, or split it (maybe pinned) and copy the PTEs below
      const shared = copyHugePmd(
        k,
        pmm,
        cmm,
        v,
        (pfn, head) => {
          ctx.vpn = v;
          ctx.pfn = pfn;
          ctx.head = head;
          return k.hooks.fork.page.call(ctx) ?? 'share';
        },
        (dstVma.flags & VM.uffdWp) !== 0,
      );
      if (shared) {
        v = tEnd;
        continue;
      }
      st = pteTable(k, pmm, v);
    }
    if (st >= 0) {
      ctx.tableStart = tStart;
      ctx.table = st;
      ctx.fullyCovered = src.start <= tStart && src.end >= tStart + PTRS_PER_TABLE;
      const d = k.hooks.fork.pteTable.call(ctx);
      if (d !== 'shared') copyPteRange(k, ctx, pmm, cmm, st, v, tEnd, dstVma);
    }
    v = tEnd;
  }
}

/** copy_pte_range() → copy_present_ptes() / copy_nonpresent_pte(). */
function copyPteRange(
  k: Kernel,
  ctx: ForkCtx,
  pmm: MmStruct,
  cmm: MmStruct,
  stIn: number,
  start: number,
  end: number,
  dstVma: Vma,
): void {
  const pt = k.pt;
  const f = k.f;
  const batch = k.config.features.forkPteBatch;
  const costs = k.hw.costs;
  let st = stIn;
  let dt = -1;
  const decisions: ('copy' | 'share')[] = [];
  for (let a = start; a < end; a++) {
    const sk = pt.slot(st, pteIndex(a));
    let fl = pt.fl[sk]!;
    if (fl === 0) continue;
    if (dt < 0) {
      dt = pteTableForWrite(k, cmm, a, true, 'fork');
      st = pteTableForWrite(k, pmm, a, false, 'fork'); // the parent's PTEs get write-protected
      // wrprotect_ptes() over whole batches (v6.9) or ptep_set_wrprotect() per PTE
      k.hooks.pte.beforeChange.call(pmm, start, end, batch ? 'fork_wrprotect' : 'fork_wrprotect_pte');
      fl = pt.fl[pt.slot(st, pteIndex(a))]!; // the hardware may have rewritten it
    }
    const sk2 = pt.slot(st, pteIndex(a));
    const val = pt.val[sk2]!;
    if (batch && (fl & PTE.present) !== 0 && val !== ZERO_PFN) {
      const head = f.head(val);
      if (f.order[head]! > 0) {
        const nr = folioPteBatch(k, st, a, end - a, head, val, fl, true);
        if (nr > 1) {
          // folio_try_dup_anon_rmap_ptes() fails for the batch when any page must be copied
          // (maybe pinned): copy_pte_range() retries with prealloc, one PTE at a time
          let share = true;
          decisions.length = 0;
          for (let j = 0; j < nr; j++) {
            ctx.vpn = a + j;
            ctx.pfn = val + j;
            ctx.head = head;
            const d = k.hooks.fork.page.call(ctx) ?? 'share';
            decisions.push(d);
            if (d === 'copy') share = false;
          }
          if (share) {
            copyPresentPtes(k, cmm, st, dt, a, nr, head, val, fl, dstVma);
            k.stats.v[C.fork_pte_copy]! += nr;
            k.charge(costs.pteCopy + (nr - 1) * (costs.pteCopyBatched ?? costs.pteCopy));
            a += nr - 1;
            continue;
          }
          for (let j = 0; j < nr; j++) {
            const sj = pt.slot(st, pteIndex(a + j));
            k.stats.v[C.fork_pte_copy]!++;
            k.charge(costs.pteCopy);
            copyPresentPte(k, ctx, cmm, st, dt, a + j, pt.fl[sj]!, pt.val[sj]!, dstVma, decisions[j]!);
          }
          a += nr - 1;
          continue;
        }
      }
    }
    k.stats.v[C.fork_pte_copy]!++;
    k.charge(costs.pteCopy);
    if ((fl & PTE.present) !== 0) {
      copyPresentPte(k, ctx, cmm, st, dt, a, fl, val, dstVma);
    } else if ((fl & PTE.swap) !== 0) {
      // copy_nonpresent_pte(): swap_duplicate(), and neither side stays exclusive
      if (k.swap.count[val] === 0xffff) throw new SimError('swap count overflow', 'internal');
      k.swap.count[val]!++;
      cmm.swapEnts++;
      const nfl = fl & ~PTE.swpExclusive;
      pt.fl[sk2] = nfl;
      // copy_nonpresent_pte(): pte_swp_clear_uffd_wp() unless userfaultfd_wp(dst_vma)
      pt.set(dt, pteIndex(a), val, (dstVma.flags & VM.uffdWp) !== 0 ? nfl : nfl & ~PTE.uffdWp);
    } else if ((fl & PTE.guard) !== 0) {
      // copy_nonpresent_pte() → copy_pte_marker(): PTE_MARKER_GUARD is always copied
      pt.set(dt, pteIndex(a), 0, PTE.guard);
    } else {
      // copy_pte_marker(): a poisoned marker always, a uffd-wp one only if userfaultfd_wp(dst_vma)
      const m = fl & (PTE.poisoned | ((dstVma.flags & VM.uffdWp) !== 0 ? PTE.uffdWp : 0));
      if (m !== 0) pt.set(dt, pteIndex(a), 0, m);
    }
  }
  if (dt >= 0) {
    k.hooks.pte.afterSet.call(pmm, start, end);
    k.hooks.pte.afterSet.call(cmm, start, end);
  }
}

/**
 * copy_present_ptes() for a batch (v6.9): folio_ref_add(nr), folio_try_dup_anon_rmap_ptes(nr),
 * wrprotect_ptes(nr) and set_ptes(nr) of the first PTE's value (made old, read-only when any was writable).
 */
function copyPresentPtes(
  k: Kernel,
  cmm: MmStruct,
  st: number,
  dt: number,
  a: number,
  nr: number,
  head: number,
  pfn: number,
  fl: number,
  dstVma: Vma,
): void {
  const pt = k.pt;
  const f = k.f;
  k.folioGet(head, nr);
  addAnonRmapPtes(k, head, pfn, nr, cmm);
  let anyWritable = false;
  for (let j = 0; j < nr; j++) {
    f.flags[pfn + j]! &= ~PG.anonExclusive;
    const s = pt.slot(st, pteIndex(a + j));
    const fj = pt.fl[s]!;
    if ((fj & PTE.write) !== 0) {
      anyWritable = true;
      pt.fl[s] = fj & ~PTE.write;
    }
  }
  const nfl = anyWritable ? fl & ~PTE.write : fl;
  const cfl = (nfl & ~(PTE.young | PTE.uffdWp)) | (dstVma.flags & VM.uffdWp ? nfl & PTE.uffdWp : 0);
  for (let j = 0; j < nr; j++) pt.set(dt, pteIndex(a + j), pfn + j, cfl);
}

/** copy_present_pte() of one PTE: share it write-protected, or copy the page (copy_present_page()). */
function copyPresentPte(
  k: Kernel,
  ctx: ForkCtx,
  cmm: MmStruct,
  st: number,
  dt: number,
  a: number,
  fl: number,
  val: number,
  dstVma: Vma,
  decided?: 'copy' | 'share',
): void {
  const pt = k.pt;
  const f = k.f;
  if (val === ZERO_PFN) {
    pt.set(dt, pteIndex(a), val, fl & ~PTE.young);
    if ((fl & PTE.dirty) !== 0 && k.ksm !== null) ksmZeroPteCopied(k, cmm);
    return;
  }
  const head = f.head(val);
  if ((f.flags[head]! & PG.anon) === 0) {
    // copy_present_ptes() of a page-cache folio: folio_dup_file_rmap_ptes(), never copied (a
    // private file page is mapped read-only already)
    copyFilePte(k, cmm, dt, a, fl, val, head);
    return;
  }
  let d = decided;
  if (d === undefined) {
    ctx.vpn = a;
    ctx.pfn = val;
    ctx.head = head;
    d = k.hooks.fork.page.call(ctx) ?? 'share';
  }
  if (d === 'copy') {
    // copy_present_page(): the child gets its own copy now, the parent keeps its page
    const nh = k.allocFolio(0, false, head);
    f.data[nh] = f.data[val]!;
    k.charge(k.hw.costs.copyPage);
    addNewAnonRmap(k, nh, cmm, dstVma, a, 1);
    lruAdd(k, nh, false);
    // copy_present_page(): "uffd-wp needs to be delivered to dest pte as well" (pte_mkuffd_wp
    // write-protects it)
    const wp = (dstVma.flags & VM.uffdWp) !== 0 && (fl & PTE.uffdWp) !== 0;
    pt.set(dt, pteIndex(a), nh, PTE.present | PTE.dirty | k.sd | PTE.young | (wp ? PTE.uffdWp : PTE.write));
    k.stats.v[C.fork_page_copy]!++;
    return;
  }
  // folio_try_dup_anon_rmap_pte(): one more mapping, no longer exclusive
  k.folioGet(head);
  addAnonRmapPtes(k, head, val, 1, cmm);
  f.flags[val]! &= ~PG.anonExclusive;
  const sk2 = pt.slot(st, pteIndex(a));
  let nfl = fl;
  if ((fl & PTE.write) !== 0) {
    nfl = fl & ~PTE.write; // ptep_set_wrprotect(src_mm, ...)
    pt.fl[sk2] = nfl;
  }
  pt.set(dt, pteIndex(a), val, (nfl & ~(PTE.young | PTE.uffdWp)) | (dstVma.flags & VM.uffdWp ? nfl & PTE.uffdWp : 0));
}
