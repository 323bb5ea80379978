import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../src/index.js';
import { ctr, ctrs, mem, run, runError } from './helpers.js';

describe('userfaultfd', () => {
  it('missing mode: the access blocks, UFFDIO_COPY resolves it and the value is visible', () => {
    const r = run({
      name: 'uffd-missing',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '8KiB' },
        { op: 'uffdRegister', pid: 'p', region: 'b', mode: 'missing' },
        { op: 'access', pid: 'p', region: 'b', access: 'read', expect: 77, phase: 'block' },
        { op: 'uffdCopy', pid: 'p', region: 'b', offset: 0, size: '4KiB', value: 77, phase: 'copy' },
        { op: 'access', pid: 'p', region: 'b', access: 'read', expect: 77, phase: 'again' },
        // the second page is still missing: the thread stays blocked at the end of the run
        { op: 'access', pid: 'p', region: 'b', offset: '4KiB', access: 'read', phase: 'block2' },
      ],
    });
    expect(ctrs(r, 'block', ['pgfault', 'uffd_fault', 'pgalloc'])).toEqual({ pgfault: 1, uffd_fault: 1, pgalloc: 0 });
    // the copy maps the page; the woken thread retries its read without another fault
    expect(ctrs(r, 'copy', ['uffd_copy', 'pgalloc', 'pgfault'])).toEqual({ uffd_copy: 1, pgalloc: 1, pgfault: 0 });
    expect(mem(r, 'copy')).toMatchObject({ AnonPages: 4 });
    expect(ctrs(r, 'again', ['pgfault'])).toEqual({ pgfault: 0 });
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
    expect(r.blocked).toHaveLength(1);
    expect(r.blocked[0]).toMatchObject({ pid: 'p', cpu: 0, reason: 'uffd-missing' });
  });

  const wp = (drain: boolean) => ({
    name: 'uffd-wp',
    steps: [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
      { op: 'uffdRegister', pid: 'p', region: 'b', mode: 'wp' },
      { op: 'uffdCopy', pid: 'p', region: 'b', wp: true, value: 5, phase: 'copy' },
      { op: 'access', pid: 'p', region: 'b', access: 'read', expect: 5 },
      { op: 'access', pid: 'p', region: 'b', access: 'write', value: 6, phase: 'write' },
      ...(drain ? [{ op: 'drain' }] : []),
      { op: 'uffdWriteProtect', pid: 'p', region: 'b', enable: false, phase: 'unprotect' },
      { op: 'access', pid: 'p', region: 'b', access: 'read', expect: 6, phase: 'read' },
    ],
  });
  const F = ['pgfault', 'uffd_fault', 'uffd_wp_change', 'pgreuse', 'cow_copy'];

  it('wp mode (seed 001): the write blocks; after unprotect the retried write copies, the page still being in the LRU batch', () => {
    const r = run(wp(false));
    expect(ctrs(r, 'copy', ['uffd_copy', 'lru_add_batched', 'pgfault'])).toEqual({
      uffd_copy: 1,
      lru_add_batched: 1,
      pgfault: 0,
    });
    expect(ctrs(r, 'write', F)).toEqual({ pgfault: 1, uffd_fault: 1, uffd_wp_change: 0, pgreuse: 0, cow_copy: 0 });
    expect(ctrs(r, 'unprotect', F)).toEqual({ pgfault: 1, uffd_fault: 0, uffd_wp_change: 1, pgreuse: 0, cow_copy: 1 });
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
    expect(r.blocked).toEqual([]);
  });

  it('wp mode with a drain before the unprotect: the retried write reuses the page', () => {
    const r = run(wp(true));
    expect(ctrs(r, 'unprotect', F)).toEqual({ pgfault: 1, uffd_fault: 0, uffd_wp_change: 1, pgreuse: 1, cow_copy: 0 });
    expect(mem(r, 'read')).toMatchObject({ AnonPages: 4, MemUsed: 4 });
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
  });

  it('wp mode with features.uffdTryChangeWritable (v6.2+): unprotect maps the exclusive page writable, the retry needs no fault', () => {
    const r = run(wp(false), { config: { features: { uffdTryChangeWritable: true } } });
    expect(ctrs(r, 'unprotect', F)).toEqual({ pgfault: 0, uffd_fault: 0, uffd_wp_change: 1, pgreuse: 0, cow_copy: 0 });
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
    // mprotect's MM_CP_TRY_CHANGE_WRITABLE alone does not apply to uffd unprotect
    const mp = run(wp(false), { config: { features: { tryChangeWritable: true, uffdTryChangeWritable: false } } });
    expect(ctrs(mp, 'unprotect', F)).toEqual({ pgfault: 1, uffd_fault: 0, uffd_wp_change: 1, pgreuse: 0, cow_copy: 1 });
  });

  describe('monitor ops on ranges userfaultfd does not cover are step errors (mfill_atomic, mwriteprotect_range)', () => {
    const sc = (...steps: unknown[]) => ({
      name: 'uffd-errors',
      steps: [{ op: 'spawn', pid: 'p', cpu: 0 }, { op: 'mmap', pid: 'p', name: 'b', size: '16KiB' }, ...steps],
    });
    const fails = (s: unknown, field: string, msg: string) => {
      const e = runError(s);
      expect(e).toBeInstanceOf(ScenarioError);
      expect(e.message).toBe(`test.json: steps[3] field "${field}": ${msg}`);
    };

    it('uffdCopy on a region never registered: ENOENT naming the step and region (was: silently mapped)', () =>
      fails(
        sc({ op: 'drain' }, { op: 'uffdCopy', pid: 'p', region: 'b', size: '8KiB', value: 1 }),
        'region',
        'op uffdCopy: pages 0x7effffffc-0x7effffffd are not registered with userfaultfd (no uffdRegister covers them) (ENOENT)',
      ));

    it('uffdCopy past the registered part of a region: the copy crosses into an unregistered VMA, ENOENT', () =>
      fails(
        sc(
          { op: 'uffdRegister', pid: 'p', region: 'b', size: '8KiB', mode: 'missing' },
          { op: 'uffdCopy', pid: 'p', region: 'b', offset: '4KiB', size: '8KiB', value: 1 },
        ),
        'region',
        'op uffdCopy: the range spans more than one VMA (split at page 0x7effffffe); a copy must stay inside one (ENOENT)',
      ));

    it('uffdCopy with wp on a range registered only in missing mode: EINVAL naming the field wp', () =>
      fails(
        sc(
          { op: 'uffdRegister', pid: 'p', region: 'b', mode: 'missing' },
          { op: 'uffdCopy', pid: 'p', region: 'b', size: '4KiB', wp: true, value: 1 },
        ),
        'wp',
        'op uffdCopy: wp is set but the range is not registered in wp mode (EINVAL)',
      ));

    it('uffdWriteProtect on a range registered only in missing mode: ENOENT naming the region', () =>
      fails(
        sc(
          { op: 'uffdRegister', pid: 'p', region: 'b', mode: 'missing' },
          { op: 'uffdWriteProtect', pid: 'p', region: 'b', enable: true },
        ),
        'region',
        'op uffdWriteProtect: the range is not registered in wp mode (ENOENT)',
      ));

    it('uffdCopy into a wp-registered range without wp is accepted (any registration covers UFFDIO_COPY)', () => {
      const r = run(
        sc(
          { op: 'uffdRegister', pid: 'p', region: 'b', mode: 'wp' },
          { op: 'uffdCopy', pid: 'p', region: 'b', size: '4KiB', value: 9, phase: 'copy' },
          { op: 'access', pid: 'p', region: 'b', access: 'read', expect: 9 },
        ),
      );
      expect(ctrs(r, 'copy', ['uffd_copy'])).toEqual({ uffd_copy: 1 });
      expect(r.checks).toEqual({ passed: 1, failed: 0, failures: [] });
    });
  });
});

describe('UFFDIO_WRITEPROTECT on swap PTEs (change_pte_range(): pte_swp_mkuffd_wp / pte_swp_clear_uffd_wp)', () => {
  const steps = (protectAfterPageout: boolean) => [
    { op: 'spawn', pid: 'p' },
    { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
    { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 3 },
    { op: 'uffdRegister', pid: 'p', region: 'a', mode: 'wp' },
    ...(protectAfterPageout
      ? [
          { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout' },
          { op: 'uffdWriteProtect', pid: 'p', region: 'a', enable: true },
        ]
      : [
          { op: 'uffdWriteProtect', pid: 'p', region: 'a', enable: true },
          { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout' },
        ]),
    { op: 'uffdWriteProtect', pid: 'p', region: 'a', enable: false, phase: 'resolve' },
    { op: 'access', pid: 'p', region: 'a', offset: 4096, access: 'read', expect: 3, phase: 'in' },
    { op: 'access', pid: 'p', region: 'a', offset: 4096, access: 'write', value: 4, phase: 'write' },
    { op: 'access', pid: 'p', region: 'a', offset: 4096, access: 'read', expect: 4, phase: 'write' },
  ];
  it('protected, swapped out, un-protected: the swap-in brings no wp bit back and the write goes through', () => {
    const r = run({ name: 't', steps: steps(false) });
    expect(r.checks.failed).toBe(0);
    expect(r.blocked).toEqual([]);
    // the four swap PTEs lost the bit (no flush: nothing present changed)
    expect(ctrs(r, 'resolve', ['uffd_wp_change', 'nr_tlb_local_flush_all', 'nr_tlb_local_flush_one'])).toEqual({
      uffd_wp_change: 4,
      nr_tlb_local_flush_all: 0,
      nr_tlb_local_flush_one: 0,
    });
    expect(ctr(r, 'write', 'uffd_fault')).toBe(0);
  });
  it('swapped out, then protected: the swap PTEs take the bit, and a write after swap-in blocks in userfaultfd', () => {
    const sc = steps(true).filter((s) => s.phase !== 'resolve');
    const r = run({ name: 't', steps: sc.slice(0, -1) });
    expect(r.blocked).toMatchObject([{ pid: 'p', reason: 'uffd-wp' }]);
  });
});
