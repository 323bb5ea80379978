/**
 * Multi-gen LRU invariants (the kernel's seq_is_valid(), lru_gen_update_size()'s accounting,
 * and what VM_WARN_ON_ONCE_FOLIO() asserts in scan_folios() / inc_min_seq()):
 *   MIN_NR_GENS <= max_seq - min_seq[type] + 1 <= MAX_NR_GENS, for anon and file
 *   each folio with PG_lru sits on exactly one lrugen->folios[gen][type] list, of its type,
 *     with no PG_active, a generation in [min_seq[type], max_seq] and not older than its list's
 *     (a folio promoted by the page-table walk waits for sort_folio() on an older list)
 *   the lists of generations outside [min_seq[type], max_seq] are empty; the classic lists too
 *   nr_pages[gen][type] == the pages of the folios of that generation; NR_ACTIVE_ANON ==
 *     those of the two youngest, NR_INACTIVE_ANON == the rest
 */
import {
  LRU,
  LRU_GEN_MASK,
  LRU_LIST_MASK,
  LRU_LIST_SHIFT,
  lruGenList,
  MAX_NR_GENS,
  MIN_NR_GENS,
  PG,
  type Kernel,
} from '@mmsim/core';
import type { ViolationList } from './violation.js';

/** the sequence number of generation `gen` for `type`, -1 when not in use */
function seqOf(k: Kernel, gen: number, type: number): number {
  const g = k.lrugen!;
  for (let seq = g.minSeq[type]!; seq <= g.maxSeq; seq++) if (seq % MAX_NR_GENS === gen) return seq;
  return -1;
}

export function checkLruGen(k: Kernel, v: ViolationList, heads: readonly number[]): void {
  const g = k.lrugen!;
  const f = k.f;
  for (let type = 0; type < 2; type++) {
    const n = g.maxSeq - g.minSeq[type]! + 1;
    if (n < MIN_NR_GENS || n > MAX_NR_GENS)
      v.add('lru', `lru_gen: ${n} generations of type ${type} (min_seq ${g.minSeq[type]}, max_seq ${g.maxSeq})`);
  }
  for (let lru = 0; lru < 4; lru++) {
    if (k.lruvec.first[lru] !== 0) v.add('lru', `lru_gen: the classic LRU list ${lru} is not empty`);
  }
  const onList = new Set<number>();
  const pages = new Float64Array(MAX_NR_GENS * 2);
  for (let gen = 0; gen < MAX_NR_GENS; gen++) {
    for (let type = 0; type < 2; type++) {
      const listSeq = seqOf(k, gen, type);
      for (const head of k.lruvec.list(lruGenList(gen, type))) {
        const fl = f.flags[head]!;
        const fgen = (f.lruGen[head]! & LRU_GEN_MASK) - 1;
        const lgen = ((f.lruGen[head]! & LRU_LIST_MASK) >> LRU_LIST_SHIFT) - 1;
        // lazyfree (MADV_FREE) folios are of the file type (folio_is_file_lru())
        const ftype = (fl & PG.anon) !== 0 && (fl & PG.lazyfree) === 0 ? 0 : 1;
        const where = `lru_gen: folio ${head} on the list of gen ${gen} type ${type}`;
        if (onList.has(head)) v.add('lru', `${where} is on more than one list`);
        onList.add(head);
        if ((fl & PG.lru) === 0) v.add('lru', `${where} has no PG_lru`);
        if ((fl & PG.active) !== 0) v.add('lru', `${where} has PG_active`);
        if (ftype !== type) v.add('lru', `${where} is of type ${ftype}`);
        if (lgen !== gen) v.add('lru', `${where} records list gen ${lgen}`);
        if (listSeq < 0) v.add('lru', `${where}: gen ${gen} is outside [min_seq, max_seq]`);
        const fseq = fgen < 0 ? -1 : seqOf(k, fgen, ftype);
        if (fseq < 0) v.add('lru', `${where} has generation ${fgen}, outside [min_seq, max_seq]`);
        else if (fseq < listSeq) v.add('lru', `${where} has the older generation ${fgen}`);
        if (fgen >= 0) pages[fgen * 2 + ftype]! += 1 << f.order[head]!;
      }
    }
  }
  for (const head of heads) {
    const fl = f.flags[head]!;
    // an unevictable folio is on the (classic, unlinked) unevictable list: checkUnevictable()
    if ((fl & PG.lru) !== 0 && (fl & PG.unevictable) === 0 && !onList.has(head))
      v.add('lru', `lru_gen: folio ${head} has PG_lru but is on no list`);
  }
  let active = 0;
  let inactive = 0;
  for (let gen = 0; gen < MAX_NR_GENS; gen++) {
    for (let type = 0; type < 2; type++) {
      const want = pages[gen * 2 + type]!;
      if (g.nrPages[gen * 2 + type] !== want)
        v.add(
          'lru',
          `lru_gen: nr_pages[${gen}][${type}] is ${g.nrPages[gen * 2 + type]}, the folios add up to ${want}`,
        );
    }
    const anon = pages[gen * 2]!;
    if (gen === g.maxSeq % MAX_NR_GENS || gen === (g.maxSeq - 1) % MAX_NR_GENS) active += anon;
    else inactive += anon;
  }
  const p = k.lruvec.pages;
  if (p[LRU.activeAnon] !== active || p[LRU.inactiveAnon] !== inactive)
    v.add(
      'lru',
      `lru_gen: LRU sizes inactive ${p[LRU.inactiveAnon]} / active ${p[LRU.activeAnon]} pages, the generations give ${inactive} / ${active}`,
    );
}
