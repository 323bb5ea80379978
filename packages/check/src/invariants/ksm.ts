/**
 * KSM (core's kernel/ksm.ts): the stable tree, the folio flags, the rmap_items and the sysfs /
 * ksm_stat counters agree. Every PG_ksm folio is an order-0 anonymous folio with no anon_vma,
 * no PageAnonExclusive page, and the live stable node of the tree that names it; every
 * rmap_item on a node's list is a STABLE item of a registered mm naming that node; the
 * counters are what recounting the structures gives (pages_shared / pages_sharing per node,
 * pages_unshared, rmap_items, ksm_merging_pages); the KSM zero pages are the dirty zero-page
 * PTEs of each mm (v6.6+).
 */
import { PG, PTE, STABLE, UNSTABLE, ZERO_PFN, type Kernel, type StableNode } from '@mmsim/core';
import type { ViolationList } from './violation.js';

export function checkKsm(k: Kernel, v: ViolationList, heads: readonly number[]): void {
  const s = k.ksm;
  if (s === null) return;
  const f = k.f;
  const inTree = new Set<StableNode>();
  for (const chain of s.stable.values()) for (const n of chain) inTree.add(n);
  for (const head of heads) {
    if ((f.flags[head]! & PG.ksm) === 0) continue;
    if ((f.flags[head]! & PG.anon) === 0 || f.order[head] !== 0 || f.anonVma[head] !== -1)
      v.add('ksm', `KSM folio ${head} is not an order-0 anonymous folio without anon_vma`);
    if ((f.flags[head]! & PG.anonExclusive) !== 0) v.add('ksm', `KSM folio ${head} is PageAnonExclusive`);
    // no stable node at all is a state the kernel has too: try_to_merge_two_pages() made it a KSM
    // page, failed on the tree page and break_cow() unshared only this mapping (a fork's other
    // mappings keep it); a stable node it names must be in the tree
    const node = s.nodeOfPfn.get(head);
    if (node !== undefined && (node.kpfn !== head || !inTree.has(node)))
      v.add('ksm', `KSM folio ${head} names a stable node that is not in the stable tree`);
  }
  let shared = 0;
  let sharing = 0;
  for (const n of inTree) {
    if (n.hlist.length > 0) {
      shared++;
      sharing += n.hlist.length - 1;
    }
    for (const it of n.hlist) {
      if (it.flag !== STABLE || it.head !== n)
        v.add('ksm', `rmap_item ${it.vpn.toString(16)} on stable node ${n.kpfn}'s list is not a STABLE item of it`);
      if (!s.slotOf.has(it.mm))
        v.add('ksm', `rmap_item ${it.vpn.toString(16)} of an unregistered mm on stable node ${n.kpfn}`);
    }
  }
  let items = 0;
  let unshared = 0;
  let zero = 0;
  for (const slot of s.slots) {
    const mm = slot.mm;
    let merging = 0;
    for (let i = 0; i < slot.items.length; i++) {
      const it = slot.items[i]!;
      if (i > 0 && slot.items[i - 1]!.vpn >= it.vpn) v.add('ksm', `mm ${mm.id}: rmap_list not in address order`);
      if (it.flag === STABLE) {
        merging++;
        if (it.head === null || !inTree.has(it.head) || !it.head.hlist.includes(it))
          v.add('ksm', `mm ${mm.id}: STABLE rmap_item 0x${it.vpn.toString(16)} is on no stable node's list`);
      } else if (it.flag === UNSTABLE) unshared++;
    }
    items += slot.items.length;
    if (mm.ksmRmapItems !== slot.items.length)
      v.add('ksm', `mm ${mm.id}: ksm_rmap_items ${mm.ksmRmapItems}, but ${slot.items.length} rmap_items`);
    if (mm.ksmMergingPages !== merging)
      v.add('ksm', `mm ${mm.id}: ksm_merging_pages ${mm.ksmMergingPages}, but ${merging} stable rmap_items`);
  }
  if (s.pagesShared !== shared || s.pagesSharing !== sharing)
    v.add(
      'ksm',
      `pages_shared ${s.pagesShared} / pages_sharing ${s.pagesSharing}, but the stable tree gives ${shared} / ${sharing}`,
    );
  if (s.rmapItems !== items) v.add('ksm', `ksm_rmap_items ${s.rmapItems}, but ${items} rmap_items`);
  if (s.pagesUnshared !== unshared)
    v.add('ksm', `pages_unshared ${s.pagesUnshared}, but ${unshared} unstable rmap_items`);
  if (!k.config.features.ksmZeroPages) return;
  for (const mm of k.mms) {
    let n = 0;
    for (const vma of mm.vmas) {
      for (let vpn = vma.start; vpn < vma.end; vpn++) {
        const t = k.pteTable(mm, vpn);
        if (t < 0) {
          vpn += 511 - (vpn % 512); // no PTE table here: skip to the next one
          continue;
        }
        const kk = k.pt.slot(t, vpn % 512);
        if (k.pt.val[kk] === ZERO_PFN && (k.pt.fl[kk]! & (PTE.present | PTE.dirty)) === (PTE.present | PTE.dirty)) n++;
      }
    }
    zero += n;
    if (mm.ksmZeroPages !== n)
      v.add('ksm', `mm ${mm.id}: ksm_zero_pages ${mm.ksmZeroPages}, but ${n} KSM zero-page PTEs`);
  }
  if (s.zeroPages !== zero) v.add('ksm', `ksm_zero_pages ${s.zeroPages}, but ${zero} KSM zero-page PTEs`);
}
