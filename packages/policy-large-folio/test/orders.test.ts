import { describe, expect, it } from 'vitest';
import { VM, Vma } from '@mmsim/core';
import largeFolioPolicy, { mthpOrders, rfcOrders } from '../src/index.js';
import { c, cs, mem, run } from './helpers.js';

const vma = (flags = 0) => new Vma(0, 4096, VM.read | VM.write | flags, 0, -1, 'a');

describe('order selection', () => {
  it('mainline mTHP: per-size always / inherit / madvise / never under the top-level switch', () => {
    expect(mthpOrders({ top: 'never' }, vma())).toBe(0);
    expect(mthpOrders({ top: 'always' }, vma())).toBe(1 << 9); // 2048K inherits by default
    expect(mthpOrders({ top: 'never', '64K': 'always' }, vma())).toBe(1 << 4);
    expect(mthpOrders({ top: 'madvise', '64K': 'inherit', '16K': 'madvise' }, vma())).toBe(0);
    expect(mthpOrders({ top: 'madvise', '64K': 'inherit', '16K': 'madvise' }, vma(VM.hugepage))).toBe(
      (1 << 4) | (1 << 2) | (1 << 9),
    );
    expect(mthpOrders({ top: 'always', '64K': 'always', '2048K': 'never' }, vma(VM.nohugepage))).toBe(0);
    expect(rfcOrders({ top: 'never' }, vma(), 4)).toBe(0b11100);
  });

  it('highest enabled order that fits the VMA and the PMD, falling back through smaller orders', () => {
    const thp = { top: 'never', '64K': 'always', '16K': 'always', '2048K': 'always' } as const;
    // 2 MiB-aligned 2 MiB + 72 KiB: one THP, one 64K folio, then 8K as two order-0 pages
    const r = run(
      [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '2120KiB', align: '2MiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 't' },
      ],
      [largeFolioPolicy({ era: 'linux-6.18' })],
      thp,
    );
    expect(
      cs(r, 't', [
        'pgfault',
        'mthp_2048kB_anon_fault_alloc',
        'mthp_64kB_anon_fault_alloc',
        'mthp_16kB_anon_fault_alloc',
      ]),
    ).toEqual({
      pgfault: 1 + 1 + 0 + 2,
      mthp_2048kB_anon_fault_alloc: 1,
      mthp_64kB_anon_fault_alloc: 1,
      mthp_16kB_anon_fault_alloc: 0,
    });
    expect(mem(r, 't')).toMatchObject({ AnonPages: 2120, AnonHugePages: 2048 });
  });

  it('a VMA edge in the middle of a 64K block and a populated neighbour force smaller folios', () => {
    const thp = { top: 'never', '64K': 'always', '16K': 'always' } as const;
    const r = run(
      [
        { op: 'spawn', pid: 'p' },
        // starts 8 KiB into a 64 KiB block: 8K (order 0 x2), 16K, 32K (two 16K), then 64K blocks
        { op: 'mmap', pid: 'p', name: 'a', size: '184KiB', align: '2MiB' },
        { op: 'munmap', pid: 'p', region: 'a', offset: 0, size: '8KiB' },
        { op: 'access', pid: 'p', region: 'a', offset: '128KiB', access: 'write', phase: 'pre' },
        { op: 'touch', pid: 'p', region: 'a', offset: '8KiB', access: 'write', phase: 't' },
      ],
      [largeFolioPolicy({ era: 'linux-6.18' })],
      thp,
    );
    // pre: [128K,192K) is cut by the VMA end (184K) → 16K at [128K,144K)
    expect(c(r, 'pre', 'mthp_16kB_anon_fault_alloc')).toBe(1);
    // [8K,16K): 2 x order 0; [16K,64K): 3 x 16K; [64K,128K): 64K; [144K,176K): 2 x 16K; [176K,184K): 2 x order 0
    expect(cs(r, 't', ['pgfault', 'mthp_64kB_anon_fault_alloc', 'mthp_16kB_anon_fault_alloc'])).toEqual({
      pgfault: 2 + 3 + 1 + 2 + 2 + 0,
      mthp_64kB_anon_fault_alloc: 1,
      mthp_16kB_anon_fault_alloc: 5,
    });
    expect(mem(r, 't').AnonPages).toBe(176);
  });

  it('faults drop by the folio size: ÷4, ÷8, ÷16, ÷512', () => {
    const counts = [16, 32, 64, 2048].map((kb) => {
      const r = run(
        [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '8MiB' },
          { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 't' },
        ],
        [largeFolioPolicy({ era: 'linux-6.18' })],
        { top: 'never', [`${kb}K`]: 'always' },
      );
      return c(r, 't', 'pgfault');
    });
    expect(counts).toEqual([2048 / 4, 2048 / 8, 2048 / 16, 2048 / 512]);
  });
});
