/**
 * Memory cgroup charges (kernel/memcontrol.ts), for each declared cgroup:
 *
 *   memory.current      == pages of the folios charged to it (folio->memcg_data)
 *                          + page-table pages charged to it (memcg kmem)
 *   memory.swap.current == swap slots whose swap_cgroup record names it
 *   anon (NR_ANON_MAPPED) == mapped pages of its folios
 *   pagetables          == its page-table pages
 *   every page of a folio carries the head's memcg; its lruvec is the memcg's (checkLru)
 */
import type { Kernel } from '@mmsim/core';
import type { ViolationList } from './violation.js';

export function checkMemcg(k: Kernel, v: ViolationList, heads: readonly number[]): void {
  const n = k.memcgs.length;
  if (n === 1) return;
  const f = k.f;
  const memory = new Float64Array(n);
  const anon = new Float64Array(n);
  const tables = new Float64Array(n);
  const swap = new Float64Array(n);
  for (const head of heads) {
    const id = f.memcg[head]!;
    const nr = 1 << f.order[head]!;
    memory[id]! += nr;
    const thp = f.entireMapcount[head]! > 0;
    for (let i = 0; i < nr; i++) {
      if (f.memcg[head + i] !== id)
        v.add('memcg', `page ${head + i} of folio ${head} (memcg ${id}) is charged to memcg ${f.memcg[head + i]}`);
      if (thp || f.mapcount[head + i]! > 0) anon[id]!++;
    }
  }
  const pt = k.pt;
  for (let id = 0; id < pt.level.length; id++) {
    if (pt.refcount[id]! > 0 && pt.level[id]! < 3 && pt.memcg[id]! !== 0) {
      memory[pt.memcg[id]!]!++;
      tables[pt.memcg[id]!]!++;
    }
  }
  const sw = k.swap;
  for (let s = 0; s < sw.memcg.length; s++) if (sw.memcg[s] !== 0) swap[sw.memcg[s]!]!++;
  for (let id = 1; id < n; id++) {
    const m = k.memcgs[id]!;
    const name = `cgroup "${m.name}"`;
    if (m.memory !== memory[id])
      v.add('memcg', `${name}: memory.current is ${m.memory} pages, but its folios and page tables hold ${memory[id]}`);
    if (m.swap !== swap[id])
      v.add('memcg', `${name}: memory.swap.current is ${m.swap} pages, but ${swap[id]} swap slots are recorded for it`);
    if (m.anon !== anon[id])
      v.add('memcg', `${name}: anon is ${m.anon} pages, but ${anon[id]} of its pages are mapped`);
    if (m.pagetables !== tables[id])
      v.add('memcg', `${name}: pagetables is ${m.pagetables} pages, but it is charged ${tables[id]} page-table pages`);
  }
}
