/** fork(): dup_mmap() and copy_page_range() (kernel/fork.c, mm/memory.c). */
import { SimError, type Kernel } from './kernel.js';
import type { Process } from './task.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { C } from '../stats/counters.js';
import { PTRS_PER_TABLE, pmdStart, pteIndex } from '../units.js';
import { ForkCtx } from '../hooks/contexts.js';
import { Process as Proc } from './task.js';
import { copyHugePmd } from './huge-pmd-ops.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { addAnonRmapPtes, addNewAnonRmap } from './rmap.js';
import { lruAdd } from './lru-batch.js';
import { flushMm } from './tlb-flush.js';

/** fork() of `parent` into a new process `childPid`; the child's thread sits on `cpu`. */
export function forkProcess(k: Kernel, parent: Process, childPid: string, cpu: number): Process {
  if (k.procs.get(childPid)?.alive) throw new SimError(`process "${childPid}" already exists`);
  k.checkCpu(cpu);
  const pmm = parent.mm;
  const cmm = k.newMm();
  cmm.mmapBase = pmm.mmapBase;
  const ctx = new ForkCtx(k, pmm, cmm);
  // the child gets at most as many tables as the parent has (dup_mmap(): copy_page_range())
  k.pt.reserve(pmm.pgtablesBytes / 4096);
  for (const vma of pmm.vmas) {
    if ((vma.flags & VM.dontcopy) !== 0) continue;
    const nv = vma.clone();
    // dup_userfaultfd() without UFFD_FEATURE_EVENT_FORK: the child is not registered
    nv.flags &= ~(VM.uffdMissing | VM.uffdWp);
    cmm.insertVma(nv);
    if ((vma.flags & VM.wipeonfork) !== 0) {
      nv.anonVma = -1; // a fresh, empty mapping in the child
      continue;
    }
    if (vma.anonVma < 0) continue; // nothing was ever faulted in: vma_needs_copy() is false
    k.anonVmas.link(vma.anonVma, cmm, nv);
    ctx.vma = vma;
    copyPageRange(k, ctx, nv);
  }
  // dup_mmap(): flush_tlb_mm(oldmm) for the write-protected parent PTEs
  flushMm(k, pmm, 'dup_mmap');
  cmm.hasPinned = false;
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
      const shared = copyHugePmd(k, pmm, cmm, v, (pfn, head) => {
        ctx.vpn = v;
        ctx.pfn = pfn;
        ctx.head = head;
        return k.hooks.fork.page.call(ctx) ?? 'share';
      });
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

/** copy_pte_range() → copy_present_pte() / copy_nonpresent_pte(). */
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
  let st = stIn;
  let dt = -1;
  for (let a = start; a < end; a++) {
    const sk = pt.slot(st, pteIndex(a));
    let fl = pt.fl[sk]!;
    if (fl === 0) continue;
    if (dt < 0) {
      dt = pteTableForWrite(k, cmm, a, true, 'fork');
      st = pteTableForWrite(k, pmm, a, false, 'fork'); // the parent's PTEs get write-protected
      k.hooks.pte.beforeChange.call(pmm, start, end, 'fork_wrprotect');
      fl = pt.fl[pt.slot(st, pteIndex(a))]!; // the hardware may have rewritten it
    }
    const sk2 = pt.slot(st, pteIndex(a));
    const val = pt.val[sk2]!;
    k.stats.v[C.fork_pte_copy]!++;
    k.charge(k.hw.costs.pteCopy);
    if ((fl & PTE.present) !== 0) {
      if (val === ZERO_PFN) {
        pt.set(dt, pteIndex(a), val, fl & ~PTE.young);
        continue;
      }
      const head = f.head(val);
      ctx.vpn = a;
      ctx.pfn = val;
      ctx.head = head;
      const d = k.hooks.fork.page.call(ctx) ?? 'share';
      if (d === 'copy') {
        // copy_present_page(): the child gets its own copy now, the parent keeps its page
        const nh = k.allocFolio(0, false);
        f.data[nh] = f.data[val]!;
        k.charge(k.hw.costs.copyPage);
        addNewAnonRmap(k, nh, cmm, dstVma, a, 1);
        lruAdd(k, nh);
        pt.set(dt, pteIndex(a), nh, PTE.present | PTE.write | PTE.dirty | PTE.young);
        k.stats.v[C.fork_page_copy]!++;
        continue;
      }
      // folio_try_dup_anon_rmap_pte(): one more mapping, no longer exclusive
      k.folioGet(head);
      addAnonRmapPtes(k, head, val, 1, cmm);
      f.flags[val]! &= ~PG.anonExclusive;
      let nfl = fl;
      if ((fl & PTE.write) !== 0) {
        nfl = fl & ~PTE.write; // ptep_set_wrprotect(src_mm, ...)
        pt.fl[sk2] = nfl;
      }
      pt.set(
        dt,
        pteIndex(a),
        val,
        (nfl & ~(PTE.young | PTE.uffdWp)) | (dstVma.flags & VM.uffdWp ? nfl & PTE.uffdWp : 0),
      );
    } else if ((fl & PTE.swap) !== 0) {
      // copy_nonpresent_pte(): swap_duplicate(), and neither side stays exclusive
      if (k.swap.count[val] === 0xffff) throw new SimError('swap count overflow', 'internal');
      k.swap.count[val]!++;
      cmm.swapEnts++;
      const nfl = fl & ~PTE.swpExclusive;
      pt.fl[sk2] = nfl;
      pt.set(dt, pteIndex(a), val, nfl & ~PTE.uffdWp);
    }
  }
  if (dt >= 0) {
    k.hooks.pte.afterSet.call(pmm, start, end);
    k.hooks.pte.afterSet.call(cmm, start, end);
  }
}
