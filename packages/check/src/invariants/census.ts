/**
 * A census of every page table reachable from the live address spaces: which PFNs and swap
 * slots are referenced by PTEs, how often, and which mm each table is charged to.
 *
 * The shared-table model (copy-on-write PTE tables, policy-cowpte): a PTE table reachable from
 * several mms (pt.refcount > 1) is visited once. Its entries count once towards mapcounts,
 * refcounts and swap counts (the table, not each mm, holds the mapping), and its entries are
 * charged (RSS, MM_SWAPENTS) to the table's owner mm (`pt.owner`). A table reached from one mm
 * only is charged to that mm. `tableRefs` counts the PMD entries pointing at each table, which
 * must equal the table's refcount.
 */
import { PG, PTE, PTRS_PER_TABLE, ZERO_PFN, type Kernel, type MmStruct } from '@mmsim/core';
import { FAST } from '../fast-paths.js';

export interface MmCensus {
  mm: MmStruct;
  /** present PTEs mapping anonymous (non-zero-page) frames, charged to this mm */
  rss: number;
  /** swap PTEs charged to this mm */
  swapEnts: number;
  /** present PTEs mapping page-cache folios of regular files / of shmem (MM_FILEPAGES / MM_SHMEMPAGES) */
  fileRss: number;
  shmemRss: number;
}

export interface Census {
  /** per PFN: present PTE mappings (PTE-level leaves) */
  pteMaps: Map<number, number>;
  /** per folio head: PMD-level leaf mappings (entire mappings) */
  pmdMaps: Map<number, number>;
  /** per swap slot: swap PTEs referencing it */
  swapRefs: Map<number, number>;
  /** per table id (below the pgd): entries in live tables one level up pointing at it */
  tableRefs: Map<number, number>;
  /** per mm */
  mms: Map<MmStruct, MmCensus>;
  /** problems found during the walk itself (writable zero page, dangling entries, ...) */
  problems: Array<{ kind: string; message: string }>;
  /** present leaves that are effectively writable (every level's write bit set), per PFN */
  writableMaps: Map<number, number>;
}

// local copies: hot loops below must not go through module bindings (vitest turns those into getters)
const N = PTRS_PER_TABLE;
const T_TABLE = PTE.table;
const T_PRESENT = PTE.present;
const T_WRITE = PTE.write;
const T_SWAP = PTE.swap;
const T_PROTNONE = PTE.protNone;
const ZERO = ZERO_PFN;
const ALLOCATED = PG.allocated;
const FILEMAP = PG.filemap;
const SWAPBACKED = PG.swapbacked;

const inc = (m: Map<number, number>, k: number, n = 1): void => {
  m.set(k, (m.get(k) ?? 0) + n);
};

export function takeCensus(k: Kernel): Census {
  const c: Census = {
    pteMaps: new Map(),
    pmdMaps: new Map(),
    swapRefs: new Map(),
    tableRefs: new Map(),
    mms: new Map(),
    problems: [],
    writableMaps: new Map(),
  };
  const visited = new Set<number>();
  const byId = new Map<number, MmStruct>();
  for (const mm of k.mms) {
    byId.set(mm.id, mm);
    c.mms.set(mm, { mm, rss: 0, swapEnts: 0, fileRss: 0, shmemRss: 0 });
  }
  const pt = k.pt;
  const f = k.f;
  // pt.fl as float64 words (two 32-bit entries each), to skip empty entries two at a time (fast-paths.ts)
  const quads =
    FAST.censusQuads && pt.fl.BYTES_PER_ELEMENT === 4 && pt.fl.byteOffset % 8 === 0 && pt.fl.length % 2 === 0
      ? new Float64Array(pt.fl.buffer, pt.fl.byteOffset, pt.fl.length >> 1)
      : null;
  const SPAN = [1, 512, 512 * 512, 512 * 512 * 512];
  const walk = (
    mm: MmStruct,
    table: number,
    level: number,
    writable: boolean,
    base: number,
    owner: MmStruct | null,
  ): void => {
    const span = SPAN[level]!;
    // pt.used counts the non-empty entries (PageTablePool.set/clear keep it): stop after the last
    const used = pt.used[table]!;
    let seen = 0;
    const b = table * N;
    const fls = pt.fl;
    const vals = pt.val;
    for (let i = 0; i < N && seen < used; i++) {
      // two empty entries at once: a table's 512 flags are 256 aligned float64 words, and a word
      // of all-zero bits is +0 (`=== 0` alone would take -0, flags 0x80000000 in the second entry, too)
      if (quads !== null && (i & 1) === 0) {
        const q = quads[(b + i) >> 1]!;
        if (q === 0 && 1 / q > 0) {
          i += 1;
          continue;
        }
      }
      const fl = fls[b + i]!;
      if (fl === 0) continue;
      seen++;
      const val = vals[b + i]!;
      const vpn = base + i * span;
      if ((fl & T_TABLE) !== 0) {
        if (level === 0) {
          c.problems.push({ kind: 'pagetable', message: `PTE-level entry ${i} of table ${table} has the table bit` });
          continue;
        }
        inc(c.tableRefs, val);
        if (pt.refcount[val]! <= 0) {
          c.problems.push({
            kind: 'pagetable',
            message: `mm ${mm.id}: entry for page 0x${vpn.toString(16)} points at freed table ${val}`,
          });
          continue;
        }
        if (pt.level[val] !== level - 1) {
          c.problems.push({
            kind: 'pagetable',
            message: `mm ${mm.id}: level-${level} entry points at table ${val} of level ${pt.level[val]}`,
          });
          continue;
        }
        // a shared table (or any table reached twice) is walked once: entries count once
        if (visited.has(val)) continue;
        visited.add(val);
        const shared = pt.refcount[val]! > 1;
        if (shared && (fl & T_WRITE) !== 0) {
          c.problems.push({
            kind: 'pagetable',
            message: `mm ${mm.id}: shared table ${val} (refcount ${pt.refcount[val]}) is writable at the level above`,
          });
        }
        walk(
          mm,
          val,
          level - 1,
          writable && (fl & T_WRITE) !== 0,
          vpn,
          shared ? (byId.get(pt.owner[val]!) ?? null) : owner,
        );
        continue;
      }
      if ((fl & T_PRESENT) !== 0) {
        if (val === ZERO) {
          if ((fl & T_WRITE) !== 0 && writable)
            c.problems.push({
              kind: 'zero-page',
              message: `mm ${mm.id}: page 0x${vpn.toString(16)} maps the shared zero page writable`,
            });
          continue;
        }
        if (k.mem.isZeroPfn(val)) continue;
        if ((f.flags[f.head(val)]! & ALLOCATED) === 0) {
          c.problems.push({
            kind: 'use-after-free',
            message: `mm ${mm.id}: page 0x${vpn.toString(16)} maps pfn ${val}, which is free`,
          });
          continue;
        }
        if (level === 0) {
          inc(c.pteMaps, val);
          const hfl = f.flags[f.head(val)]!;
          if (owner) {
            const mc = c.mms.get(owner)!;
            if ((hfl & FILEMAP) === 0) mc.rss++;
            else if ((hfl & SWAPBACKED) !== 0) mc.shmemRss++;
            else mc.fileRss++;
          }
          if ((fl & T_WRITE) !== 0 && writable && (fl & T_PROTNONE) === 0) inc(c.writableMaps, val);
        } else {
          inc(c.pmdMaps, f.head(val));
          if (owner) c.mms.get(owner)!.rss += span;
        }
      } else if ((fl & T_SWAP) !== 0) {
        inc(c.swapRefs, val);
        if (owner) c.mms.get(owner)!.swapEnts++;
      }
    }
    if (seen !== used)
      c.problems.push({
        kind: 'pagetable',
        message: `table ${table} (level ${level}) counts ${used} used entries but has ${seen}`,
      });
  };
  for (const mm of k.mms) {
    if (pt.refcount[mm.pgd]! <= 0) {
      c.problems.push({ kind: 'pagetable', message: `mm ${mm.id}: its pgd ${mm.pgd} is freed` });
      continue;
    }
    walk(mm, mm.pgd, 3, true, 0, mm);
  }
  // shmem's swap entries in i_pages hold a swap count each (shmem_writeout())
  for (const as of k.pageCache.spaces)
    for (let i = 0; i < as.swap.length; i++) if (as.swap[i]! >= 0) inc(c.swapRefs, as.swap[i]!);
  return c;
}
