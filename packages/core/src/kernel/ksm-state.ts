/**
 * KSM's structures (mm/ksm.c): the sysfs knobs, one ksm_mm_slot per registered mm with its
 * rmap_list (one ksm_rmap_item per scanned anonymous page, sorted by address), the unstable
 * tree (reset every full scan), the stable tree of stable nodes (one per KSM page, with the
 * rmap_items mapping it; a chain of dups per content once max_page_sharing is reached) and the
 * scan cursor (struct ksm_scan). Page contents are one value per page, so "the tree ordered by
 * memcmp_pages()" is a map keyed by that value. The mechanism is in ksm.ts and ksm-unmerge.ts.
 */
import type { MmStruct } from '../mm/mm-struct.js';

/** /sys/kernel/mm/ksm knobs (system.ksm, the `ksm` step). */
export interface KsmConfig {
  /** 0 stop, 1 merge (ksmd scans), 2 unmerge everything (KSM_RUN_UNMERGE) */
  run: 0 | 1 | 2;
  pages_to_scan: number;
  use_zero_pages: boolean;
  max_page_sharing: number;
  /** v6.7+ (5e924ff54d08), default on */
  smart_scan: boolean;
}

export const KSM_DEFAULTS: Readonly<KsmConfig> = Object.freeze({
  run: 0,
  pages_to_scan: 100,
  use_zero_pages: false,
  max_page_sharing: 256,
  smart_scan: true,
});

/** struct ksm_rmap_item. `flag`: the UNSTABLE_FLAG / STABLE_FLAG bits of rmap_item->address. */
export class RmapItem {
  /** calc_checksum() of the last scan; -1 before the first (a fresh item never matches) */
  oldchecksum = -1;
  flag: 0 | typeof UNSTABLE | typeof STABLE = 0;
  /** the unstable tree's key (the content when it was inserted) and the scan it was inserted in */
  treeKey = 0;
  seqnr = 0;
  /** the stable node whose rmap list holds it (rmap_item->head) */
  head: StableNode | null = null;
  /** smart scan (v6.7): rmap_item->age and ->remaining_skips */
  age = 0;
  remainingSkips = 0;
  constructor(
    readonly mm: MmStruct,
    readonly vpn: number,
  ) {}
}

export const UNSTABLE = 1;
export const STABLE = 2;

/** struct ksm_stable_node: a KSM page (kpfn) and the rmap_items that mapped it when merged. */
export class StableNode {
  readonly hlist: RmapItem[] = [];
  constructor(
    readonly kpfn: number,
    /** the content: its key in the stable tree */
    readonly key: number,
  ) {}
}

/** struct ksm_mm_slot: a registered mm and its rmap_list (address order). */
export class MmSlot {
  readonly items: RmapItem[] = [];
  constructor(readonly mm: MmStruct) {}
}

export class KsmState {
  readonly knobs: KsmConfig;
  /** ksm_mm_head's list, in scan order */
  readonly slots: MmSlot[] = [];
  readonly slotOf = new Map<MmStruct, MmSlot>();
  /** ksm_scan: the slot being scanned (null = ksm_mm_head: between full scans), address, rmap_list position */
  cursor: MmSlot | null = null;
  address = 0;
  pos = 0;
  /** ksm_scan.seqnr: full scans done */
  seqnr = 0;
  /** root_unstable_tree: content → rmap_item */
  readonly unstable = new Map<number, RmapItem>();
  /** root_stable_tree: content → stable node, or its chain of dups (max_page_sharing) */
  readonly stable = new Map<number, StableNode[]>();
  /** folio->mapping of a KSM folio: its stable node (stale once the folio is freed or reused) */
  readonly nodeOfPfn = new Map<number, StableNode>();
  /** ksm_pages_shared, ksm_pages_sharing, ksm_pages_unshared, ksm_rmap_items, ksm_zero_pages, ksm_pages_skipped */
  pagesShared = 0;
  pagesSharing = 0;
  pagesUnshared = 0;
  rmapItems = 0;
  zeroPages = 0;
  pagesSkipped = 0;
  /** counter ids (kernel/ksm.ts ksmPublish) */
  readonly ids: Record<string, number> = {};

  constructor(knobs: Partial<KsmConfig>) {
    this.knobs = { ...KSM_DEFAULTS, ...knobs };
  }
}
