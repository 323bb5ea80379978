/**
 * ksmd's scan (mm/ksm.c): ksm_do_scan() → scan_get_next_rmap_item() → cmp_and_merge_page(),
 * the stable and unstable trees, try_to_merge_one_page() with write_protect_page() and
 * replace_page(). Structures in ksm-state.ts; MADV_(UN)MERGEABLE, PR_SET_MEMORY_MERGE,
 * break_ksm() and the KSM zero-page accounting in ksm-unmerge.ts.
 */
import type { Kernel } from './kernel.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { VM, type Vma } from '../mm/vma.js';
import { PTE } from '../mm/pte.js';
import { PG } from '../mem/folios.js';
import { ZERO_PFN } from '../mem/phys-mem.js';
import { pteIndex } from '../units.js';
import { pteTable, pteTableForWrite } from './pgwalk.js';
import { addAnonRmapPtes, removeRmapPtes } from './rmap.js';
import { lruAddDrainAll } from './lru-batch.js';
import { folioFreeSwap } from './swap-cache.js';
import { flushPage } from './tlb-flush.js';
import { KsmState, MmSlot, RmapItem, STABLE, StableNode, UNSTABLE } from './ksm-state.js';
import { breakCow } from './ksm-unmerge.js';

/** sizeof(struct ksm_rmap_item) on 64-bit, for the profit figures */
export const RMAP_ITEM_SIZE = 64;
const PAGE_SIZE = 4096;

const GAUGES = ['ksm_pages_shared', 'ksm_pages_sharing', 'ksm_pages_unshared', 'ksm_pages_volatile'] as const;

/** KSM's state, created (and its counters defined) the first time a scenario uses KSM. */
export function ksmOf(k: Kernel): KsmState {
  if (k.ksm !== null) return k.ksm;
  const s = new KsmState(k.config.ksm ?? {});
  const ft = k.config.features;
  if (!ft.ksmSmartScan) s.knobs.smart_scan = false;
  const names: string[] = [...GAUGES, 'ksm_full_scans'];
  if (ft.ksmSmartScan) names.push('ksm_pages_scanned', 'ksm_pages_skipped');
  if (ft.ksmZeroPages) names.push('ksm_zero_pages');
  if (ft.ksmProfit) names.push('ksm_general_profit');
  for (const n of names) s.ids[n] = k.stats.define(n);
  k.ksm = s;
  return s;
}

/**
 * The sysfs gauges as counters (like mthp nr_anon): set to their value now, so a phase shows
 * the change over it and `total` the value at the end. pages_volatile = rmap_items - shared -
 * sharing - unshared (pages_volatile_show()); general_profit as general_profit_show().
 */
export function ksmPublish(k: Kernel): void {
  const s = k.ksm;
  if (s === null) return;
  const v = k.stats.v;
  v[s.ids.ksm_pages_shared!] = s.pagesShared;
  v[s.ids.ksm_pages_sharing!] = s.pagesSharing;
  v[s.ids.ksm_pages_unshared!] = s.pagesUnshared;
  v[s.ids.ksm_pages_volatile!] = s.rmapItems - s.pagesShared - s.pagesSharing - s.pagesUnshared;
  if (s.ids.ksm_zero_pages !== undefined) v[s.ids.ksm_zero_pages] = s.zeroPages;
  if (s.ids.ksm_general_profit !== undefined)
    v[s.ids.ksm_general_profit] =
      (s.pagesSharing + (k.config.features.ksmZeroPages ? s.zeroPages : 0)) * PAGE_SIZE - s.rmapItems * RMAP_ITEM_SIZE;
}

/**
 * __ksm_enter(): register mm with ksmd, just behind the scan cursor (scanned last in this
 * round); with run = 2 (KSM_RUN_UNMERGE) at the end of the list.
 */
export function ksmEnter(k: Kernel, mm: MmStruct): void {
  const s = ksmOf(k);
  if (mm.ksmMergeable) return;
  mm.ksmMergeable = true;
  const slot = new MmSlot(mm);
  const at = s.cursor === null || s.knobs.run === 2 ? s.slots.length : s.slots.indexOf(s.cursor);
  s.slots.splice(at, 0, slot);
  s.slotOf.set(mm, slot);
}

/** Drop mm's slot and its rmap_items (__ksm_exit() / a scan that found no VM_MERGEABLE VMA). */
export function ksmDropSlot(k: Kernel, slot: MmSlot): void {
  const s = k.ksm!;
  removeTrailingRmapItems(k, slot, 0);
  const i = s.slots.indexOf(slot);
  if (s.cursor === slot) {
    s.cursor = s.slots[i + 1] ?? null;
    s.address = 0;
    s.pos = 0;
  }
  s.slots.splice(i, 1);
  s.slotOf.delete(slot.mm);
  slot.mm.ksmMergeable = false;
}

/** find_mergeable_vma(): the VM_MERGEABLE VMA with an anon_vma at vpn. */
export function findMergeableVma(mm: MmStruct, vpn: number): Vma | undefined {
  const vma = mm.findVma(vpn);
  if (!vma || (vma.flags & VM.mergeable) === 0 || vma.anonVma < 0) return undefined;
  return vma;
}

/** follow_page() / folio_walk_start() of ksmd: the PFN of the anonymous page mapped at vpn, else -1. */
function followAnonPage(k: Kernel, mm: MmStruct, vpn: number): number {
  const t = pteTable(k, mm, vpn);
  if (t < 0) return -1; // no table, or a PMD-mapped THP (not merged in this model)
  const kk = k.pt.slot(t, pteIndex(vpn));
  if ((k.pt.fl[kk]! & PTE.present) === 0) return -1;
  const pfn = k.pt.val[kk]!;
  if (pfn === ZERO_PFN) return -1;
  const fl = k.f.flags[k.f.head(pfn)]!;
  return (fl & PG.anon) !== 0 && (fl & PG.filemap) === 0 ? pfn : -1;
}

/** ksm_do_scan(): up to `n` pages; returns how many it scanned (fewer at the end of a full scan). */
export function ksmDoScan(k: Kernel, n: number): number {
  const s = ksmOf(k);
  const saved = k.cpu;
  k.cpu = k.cpus.length - 1; // ksmd runs on the last CPU, as kswapd does
  let done = 0;
  try {
    while (done < n) {
      k.condResched(1);
      const item = scanGetNextRmapItem(k, s);
      if (item === null) break;
      cmpAndMergePage(k, s, scanPfn, item);
      done++;
      if (s.ids.ksm_pages_scanned !== undefined) k.stats.v[s.ids.ksm_pages_scanned]!++;
    }
  } finally {
    k.cpu = saved;
    ksmPublish(k);
  }
  return done;
}

/** the page scan_get_next_rmap_item() returned with its rmap_item */
let scanPfn = -1;

/**
 * scan_get_next_rmap_item(): the next anonymous page of a VM_MERGEABLE VMA, in mm-list and
 * address order, with its rmap_item (created on first sight; items of addresses no longer
 * mapped are freed on the way). A new full scan drains every CPU's LRU batches (their
 * references would fail write_protect_page()'s count) and empties the unstable tree; the end
 * of one counts full_scans and returns null.
 */
function scanGetNextRmapItem(k: Kernel, s: KsmState): RmapItem | null {
  if (s.slots.length === 0) return null;
  if (s.cursor === null) {
    lruAddDrainAll(k);
    s.unstable.clear();
    s.cursor = s.slots[0]!;
    s.address = 0;
    s.pos = 0;
  }
  for (;;) {
    const slot = s.cursor!;
    const mm = slot.mm;
    for (const vma of mm.vmas) {
      if (vma.end <= s.address) continue;
      if ((vma.flags & VM.mergeable) === 0) continue;
      if (s.address < vma.start) s.address = vma.start;
      if (vma.anonVma < 0) {
        s.address = vma.end;
        continue;
      }
      while (s.address < vma.end) {
        const vpn = s.address;
        const pfn = followAnonPage(k, mm, vpn);
        if (pfn >= 0) {
          const item = getNextRmapItem(k, s, slot, vpn);
          if (shouldSkipRmapItem(k, s, pfn, item)) {
            s.address++;
            continue;
          }
          s.address++;
          scanPfn = pfn;
          return item;
        }
        s.address++;
      }
    }
    // no VM_MERGEABLE VMA left above: nuke the trailing rmap_items
    removeTrailingRmapItems(k, slot, s.pos);
    const i = s.slots.indexOf(slot);
    const next = s.slots[i + 1] ?? null;
    if (s.address === 0 && !mm.ksmMergeAny) {
      // a whole pass found no VM_MERGEABLE VMA: remove the mm from ksmd's list (as __ksm_exit)
      s.slots.splice(i, 1);
      s.slotOf.delete(mm);
      mm.ksmMergeable = false;
    }
    s.cursor = next;
    s.address = 0;
    s.pos = 0;
    if (next === null) {
      s.seqnr++;
      k.stats.v[s.ids.ksm_full_scans!]!++;
      return null;
    }
  }
}

/** get_next_rmap_item(): the item for vpn at the rmap_list cursor, freeing the stale ones before it. */
function getNextRmapItem(k: Kernel, s: KsmState, slot: MmSlot, vpn: number): RmapItem {
  const items = slot.items;
  while (s.pos < items.length && items[s.pos]!.vpn < vpn) {
    const it = items[s.pos]!;
    items.splice(s.pos, 1);
    freeRmapItem(k, s, it);
  }
  const have = items[s.pos];
  if (have !== undefined && have.vpn === vpn) {
    s.pos++;
    return have;
  }
  const item = new RmapItem(slot.mm, vpn);
  items.splice(s.pos, 0, item);
  s.pos++;
  s.rmapItems++;
  slot.mm.ksmRmapItems++;
  return item;
}

/** remove_trailing_rmap_items(): free the slot's rmap_items from position `from` on. */
export function removeTrailingRmapItems(k: Kernel, slot: MmSlot, from: number): void {
  const s = k.ksm!;
  const gone = slot.items.splice(from);
  for (const it of gone) freeRmapItem(k, s, it);
}

function freeRmapItem(k: Kernel, s: KsmState, it: RmapItem): void {
  removeRmapItemFromTree(k, it);
  s.rmapItems--;
  it.mm.ksmRmapItems--;
}

/** should_skip_rmap_item() (smart scan, v6.7): pages that did not merge are skipped for more and more scans. */
function shouldSkipRmapItem(k: Kernel, s: KsmState, pfn: number, item: RmapItem): boolean {
  if (!s.knobs.smart_scan) return false;
  if ((k.f.flags[k.f.head(pfn)]! & PG.ksm) !== 0) return false;
  const age = item.age;
  if (age !== 255) item.age++;
  if (age < 3) return false;
  if (item.remainingSkips === 0) {
    item.remainingSkips = age <= 3 ? 1 : age <= 5 ? 2 : age <= 8 ? 4 : 8; // skip_age()
    return false;
  }
  s.pagesSkipped++;
  if (s.ids.ksm_pages_skipped !== undefined) k.stats.v[s.ids.ksm_pages_skipped]!++;
  item.remainingSkips--;
  removeRmapItemFromTree(k, item);
  return true;
}

/**
 * remove_rmap_item_from_tree(): take the item off its stable node's list (pages_shared or
 * pages_sharing one less) or out of the unstable tree (pages_unshared one less; the tree
 * entry only if it was inserted in this scan).
 */
export function removeRmapItemFromTree(k: Kernel, item: RmapItem): void {
  const s = k.ksm!;
  if (item.flag === STABLE) {
    const node = item.head!;
    if (!ksmGetFolio(k, s, node)) return; // stale: remove_node_from_stable_tree() cleared it
    node.hlist.splice(node.hlist.indexOf(item), 1);
    if (node.hlist.length > 0) s.pagesSharing--;
    else s.pagesShared--;
    item.mm.ksmMergingPages--;
    item.head = null;
    item.flag = 0;
  } else if (item.flag === UNSTABLE) {
    if (s.unstable.get(item.treeKey) === item && item.seqnr === s.seqnr) s.unstable.delete(item.treeKey);
    s.pagesUnshared--;
    item.flag = 0;
  }
}

/**
 * ksm_get_folio(): the node's KSM folio if it still is one (folio->mapping still names this
 * stable node); a stale node (the folio was freed, or reused as a plain anonymous page) is
 * removed from the stable tree (remove_node_from_stable_tree()).
 */
export function ksmGetFolio(k: Kernel, s: KsmState, node: StableNode): boolean {
  const fl = k.f.flags[node.kpfn]!;
  if ((fl & PG.allocated) !== 0 && (fl & PG.ksm) !== 0 && s.nodeOfPfn.get(node.kpfn) === node) return true;
  for (let i = 0; i < node.hlist.length; i++) {
    const it = node.hlist[i]!;
    if (i < node.hlist.length - 1) s.pagesSharing--;
    else s.pagesShared--;
    it.mm.ksmMergingPages--;
    it.head = null;
    it.flag = 0;
  }
  node.hlist.length = 0;
  const chain = s.stable.get(node.key);
  if (chain) {
    const j = chain.indexOf(node);
    if (j >= 0) chain.splice(j, 1);
    if (chain.length === 0) s.stable.delete(node.key);
  }
  if (s.nodeOfPfn.get(node.kpfn) === node) s.nodeOfPfn.delete(node.kpfn);
  return false;
}

/**
 * cmp_and_merge_page(): first the stable tree (a KSM page with this content, or this page's
 * own when it is a KSM page a fork left mapped), then the checksum rule (a page must not have
 * changed since the last scan to go further), the zero page (use_zero_pages), then the
 * unstable tree: an identical page there is merged with this one into a new KSM page.
 */
function cmpAndMergePage(k: Kernel, s: KsmState, pfn: number, item: RmapItem): void {
  const f = k.f;
  const own = (f.flags[pfn]! & PG.ksm) !== 0 ? (s.nodeOfPfn.get(pfn) ?? null) : null;
  if (own !== null && item.head === own && ksmGetFolio(k, s, own)) return;
  const kpfn = stableTreeSearch(k, s, pfn);
  removeRmapItemFromTree(k, item);
  if (kpfn >= 0) {
    if (tryToMergeWithKsmPage(k, item, pfn, kpfn)) stableTreeAppend(s, item, s.nodeOfPfn.get(kpfn)!);
    return;
  }
  const checksum = f.data[pfn]!; // calc_checksum(): the page's contents
  if (item.oldchecksum !== checksum) {
    item.oldchecksum = checksum;
    return;
  }
  // try_to_merge_with_zero_page()
  if (s.knobs.use_zero_pages && checksum === 0) {
    const vma = findMergeableVma(item.mm, item.vpn);
    if (!vma || tryToMergeOnePage(k, item.mm, vma, item.vpn, pfn, ZERO_PFN)) return;
  }
  const tree = unstableTreeSearchInsert(k, s, item, pfn);
  if (tree === null) return;
  // try_to_merge_two_pages(): this page becomes the KSM page, the tree's page is replaced by it
  if (!tryToMergeWithKsmPage(k, item, pfn, -1)) return;
  if (!tryToMergeWithKsmPage(k, tree, treePfn, pfn)) {
    breakCow(k, item);
    return;
  }
  const node = stableTreeInsert(k, s, pfn);
  stableTreeAppend(s, tree, node);
  stableTreeAppend(s, item, node);
}

/** stable_tree_search(): the KSM page for pfn's contents with room for one more mapping, else -1. */
function stableTreeSearch(k: Kernel, s: KsmState, pfn: number): number {
  const own = (k.f.flags[pfn]! & PG.ksm) !== 0 ? s.nodeOfPfn.get(pfn) : undefined;
  if (own !== undefined && ksmGetFolio(k, s, own)) return pfn; // a KSM page forked
  const chain = s.stable.get(k.f.data[pfn]!);
  if (!chain) return -1;
  // stable_node_dup(): prune stale dups, pick the fullest sharing candidate
  // (is_page_sharing_candidate(): at least one mapping left, fewer than max_page_sharing)
  let best: StableNode | null = null;
  for (const dup of [...chain]) {
    if (!ksmGetFolio(k, s, dup)) continue;
    const len = dup.hlist.length;
    if (len > 0 && len < s.knobs.max_page_sharing && (best === null || len > best.hlist.length)) best = dup;
  }
  return best === null ? -1 : best.kpfn;
}

let treePfn = -1;

/**
 * unstable_tree_search_insert(): an item of this scan whose page has the same contents (and
 * is still a mergeable anonymous page, not this very page), else insert this item.
 * Approximation: the tree is a map by contents, so an entry whose page changed since it was
 * inserted is replaced instead of walked past.
 */
function unstableTreeSearchInsert(k: Kernel, s: KsmState, item: RmapItem, pfn: number): RmapItem | null {
  const key = k.f.data[pfn]!;
  const tree = s.unstable.get(key);
  if (tree !== undefined) {
    // get_mergeable_page()
    const tp = findMergeableVma(tree.mm, tree.vpn) ? followAnonPage(k, tree.mm, tree.vpn) : -1;
    if (tp < 0 || tp === pfn) return null;
    if (k.f.data[tp] === key) {
      treePfn = tp;
      return tree;
    }
  }
  s.unstable.set(key, item);
  item.flag = UNSTABLE;
  item.treeKey = key;
  item.seqnr = s.seqnr;
  s.pagesUnshared++;
  return null;
}

/** try_to_merge_with_ksm_page(): merge the item's page with kpfn (-1: make it a KSM page itself). */
function tryToMergeWithKsmPage(k: Kernel, item: RmapItem, pfn: number, kpfn: number): boolean {
  const vma = findMergeableVma(item.mm, item.vpn);
  if (!vma) return false;
  if (!tryToMergeOnePage(k, item.mm, vma, item.vpn, pfn, kpfn)) return false;
  removeRmapItemFromTree(k, item);
  return true;
}

/**
 * try_to_merge_one_page(): write-protect the page, then either make it a KSM page (kpfn -1:
 * PG_ksm with no stable node yet, dirty so reclaim would swap it) or, when the contents are
 * identical, replace its PTE by one of kpfn (a KSM page or the zero page). Large folios are
 * not split for KSM in this model: they do not merge.
 */
function tryToMergeOnePage(k: Kernel, mm: MmStruct, vma: Vma, vpn: number, pfn: number, kpfn: number): boolean {
  if (pfn === kpfn) return true; // a KSM page forked
  const f = k.f;
  const head = f.head(pfn);
  if ((f.flags[head]! & PG.anon) === 0 || f.order[head]! > 0) return false;
  if (!writeProtectPage(k, mm, vma, vpn, pfn)) return false;
  if (kpfn < 0) {
    f.flags[head]! |= PG.ksm | PG.dirty; // folio_set_stable_node(folio, NULL); SetPageDirty
    f.anonVma[head] = -1; // folio->mapping: the stable node (none yet), no anon_vma
    k.ksm!.nodeOfPfn.delete(head); // a stable node of an earlier life of this frame is stale
    return true;
  }
  const same = kpfn === ZERO_PFN ? f.data[pfn] === 0 : f.data[kpfn] === f.data[pfn];
  return same && replacePage(k, mm, vma, vpn, pfn, kpfn);
}

/**
 * write_protect_page(): clear the PTE and flush, check that nothing but the mappings and the
 * swap cache holds the page (`folio_mapcount() + 1 + swapped != folio_ref_count()`, the 1
 * being ksmd's own reference, not counted here: a GUP pin or an LRU-batch reference fails
 * it), share an exclusive page (folio_try_share_anon_rmap_pte()), then map it read-only and
 * clean (the dirty bit moves to the folio).
 */
function writeProtectPage(k: Kernel, mm: MmStruct, vma: Vma, vpn: number, pfn: number): boolean {
  const f = k.f;
  const head = f.head(pfn);
  const t = pteTableForWrite(k, mm, vpn, false, 'madvise');
  if (t < 0) return false;
  const i = pteIndex(vpn);
  const kk = k.pt.slot(t, i);
  const fl = k.pt.fl[kk]!;
  if ((fl & PTE.present) === 0 || k.pt.val[kk] !== pfn) return false;
  const exclusive = (f.flags[pfn]! & PG.anonExclusive) !== 0;
  if ((fl & (PTE.write | PTE.dirty)) === 0 && !exclusive) return true;
  const swapped = (f.flags[head]! & PG.swapcache) !== 0 ? 1 : 0;
  if (f.folioMapcount(head) + swapped !== f.ref[head] || (exclusive && f.maybeDmaPinned(head))) return false;
  k.hooks.pte.beforeChange.call(mm, vpn, vpn + 1, 'write_protect_page');
  k.pt.clear(t, i);
  flushPage(k, mm, vpn, 'write_protect_page'); // ptep_clear_flush()
  f.flags[pfn]! &= ~PG.anonExclusive;
  if ((fl & PTE.dirty) !== 0) f.flags[head]! |= PG.dirty;
  k.pt.set(t, i, pfn, fl & ~(PTE.write | PTE.dirty));
  k.charge(k.hw.costs.pteUpdate);
  k.hooks.pte.afterSet.call(mm, vpn, vpn + 1);
  return true;
}

/**
 * replace_page(): map kpfn instead of pfn (mk_pte(kpage, vma->vm_page_prot): read-only,
 * soft-dirty and uffd-wp bits not kept); the zero page with pte_mkdirty() where KSM zero pages
 * are tracked (v6.6: ksm_map_zero_page()). The old page loses its mapping and reference.
 */
function replacePage(k: Kernel, mm: MmStruct, vma: Vma, vpn: number, pfn: number, kpfn: number): boolean {
  const t = pteTableForWrite(k, mm, vpn, false, 'madvise');
  if (t < 0) return false;
  const i = pteIndex(vpn);
  const kk = k.pt.slot(t, i);
  if (k.pt.val[kk] !== pfn || (k.pt.fl[kk]! & PTE.present) === 0) return false;
  const f = k.f;
  const protNone = (vma.flags & (VM.read | VM.write)) === 0 ? PTE.protNone : 0;
  let fl = PTE.present | PTE.young | protNone;
  if (kpfn !== ZERO_PFN) {
    k.folioGet(kpfn);
    addAnonRmapPtes(k, kpfn, kpfn, 1, mm);
  } else if (k.config.features.ksmZeroPages) {
    fl |= PTE.dirty;
    mm.ksmZeroPages++;
    k.ksm!.zeroPages++;
  }
  k.hooks.pte.beforeChange.call(mm, vpn, vpn + 1, 'replace_page');
  k.pt.clear(t, i);
  flushPage(k, mm, vpn, 'replace_page');
  k.pt.set(t, i, kpfn, fl);
  k.charge(k.hw.costs.pteUpdate);
  k.hooks.pte.afterSet.call(mm, vpn, vpn + 1);
  const head = f.head(pfn);
  removeRmapPtes(k, head, pfn, 1, mm);
  if (f.folioMapcount(head) === 0) folioFreeSwap(k, head);
  k.folioPut(head);
  return true;
}

/** stable_tree_insert(): a stable node for the new KSM page kpfn (another dup when the content has a full one). */
function stableTreeInsert(k: Kernel, s: KsmState, kpfn: number): StableNode {
  const key = k.f.data[kpfn]!;
  const node = new StableNode(kpfn, key);
  const chain = s.stable.get(key);
  if (chain) chain.push(node);
  else s.stable.set(key, [node]);
  s.nodeOfPfn.set(kpfn, node);
  return node;
}

/** stable_tree_append(): the first mapping counts in pages_shared, the others in pages_sharing. */
function stableTreeAppend(s: KsmState, item: RmapItem, node: StableNode): void {
  item.head = node;
  item.flag = STABLE;
  node.hlist.push(item);
  if (node.hlist.length > 1) s.pagesSharing++;
  else s.pagesShared++;
  item.mm.ksmMergingPages++;
}
