/**
 * UFFDIO_MOVE → move_pages() (mm/userfaultfd.c, adc30b2a1bbf, v6.8): remap exclusive anonymous
 * pages from one address to another of the same mm without copying them.
 */
import { SimError, type Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { C } from '../stats/counters.js';
import { pteIndex } from '../units.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { anonVmaPrepare } from './rmap.js';
import { flushPage } from './tlb-flush.js';

const UFFD_VM = VM.uffdMissing | VM.uffdWp | VM.uffdMinor;

/**
 * move_pages(): both ranges inside one VMA each (-ENOENT without a VMA, -EINVAL across VMAs),
 * not overlapping; validate_move_areas(): anonymous, private, the same access flags, the source
 * writable, the destination registered with userfaultfd (-EINVAL). Per page (move_pages_pte()):
 * a destination PTE that is not none is -EEXIST; a none source -ENOENT unless
 * UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES; a folio that is not PageAnonExclusive or may be pinned
 * -EBUSY. move_present_pte(): ptep_clear_flush() of the source, folio_move_anon_rmap() and
 * folio->index = linear_page_index(dst_vma, dst_addr), and the destination PTE
 * pte_mkwrite(pte_mkdirty()) ("follow mremap() behavior"). The zero page moves as
 * move_zeropage_pte().
 */
export function uffdMove(k: Kernel, mm: MmStruct, dst: number, src: number, nr: number, allowSrcHoles: boolean): void {
  k.charge(k.hw.costs.syscall);
  const hex = (v: number) => `0x${v.toString(16)}`;
  const dv = mm.findVma(dst);
  const sv = mm.findVma(src);
  if (!dv || !sv)
    throw new SimError(
      `uffdMove: page ${hex(dv ? src : dst)} is not mapped (ENOENT)`,
      'enoent',
      dv ? 'from' : 'region',
    );
  if (dst + nr > dv.end || src + nr > sv.end)
    throw new SimError(
      'uffdMove: a range spans more than one VMA (EINVAL)',
      'einval',
      dst + nr > dv.end ? 'region' : 'from',
    );
  if (src < dst + nr && dst < src + nr) throw new SimError('uffdMove: the ranges overlap (EINVAL)', 'einval', 'from');
  const access = VM.read | VM.write;
  if (sv.file !== null || dv.file !== null || (sv.flags & VM.shared) !== 0)
    throw new SimError('uffdMove: both ranges must be private anonymous memory (EINVAL)', 'einval', 'from');
  if ((sv.flags & access) !== (dv.flags & access) || (sv.flags & VM.write) === 0)
    throw new SimError('uffdMove: the ranges need the same protection, and writable (EINVAL)', 'einval', 'from');
  if ((dv.flags & UFFD_VM) === 0)
    throw new SimError('uffdMove: the destination is not registered with userfaultfd (EINVAL)', 'einval', 'region');
  const pt = k.pt;
  const f = k.f;
  for (let i = 0; i < nr; i++) {
    k.condResched(1);
    const s = src + i;
    const d = dst + i;
    const st0 = pteTable(k, mm, s);
    if (st0 === -2)
      throw new SimError('uffdMove: moving a PMD-mapped THP (move_pages_huge_pmd) is not modelled', 'internal');
    const sfl = st0 >= 0 ? pt.fl[pt.slot(st0, pteIndex(s))]! : 0;
    const dt0 = pteTable(k, mm, d);
    if (dt0 === -2 || (dt0 >= 0 && pt.fl[pt.slot(dt0, pteIndex(d))] !== 0))
      throw new SimError(`uffdMove: page ${hex(d)} is already populated (EEXIST)`, 'eexist', 'region');
    if (sfl === 0) {
      if (allowSrcHoles) continue;
      throw new SimError(`uffdMove: page ${hex(s)} is not populated (ENOENT)`, 'enoent', 'from');
    }
    if ((sfl & PTE.present) === 0)
      throw new SimError('uffdMove: moving a swap entry or PTE marker (move_swap_pte) is not modelled', 'internal');
    const pfn = pt.val[pt.slot(st0, pteIndex(s))]!;
    if (pfn !== ZERO_PFN) {
      const head = f.head(pfn);
      if ((f.flags[head]! & PG.anon) === 0 || (f.flags[pfn]! & PG.anonExclusive) === 0)
        throw new SimError(`uffdMove: page ${hex(s)} is not an exclusive anonymous page (EBUSY)`, 'ebusy', 'from');
      if (f.order[head]! > 0)
        throw new SimError('uffdMove: moving a large folio (split_folio() first) is not modelled', 'internal');
      if (f.maybeDmaPinned(head)) throw new SimError(`uffdMove: page ${hex(s)} may be pinned (EBUSY)`, 'ebusy', 'from');
    }
    const dt = pteTableForWrite(k, mm, d, true, 'uffd_copy');
    const st = pteTableForWrite(k, mm, s, false, 'uffd_copy');
    k.hooks.pte.beforeChange.call(mm, s, s + 1, 'uffd_copy');
    pt.clear(st, pteIndex(s));
    k.charge(k.hw.costs.pteUpdate);
    flushPage(k, mm, s, 'uffd_move');
    if (pfn === ZERO_PFN) {
      pt.set(dt, pteIndex(d), ZERO_PFN, PTE.present | PTE.young);
    } else {
      // folio_move_anon_rmap() and the new linear index
      f.anonVma[pfn] = anonVmaPrepare(k, mm, dv);
      f.index[pfn] = dv.pgoffOf(d);
      pt.set(dt, pteIndex(d), pfn, PTE.present | PTE.young | PTE.write | PTE.dirty | k.sd);
    }
    k.charge(k.hw.costs.pteUpdate);
    k.hooks.pte.afterSet.call(mm, s, s + 1);
    k.hooks.pte.afterSet.call(mm, d, d + 1);
    k.stats.v[C.uffd_move]!++;
  }
}
