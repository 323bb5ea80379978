import { describe, expect, it } from 'vitest';
import { ctr, ctrs, mem, run, runError } from './helpers.js';

const head = [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'thread', pid: 'p', cpu: 1, spin: true },
  { op: 'mmap', pid: 'p', name: 'a', size: '32KiB' },
  // fresh values 1..8, one per page in order
  { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 'touch' },
];
const expectB = [0, 1, 2, 3].map((i) => ({
  op: 'access',
  pid: 'p',
  region: 'b',
  offset: i * 4096,
  access: 'read',
  expect: 5 + i,
}));

describe('mremap (move_vma / move_page_tables)', () => {
  it('moves the PTEs: contents preserved, the rest of the old region intact, one flush of the old range', () => {
    const r = run({
      name: 'mremap',
      steps: [
        ...head,
        { op: 'mremap', pid: 'p', region: 'a', offset: '16KiB', size: '16KiB', to: 'b', phase: 'move' },
        ...expectB,
        { op: 'access', pid: 'p', region: 'a', offset: '12KiB', access: 'read', expect: 4 },
      ],
    });
    expect(
      ctrs(r, 'move', [
        'mremap_pte_move',
        'pgalloc',
        'pgfault',
        'nr_tlb_remote_flush',
        'pgtable_alloc',
        'pgtable_free',
      ]),
    ).toEqual({
      mremap_pte_move: 4,
      pgalloc: 0,
      pgfault: 0,
      nr_tlb_remote_flush: 1,
      // the new range gets its own PTE table; the old one still serves a[0..16KiB)
      pgtable_alloc: 1,
      pgtable_free: 0,
    });
    expect(mem(r, 'move')).toMatchObject({ AnonPages: 32, PageTables: 16 });
    expect(r.checks).toEqual({ passed: 5, failed: 0, failures: [] });
  });

  it('the old range is unmapped', () => {
    const err = runError({
      name: 'old-range',
      steps: [
        ...head,
        { op: 'mremap', pid: 'p', region: 'a', offset: '16KiB', size: '16KiB', to: 'b' },
        { op: 'access', pid: 'p', region: 'a', offset: '20KiB', access: 'read' },
      ],
    });
    expect(err.message).toMatch(/steps\[5\]/);
    expect(err.message).toMatch(/segmentation fault/);
  });

  it('moving a whole region frees its old PTE table', () => {
    const r = run({
      name: 'whole',
      steps: [...head, { op: 'mremap', pid: 'p', region: 'a', offset: 0, size: '32KiB', to: 'b', phase: 'move' }],
    });
    expect(ctrs(r, 'move', ['mremap_pte_move', 'pgtable_alloc', 'pgtable_free'])).toEqual({
      mremap_pte_move: 8,
      pgtable_alloc: 1,
      pgtable_free: 1,
    });
    expect(mem(r, 'move')).toMatchObject({ PageTables: 12 });
  });

  it('rmap still finds moved pages: pageout after mremap, then read back', () => {
    const r = run({
      name: 'mremap-pageout',
      steps: [
        ...head,
        { op: 'mremap', pid: 'p', region: 'a', offset: '16KiB', size: '16KiB', to: 'b' },
        { op: 'madvise', pid: 'p', region: 'b', advice: 'pageout', phase: 'pageout' },
        { op: 'phase', name: 'read' },
        ...expectB,
      ],
    });
    expect(ctrs(r, 'pageout', ['pswpout', 'pgsteal', 'reclaim_keep'])).toEqual({
      pswpout: 4,
      pgsteal: 4,
      reclaim_keep: 0,
    });
    expect(mem(r, 'pageout')).toMatchObject({ AnonPages: 16, MemUsed: 16 });
    expect(mem(r, 'pageout').processes.p!.VmSwap).toBe(16);
    expect(ctrs(r, 'read', ['pswpin', 'pgmajfault'])).toEqual({ pswpin: 4, pgmajfault: 4 });
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
    expect(ctr(r, 'read', 'pgfault')).toBe(4);
  });
});
