import {
  createSystem,
  exitMmap,
  FlatHardware,
  meminfo,
  PTE,
  PTRS_PER_TABLE,
  ZERO_PFN,
  tableIndex,
  type Kernel,
  type MmPlugin,
  type MmStruct,
  type Process,
} from '@mmsim/core';
import cowPte, { type CowPteOptions, type CowPtePolicy } from '../src/index.js';

/**
 * page_needs_cow_for_dma() at fork (what policy-refcount's 'copy-pinned' rule does in the
 * presets; inlined so the tests need only core): copy a maybe-pinned page into the child.
 */
export const copyPinnedAtFork: MmPlugin = {
  name: 'test-copy-pinned',
  api: '^1.0.0',
  apply(ctx) {
    ctx.hooks.fork.page.tap('test-copy-pinned', (c) =>
      c.parent.hasPinned && c.folio.maybePinned ? 'copy' : undefined,
    );
  },
};

export function cowSystem(opts: CowPteOptions | null = {}, cpus = 2, extra: MmPlugin[] = [copyPinnedAtFork]) {
  const policy = opts ? cowPte(opts) : null;
  const sys = createSystem({
    hardware: new FlatHardware(cpus),
    presetPlugins: extra,
    policies: policy ? [policy] : [],
  });
  return { sys, k: sys.kernel, policy: policy as CowPtePolicy };
}

export function exit(k: Kernel, p: Process): void {
  k.runOn(p.main);
  exitMmap(k, p.mm);
  p.alive = false;
}

/** The PTE tables reachable from mm's pgd: [firstVpn, tableId, pmdFlags]. */
export function pteTables(k: Kernel, mm: MmStruct): Array<[number, number, number]> {
  const pt = k.pt;
  const out: Array<[number, number, number]> = [];
  const walk = (t: number, level: number, base: number) => {
    for (let i = 0; i < PTRS_PER_TABLE; i++) {
      const fl = pt.fl[t * PTRS_PER_TABLE + i]!;
      if ((fl & PTE.table) === 0) continue;
      const child = pt.val[t * PTRS_PER_TABLE + i]!;
      const span = level === 3 ? 134217728 : level === 2 ? 262144 : 512;
      const vb = base + i * span;
      if (level === 1) out.push([vb, child, fl]);
      else walk(child, level - 1, vb);
    }
  };
  walk(mm.pgd, 3, 0);
  return out;
}

/** All tables below the pgd reachable from mm (any level). */
function allTables(k: Kernel, mm: MmStruct): number[] {
  const pt = k.pt;
  const out: number[] = [];
  const walk = (t: number, level: number) => {
    for (let i = 0; i < PTRS_PER_TABLE; i++) {
      const fl = pt.fl[t * PTRS_PER_TABLE + i]!;
      if ((fl & PTE.table) === 0) continue;
      const c = pt.val[t * PTRS_PER_TABLE + i]!;
      out.push(c);
      if (level > 1) walk(c, level - 1);
    }
  };
  walk(mm.pgd, 3);
  return out;
}

/**
 * Check the accounting invariants of the owner model: per mm RSS / MM_SWAPENTS /
 * pgtables_bytes equal what the tables it owns hold; refcount of each table equals its users;
 * each page's mapcount equals the number of tables mapping it; swap counts equal swap PTEs.
 * Returns a list of problems (empty when consistent).
 */
export function invariants(k: Kernel): string[] {
  const pt = k.pt;
  const f = k.f;
  const errs: string[] = [];
  const users = new Map<number, MmStruct[]>();
  const bytes = new Map<number, number>();
  for (const mm of k.mms) {
    if (mm.dead) continue;
    for (const t of allTables(k, mm)) {
      const u = users.get(t) ?? [];
      u.push(mm);
      users.set(t, u);
    }
  }
  const rss = new Map<number, number>();
  const swp = new Map<number, number>();
  const mapc = new Map<number, number>();
  const slots = new Map<number, number>();
  let liveBelowPgd = 0;
  for (const [t, u] of users) {
    liveBelowPgd++;
    if (pt.refcount[t] !== u.length) errs.push(`table ${t}: refcount ${pt.refcount[t]} but ${u.length} users`);
    const owner = pt.owner[t]!;
    if (!u.some((m) => m.id === owner))
      errs.push(`table ${t}: owner ${owner} is not among its users ${u.map((m) => m.id)}`);
    bytes.set(owner, (bytes.get(owner) ?? 0) + 4096);
    if (pt.level[t] !== 0) continue;
    for (let i = 0; i < PTRS_PER_TABLE; i++) {
      const fl = pt.fl[t * PTRS_PER_TABLE + i]!;
      const v = pt.val[t * PTRS_PER_TABLE + i]!;
      if ((fl & PTE.present) !== 0) {
        if (v === ZERO_PFN) continue;
        rss.set(owner, (rss.get(owner) ?? 0) + 1);
        mapc.set(v, (mapc.get(v) ?? 0) + 1);
      } else if ((fl & PTE.swap) !== 0) {
        swp.set(owner, (swp.get(owner) ?? 0) + 1);
        slots.set(v, (slots.get(v) ?? 0) + 1);
      }
    }
  }
  for (const mm of k.mms) {
    if (mm.dead) continue;
    if (mm.rssAnon !== (rss.get(mm.id) ?? 0))
      errs.push(`mm ${mm.id}: rssAnon ${mm.rssAnon}, its tables map ${rss.get(mm.id) ?? 0}`);
    if (mm.swapEnts !== (swp.get(mm.id) ?? 0))
      errs.push(`mm ${mm.id}: swapEnts ${mm.swapEnts}, its tables hold ${swp.get(mm.id) ?? 0}`);
    if (mm.pgtablesBytes !== (bytes.get(mm.id) ?? 0))
      errs.push(`mm ${mm.id}: pgtablesBytes ${mm.pgtablesBytes}, owns ${bytes.get(mm.id) ?? 0}`);
  }
  if (pt.liveAccounted !== liveBelowPgd) errs.push(`liveAccounted ${pt.liveAccounted}, reachable ${liveBelowPgd}`);
  for (let pfn = 0; pfn < f.capacity; pfn++) {
    const want = mapc.get(pfn) ?? 0;
    if (f.mapcount[pfn] !== want) errs.push(`page ${pfn}: mapcount ${f.mapcount[pfn]}, mapped by ${want} tables`);
    if (errs.length > 20) break;
  }
  for (let s = 0; s < k.swap.count.length; s++) {
    const want = slots.get(s) ?? 0;
    if (k.swap.count[s] !== want) errs.push(`swap slot ${s}: count ${k.swap.count[s]}, referenced by ${want} PTEs`);
    if (errs.length > 20) break;
  }
  let anon = 0;
  for (const n of mapc.values()) if (n > 0) anon++;
  if (k.nrAnonMapped !== anon) errs.push(`nrAnonMapped ${k.nrAnonMapped}, mapped pages ${anon}`);
  return errs;
}

export { meminfo, tableIndex };
