import { describe, expect, it } from 'vitest';
import { definePlugin, HUGE_ZERO_PFN, hugePmdSlot, type MmPlugin } from '../src/index.js';
import { ctr, ctrs, mem, runSys } from './helpers.js';

/** order 9 allowed on every fault (like `2048K: always`), plus a huge-zero write rule */
const thp = (hugeZeroThp = false): MmPlugin =>
  definePlugin({
    name: 'thp-test',
    api: '^1.0.0',
    apply: (sys) => {
      sys.hooks.fault.anonOrders.tap('thp-test', (o) => o | (1 << 9));
      if (hugeZeroThp) sys.hooks.fault.cowOrder.tap('thp-test', (o, vmf) => (vmf.level === 'pmd' ? 9 : o));
    },
  });

const MiB2 = 2 * 1024 * 1024;

describe('PMD-mapped THP', () => {
  it('a write fault maps an order-9 folio with one PMD: AnonHugePages, deposited table in PageTables', () => {
    const { r, sys } = runSys(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '4MiB' },
          { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 't' },
        ],
      },
      { policies: [thp()] },
    );
    expect(ctrs(r, 't', ['pgfault', 'thp_fault_alloc', 'mthp_2048kB_anon_fault_alloc', 'pgalloc'])).toEqual({
      pgfault: 2,
      thp_fault_alloc: 2,
      mthp_2048kB_anon_fault_alloc: 2,
      pgalloc: 1024,
    });
    const m = mem(r, 't');
    expect(m.AnonHugePages).toBe(4096);
    expect(m.AnonPages).toBe(4096);
    // PUD + PMD table + 2 deposited PTE tables
    expect(m.PageTables).toBe(4 * 4);
    expect(m.processes.p!.VmPTE).toBe(16);
    const mm = sys.kernel.procs.get('p')!.mm;
    const vma = mm.vmas[0]!;
    expect(hugePmdSlot(sys.kernel, mm, vma.start)).toBeGreaterThanOrEqual(0);
    expect(sys.kernel.translate(mm, vma.start + 5, true)).toBe(sys.kernel.translate(mm, vma.start, true) + 5);
  });

  it('falls back to PTEs when the aligned 2 MiB does not fit the VMA', () => {
    const { r } = runSys(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '3MiB', align: '2MiB' },
          { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 't' },
        ],
      },
      { policies: [thp()] },
    );
    expect(ctrs(r, 't', ['pgfault', 'thp_fault_alloc'])).toEqual({ pgfault: 1 + 256, thp_fault_alloc: 1 });
    expect(mem(r, 't').AnonHugePages).toBe(2048);
    expect(mem(r, 't').AnonPages).toBe(3072);
  });

  it('read faults map the huge zero page (thp_zero_page_alloc once); a write splits it (mainline < 6.14) or allocates a THP', () => {
    const steps = [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'a', size: '4MiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'read', phase: 'read' },
      { op: 'access', pid: 'p', region: 'a', offset: 4096, access: 'read', expect: 0 },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', size: '4KiB', phase: 'write' },
    ];
    const split = runSys({ name: 't', steps }, { policies: [thp(false)] }).r;
    expect(ctrs(split, 'read', ['pgfault', 'thp_zero_page_alloc', 'thp_fault_alloc'])).toEqual({
      pgfault: 2,
      thp_zero_page_alloc: 1,
      thp_fault_alloc: 0,
    });
    expect(mem(split, 'read').AnonPages).toBe(0);
    expect(mem(split, 'read').PageTables).toBe(16);
    expect(ctrs(split, 'write', ['pgfault', 'thp_split_pmd', 'cow_zero', 'thp_fault_alloc'])).toEqual({
      pgfault: 1,
      thp_split_pmd: 1,
      cow_zero: 1,
      thp_fault_alloc: 0,
    });
    expect(mem(split, 'write').AnonPages).toBe(4);
    const huge = runSys({ name: 't', steps }, { policies: [thp(true)] }).r;
    expect(ctrs(huge, 'write', ['pgfault', 'thp_split_pmd', 'thp_fault_alloc'])).toEqual({
      pgfault: 1,
      thp_split_pmd: 0,
      thp_fault_alloc: 1,
    });
    expect(mem(huge, 'write').AnonHugePages).toBe(2048);
    expect(mem(huge, 'write').PageTables).toBe(16);
  });

  it('fork shares the PMD; a child write splits its PMD and copies one page; contents stay isolated', () => {
    const { r } = runSys(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '2MiB' },
          { op: 'access', pid: 'p', region: 'a', offset: 8192, access: 'write', value: 7 },
          { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
          { op: 'access', pid: 'c', region: 'a', offset: 8192, access: 'write', value: 9, phase: 'cow' },
          { op: 'access', pid: 'p', region: 'a', offset: 8192, access: 'read', expect: 7 },
          { op: 'access', pid: 'c', region: 'a', offset: 8192, access: 'read', expect: 9 },
          { op: 'exit', pid: 'c', phase: 'exit' },
          { op: 'access', pid: 'p', region: 'a', offset: 0, access: 'write', value: 1, phase: 'reuse' },
          { op: 'access', pid: 'p', region: 'a', offset: 8192, access: 'read', expect: 7 },
        ],
      },
      { policies: [thp()] },
    );
    expect(r.checks.failed).toBe(0);
    expect(mem(r, 'fork').AnonHugePages).toBe(2048);
    expect(mem(r, 'fork').PageTables).toBe(2 * 12);
    expect(ctrs(r, 'cow', ['thp_split_pmd', 'cow_copy'])).toEqual({ thp_split_pmd: 1, cow_copy: 1 });
    // the parent's PMD still maps the whole folio; the child maps 511 of its pages + 1 copy
    expect(mem(r, 'cow').AnonPages).toBe(2048 + 4);
    expect(mem(r, 'cow').AnonHugePages).toBe(2048);
    // after the child's exit the folio's only reference is the parent's PMD: reused whole
    expect(ctrs(r, 'reuse', ['pgfault', 'pgreuse', 'thp_split_pmd', 'cow_copy'])).toEqual({
      pgfault: 1,
      pgreuse: 1,
      thp_split_pmd: 0,
      cow_copy: 0,
    });
    expect(mem(r, 'reuse').AnonPages).toBe(2048);
    expect(mem(r, 'reuse').MemUsed).toBe(2048);
  });

  it('partial munmap / mprotect / madvise(dontneed) split the PMD; the folio goes on the deferred split queue', () => {
    const base = [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'a', size: '2MiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write' },
    ];
    const un = runSys(
      {
        name: 't',
        steps: [
          ...base,
          { op: 'munmap', pid: 'p', region: 'a', offset: '1MiB', size: '64KiB', phase: 'x' },
          { op: 'access', pid: 'p', region: 'a', offset: '1088KiB', access: 'read' },
        ],
      },
      { policies: [thp()] },
    ).r;
    expect(ctrs(un, 'x', ['thp_split_pmd', 'thp_deferred_split_page'])).toEqual({
      thp_split_pmd: 1,
      thp_deferred_split_page: 1,
    });
    expect(mem(un, 'x').AnonHugePages).toBe(0);
    expect(mem(un, 'x').AnonPages).toBe(2048 - 64);
    expect(mem(un, 'x').MemUsed).toBe(2048);
    const mp = runSys(
      {
        name: 't',
        steps: [...base, { op: 'mprotect', pid: 'p', region: 'a', offset: 0, size: '1MiB', prot: 'r', phase: 'x' }],
      },
      { policies: [thp()] },
    ).r;
    expect(ctrs(mp, 'x', ['thp_split_pmd', 'thp_deferred_split_page'])).toEqual({
      thp_split_pmd: 1,
      thp_deferred_split_page: 0,
    });
    expect(mem(mp, 'x').AnonPages).toBe(2048);
    const whole = runSys(
      {
        name: 't',
        steps: [
          ...base,
          { op: 'mprotect', pid: 'p', region: 'a', prot: 'r', phase: 'x' },
          { op: 'access', pid: 'p', region: 'a', access: 'read', offset: 4096 },
        ],
      },
      { policies: [thp()] },
    ).r;
    expect(ctrs(whole, 'x', ['thp_split_pmd'])).toEqual({ thp_split_pmd: 0 });
    expect(mem(whole, 'x').AnonHugePages).toBe(2048);
    const dn = runSys(
      {
        name: 't',
        steps: [
          ...base,
          { op: 'madvise', pid: 'p', region: 'a', offset: '4KiB', size: '4KiB', advice: 'dontneed', phase: 'x' },
        ],
      },
      { policies: [thp()] },
    ).r;
    expect(ctrs(dn, 'x', ['thp_split_pmd', 'thp_deferred_split_page'])).toEqual({
      thp_split_pmd: 1,
      thp_deferred_split_page: 1,
    });
    expect(mem(dn, 'x').AnonPages).toBe(2044);
    const all = runSys(
      { name: 't', steps: [...base, { op: 'madvise', pid: 'p', region: 'a', advice: 'dontneed', phase: 'x' }] },
      { policies: [thp()] },
    ).r;
    expect(ctrs(all, 'x', ['thp_split_pmd', 'pgfree'])).toEqual({ thp_split_pmd: 0, pgfree: 512 });
    expect(mem(all, 'x')).toMatchObject({ AnonPages: 0, AnonHugePages: 0, MemUsed: 0, PageTables: 8 });
  });

  it('exit frees the THP and the deposited table', () => {
    const { r, sys } = runSys(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '2MiB' },
          { op: 'touch', pid: 'p', region: 'a', access: 'write' },
          { op: 'exit', pid: 'p', phase: 'x' },
        ],
      },
      { policies: [thp()] },
    );
    expect(mem(r, 'x')).toMatchObject({ AnonPages: 0, AnonHugePages: 0, MemUsed: 0, PageTables: 0 });
    expect(sys.kernel.pt.liveAccounted).toBe(0);
  });

  it('mremap moves a whole PMD with its deposited table', () => {
    const { r } = runSys(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '2MiB' },
          { op: 'access', pid: 'p', region: 'a', offset: 4096, access: 'write', value: 5 },
          { op: 'mremap', pid: 'p', region: 'a', to: 'b', phase: 'x' },
          { op: 'access', pid: 'p', region: 'b', offset: 4096, access: 'read', expect: 5 },
        ],
      },
      { policies: [thp()] },
    );
    expect(r.checks.failed).toBe(0);
    expect(ctr(r, 'x', 'thp_split_pmd')).toBe(0);
    expect(mem(r, 'x').AnonHugePages).toBe(2048);
  });

  it('MADV_PAGEOUT swaps a PMD-mapped THP out whole; MADV_COLLAPSE builds one from small pages', () => {
    const { r } = runSys(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '2MiB' },
          { op: 'access', pid: 'p', region: 'a', offset: 4096, access: 'write', value: 5 },
          { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout', phase: 'out' },
          { op: 'access', pid: 'p', region: 'a', offset: 4096, access: 'read', expect: 5, phase: 'in' },
          { op: 'touch', pid: 'p', region: 'a', access: 'read', phase: 'in' },
          { op: 'madvise', pid: 'p', region: 'a', advice: 'collapse', phase: 'collapse' },
          { op: 'access', pid: 'p', region: 'a', offset: 4096, access: 'read', expect: 5, phase: 'after' },
        ],
      },
      { policies: [thp()] },
    );
    expect(r.checks.failed).toBe(0);
    expect(ctrs(r, 'out', ['pswpout', 'thp_split_pmd', 'thp_swpout'])).toEqual({
      pswpout: 512,
      thp_split_pmd: 1,
      thp_swpout: 1,
    });
    expect(mem(r, 'out')).toMatchObject({ AnonPages: 0, AnonHugePages: 0, MemUsed: 0 });
    expect(ctr(r, 'in', 'pswpin')).toBe(512);
    expect(ctr(r, 'collapse', 'thp_collapse_alloc')).toBe(1);
    expect(mem(r, 'collapse')).toMatchObject({ AnonPages: 2048, AnonHugePages: 2048, MemUsed: 2048 });
  });

  it('a pinned THP is copied page by page at fork; the pin keeps seeing the parent', () => {
    const copyPinned = definePlugin({
      name: 'copy-pinned',
      api: '^1.0.0',
      apply: (sys) =>
        sys.hooks.fork.page.tap('copy-pinned', (ctx) =>
          ctx.parent.hasPinned && ctx.folio.maybePinned ? 'copy' : undefined,
        ),
    });
    const { r } = runSys(
      {
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '2MiB' },
          { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1 },
          { op: 'pin', pid: 'p', region: 'a', size: '4KiB', write: false, id: 'pin' },
          { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
          { op: 'access', pid: 'p', region: 'a', access: 'write', value: 2 },
          { op: 'readPin', id: 'pin', expect: 2 },
          { op: 'access', pid: 'c', region: 'a', access: 'read', expect: 1 },
        ],
      },
      { policies: [thp(), copyPinned] },
    );
    expect(r.checks.failed).toBe(0);
    expect(ctrs(r, 'fork', ['thp_split_pmd', 'fork_page_copy'])).toEqual({ thp_split_pmd: 1, fork_page_copy: 512 });
  });
});

it('HUGE_ZERO_PFN is reserved', () => expect(HUGE_ZERO_PFN).toBe(512));
