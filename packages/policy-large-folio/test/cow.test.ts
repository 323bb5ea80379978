import { describe, expect, it } from 'vitest';
import largeFolioPolicy, { ERAS, LargeFolioPolicy, unsafeRfcCow, type Era } from '../src/index.js';
import { c, cs, mem, run } from './helpers.js';

const T64 = { top: 'never', '64K': 'always' } as const;
const pol = (era: Era, extra = {}) => [largeFolioPolicy({ era, ...extra })];

/** 256 KiB = four 64K folios; fork; the child exits; the parent rewrites everything. */
const forkExitRewrite = [
  { op: 'spawn', pid: 'p' },
  { op: 'mmap', pid: 'p', name: 'a', size: '256KiB', align: '2MiB' },
  { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1, phase: 'touch' },
  { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
  { op: 'exit', pid: 'c', phase: 'fork' },
  { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 2, phase: 'rewrite' },
  { op: 'touch', pid: 'p', region: 'a', access: 'read', phase: 'check' },
];

describe('CoW and reuse of PTE-mapped large folios per era', () => {
  it('fork + child exit + rewrite: 6.8 copies every page, 6.18 reuses page by page, the RFC reuses whole folios', () => {
    const r68 = run(forkExitRewrite, pol('linux-6.8'), T64);
    expect(cs(r68, 'rewrite', ['pgfault', 'cow_copy', 'pgreuse'])).toEqual({ pgfault: 64, cow_copy: 64, pgreuse: 0 });
    expect(mem(r68, 'rewrite')).toMatchObject({ AnonPages: 256, MemUsed: 256 });
    const r618 = run(forkExitRewrite, pol('linux-6.18'), T64);
    expect(cs(r618, 'rewrite', ['pgfault', 'cow_copy', 'pgreuse'])).toEqual({ pgfault: 64, cow_copy: 0, pgreuse: 64 });
    expect(mem(r618, 'rewrite')).toMatchObject({ AnonPages: 256, MemUsed: 256 });
    const rfc = run(forkExitRewrite, pol('rfc-v2'));
    expect(cs(rfc, 'rewrite', ['pgfault', 'cow_copy', 'pgreuse', 'pgreuse_range'])).toEqual({
      pgfault: 4,
      cow_copy: 0,
      pgreuse: 4,
      pgreuse_range: 4,
    });
    // contpte-friendly 6.18: the first reuse makes the whole exclusive folio writable
    const cont = run(forkExitRewrite, pol('linux-6.18', { contpteReuse: true }), T64);
    expect(cs(cont, 'rewrite', ['pgfault', 'pgreuse', 'pgreuse_range'])).toEqual({
      pgfault: 4,
      pgreuse: 4,
      pgreuse_range: 4,
    });
  });

  it('child writes after fork: mainline copies one page, the RFC copies the 64K range', () => {
    const steps = [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'a', size: '64KiB', align: '64KiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1 },
      { op: 'fork', pid: 'p', child: 'c' },
      { op: 'touch', pid: 'c', region: 'a', access: 'write', value: 2, phase: 'child' },
      { op: 'access', pid: 'p', region: 'a', offset: '4KiB', access: 'read', expect: 1, phase: 'check' },
      { op: 'access', pid: 'p', region: 'a', offset: '60KiB', access: 'read', expect: 1, phase: 'check' },
      { op: 'access', pid: 'c', region: 'a', offset: '60KiB', access: 'read', expect: 2, phase: 'check' },
    ];
    for (const era of ['linux-6.8', 'linux-6.18'] as const) {
      const r = run(steps, pol(era), T64);
      expect(r.checks.failed).toBe(0);
      expect(cs(r, 'child', ['pgfault', 'cow_copy'])).toEqual({ pgfault: 16, cow_copy: 16 });
      expect(mem(r, 'child').AnonPages).toBe(128);
    }
    const rfc = run(steps, pol('rfc-v2'));
    expect(rfc.checks.failed).toBe(0);
    expect(cs(rfc, 'child', ['pgfault', 'cow_copy', 'cow_copy_pages', 'mthp_64kB_anon_fault_alloc'])).toEqual({
      pgfault: 1,
      cow_copy: 1,
      cow_copy_pages: 16,
      mthp_64kB_anon_fault_alloc: 1,
    });
    // the parent's folio is still shared by nobody: the parent now reuses it whole
    expect(mem(rfc, 'child')).toMatchObject({ AnonPages: 128, MemUsed: 128 });
  });

  it('write to the zero page: mainline allocates one page, the RFC its preferred order', () => {
    const steps = [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'a', size: '128KiB', align: '64KiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'read', phase: 'read' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 'write' },
    ];
    const main = run(steps, pol('linux-6.18'), T64);
    expect(cs(main, 'read', ['pgfault'])).toEqual({ pgfault: 32 });
    expect(cs(main, 'write', ['pgfault', 'cow_zero'])).toEqual({ pgfault: 32, cow_zero: 32 });
    const rfc = run(steps, pol('rfc-v2'));
    expect(cs(rfc, 'write', ['pgfault', 'cow_zero', 'mthp_64kB_anon_fault_alloc'])).toEqual({
      pgfault: 2,
      cow_zero: 2,
      mthp_64kB_anon_fault_alloc: 2,
    });
    expect(mem(rfc, 'write').AnonPages).toBe(128);
  });

  it('huge zero page write: 6.8 splits and copies one page, 6.18 allocates a THP', () => {
    const steps = [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'a', size: '2MiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'read', phase: 'read' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 'write' },
    ];
    const thp = { top: 'always' } as const;
    const r68 = run(steps, pol('linux-6.8'), thp);
    expect(cs(r68, 'write', ['pgfault', 'thp_split_pmd', 'cow_zero'])).toEqual({
      pgfault: 512,
      thp_split_pmd: 1,
      cow_zero: 512,
    });
    expect(mem(r68, 'write')).toMatchObject({ AnonPages: 2048, AnonHugePages: 0 });
    const r618 = run(steps, pol('linux-6.18'), thp);
    expect(cs(r618, 'write', ['pgfault', 'thp_split_pmd', 'thp_fault_alloc'])).toEqual({
      pgfault: 1,
      thp_split_pmd: 0,
      thp_fault_alloc: 1,
    });
    expect(mem(r618, 'write')).toMatchObject({ AnonPages: 2048, AnonHugePages: 2048, PageTables: 12 });
  });

  it("Barry Song's last sub-page: the pre-fix rule keeps every old folio alive (2x memory)", () => {
    const steps = [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'a', size: '4MiB' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 'touch' },
      { op: 'fork', pid: 'p', child: 'c' },
      { op: 'exit', pid: 'c' },
      { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 'rewrite' },
    ];
    const thp = { top: 'never', '1024K': 'always' } as const;
    const before = run(steps, pol('linux-6.8-rc'), thp);
    expect(mem(before, 'rewrite').MemUsed).toBe(4096 + 4096 - 4 * 4);
    expect(cs(before, 'rewrite', ['cow_copy', 'pgreuse'])).toEqual({ cow_copy: 1020, pgreuse: 4 });
    const fixed = run(steps, pol('linux-6.8'), thp);
    expect(mem(fixed, 'rewrite').MemUsed).toBe(4096);
    const r618 = run(steps, pol('linux-6.18'), thp);
    expect(mem(r618, 'rewrite').MemUsed).toBe(4096);
    expect(c(r618, 'rewrite', 'cow_copy')).toBe(0);
  });

  it('PMD-mapped THP after fork + child exit is reused whole in every era', () => {
    for (const era of Object.keys(ERAS) as Era[]) {
      const r = run(
        [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '2MiB' },
          { op: 'touch', pid: 'p', region: 'a', access: 'write' },
          { op: 'fork', pid: 'p', child: 'c' },
          { op: 'exit', pid: 'c' },
          { op: 'touch', pid: 'p', region: 'a', access: 'write', phase: 'rewrite' },
        ],
        pol(era),
        { top: 'always' },
      );
      expect(cs(r, 'rewrite', ['pgfault', 'pgreuse', 'thp_split_pmd'])).toEqual({
        pgfault: 1,
        pgreuse: 1,
        thp_split_pmd: 0,
      });
      expect(mem(r, 'rewrite').AnonHugePages).toBe(2048);
    }
  });
});

describe("the RFC's exclusive sub-page hazard (David Hildenbrand)", () => {
  /**
   * A 64K folio shared after fork; the child exits; the parent takes a R/O pin on page 5
   * (GUP unshares it: page 5 becomes PageAnonExclusive, still mapped read-only, refcount + pin);
   * then the parent writes page 0, which is not exclusive and must be copied.
   */
  const steps = [
    { op: 'spawn', pid: 'p' },
    { op: 'mmap', pid: 'p', name: 'a', size: '64KiB', align: '64KiB' },
    { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1 },
    { op: 'fork', pid: 'p', child: 'c' },
    { op: 'exit', pid: 'c' },
    { op: 'pin', pid: 'p', region: 'a', offset: '20KiB', size: '4KiB', write: false, id: 'dma' },
    { op: 'access', pid: 'p', region: 'a', offset: 0, access: 'write', value: 2, phase: 'cow' },
    { op: 'access', pid: 'p', region: 'a', offset: '20KiB', access: 'write', value: 3, phase: 'after' },
    { op: 'readPin', id: 'dma', expect: 3, phase: 'after' },
  ];

  it('the safe RFC never replaces the exclusive sub-page: the pin follows the process', () => {
    const r = run(steps, pol('rfc-v2'));
    expect(r.checks).toMatchObject({ failed: 0 });
    // [0, 16K) is copied as one 16K folio; the 32K block holding page 5 is left alone
    expect(cs(r, 'cow', ['cow_copy', 'cow_copy_pages', 'mthp_16kB_anon_fault_alloc'])).toEqual({
      cow_copy: 1,
      cow_copy_pages: 4,
      mthp_16kB_anon_fault_alloc: 1,
    });
  });

  it('unsafeRfcCow copies the whole 64K range over the pinned page: the pin is left behind', () => {
    const p = unsafeRfcCow();
    expect(p).toBeInstanceOf(LargeFolioPolicy);
    const r = run(steps, [p]);
    expect(cs(r, 'cow', ['cow_copy_pages'])).toEqual({ cow_copy_pages: 16 });
    expect(r.checks.failed).toBe(1);
    expect(r.checks.failures[0]!.message).toBe('read 1, expected 3');
  });
});

describe('plugin', () => {
  it('names and option checks', () => {
    expect(LargeFolioPolicy.PLUGIN_NAME).toBe('policy-large-folio');
    expect(largeFolioPolicy({ era: 'linux-6.8' }).name).toBe('policy-large-folio(linux-6.8)');
    expect(() => largeFolioPolicy({ reuse: 'always' as never })).toThrow(/unknown reuse rule/);
    expect(() => largeFolioPolicy({ era: 'rfc-v2', maxOrder: 12 })).toThrow(/maxOrder/);
  });
});
