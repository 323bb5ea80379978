/** userfaultfd features and ioctls beyond the selftest ports; FOLL_FORCE writes and migration per era. */
import { describe, expect, it } from 'vitest';
import { definePlugin } from '../src/index.js';
import { PTE } from '../src/mm/pte.js';
import { ctr, ctrs, run, runError, runSys } from './helpers.js';

const base = [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'b', size: '16KiB' },
];
const sc = (...steps: unknown[]) => ({ name: 't', steps: [...base, ...steps] });
const ok = { passed: 0, failed: 0, failures: [] };

describe('UFFDIO_API and UFFDIO_REGISTER errors', () => {
  it('a second UFFDIO_API and a wrong api are EINVAL; a register on an unmapped range is ENOMEM', () => {
    const r = run(
      sc(
        { op: 'uffdApi', pid: 'p', api: 0xab, expectError: 'EINVAL' },
        { op: 'uffdApi', pid: 'p', features: ['sigbus'] },
        { op: 'uffdApi', pid: 'p', features: [], expectError: 'EINVAL' },
        { op: 'munmap', pid: 'p', region: 'b' },
        { op: 'uffdRegister', pid: 'p', region: 'b', mode: 'missing', expectError: 'ENOMEM' },
      ),
    );
    expect(r.checks).toEqual({ ...ok, passed: 3 });
  });

  it('an unknown feature is bad input naming the field', () => {
    const e = runError(sc({ op: 'uffdApi', pid: 'p', features: ['wp_async'] }));
    expect(e.message).toContain('"features"');
    expect(e.message).toContain('"invalid_value"');
  });

  it('a failed ioctls expectation is a failed check naming the step', () => {
    const r = run(sc({ op: 'uffdRegister', pid: 'p', region: 'b', mode: 'missing', ioctls: ['copy'] }));
    expect(r.checks.failed).toBe(1);
    expect(r.checks.failures[0]).toEqual({
      step: 'steps[2]',
      message: 'ioctls are [wake, copy, zeropage, move, poison], expected [copy]',
    });
  });
});

describe('UFFD_FEATURE_WP_UNPOPULATED markers', () => {
  const steps = [
    { op: 'uffdApi', pid: 'p', features: ['wp_unpopulated'] },
    { op: 'uffdRegister', pid: 'p', region: 'b', mode: 'wp' },
    { op: 'uffdWriteProtect', pid: 'p', region: 'b', enable: true },
  ];
  it('a write to a marker maps a write-protected page and then blocks in handle_userfault(VM_UFFD_WP); unprotect lets it through', () => {
    const r = run(
      sc(
        ...steps,
        { op: 'access', pid: 'p', region: 'b', access: 'write', value: 7, phase: 'write' },
        { op: 'uffdRead', pid: 'p', expect: [{ event: 'pagefault', region: 'b', write: true, wp: true }] },
        { op: 'uffdWriteProtect', pid: 'p', region: 'b', size: '4KiB', enable: false, phase: 'resolve' },
        { op: 'access', pid: 'p', region: 'b', access: 'read', expect: 7 },
      ),
    );
    expect(r.checks).toEqual({ ...ok, passed: 2 });
    expect(r.blocked).toEqual([]);
    // do_anonymous_page() under the marker, then the write-protect fault
    expect(ctrs(r, 'write', ['pgfault', 'pgalloc', 'uffd_fault'])).toEqual({ pgfault: 2, pgalloc: 1, uffd_fault: 1 });
  });

  it('a fork with EVENT_FORK copies the markers to the child; without it the child has none', () => {
    const child = (ev: boolean) =>
      run(
        sc(
          ...(ev ? [{ op: 'uffdApi', pid: 'p', features: ['wp_unpopulated', 'event_fork'] }] : [steps[0]]),
          ...steps.slice(1),
          { op: 'fork', pid: 'p', child: 'c' },
          { op: 'pagemap', pid: 'c', region: 'b', size: '4KiB', expect: { uffdWp: ev, swapped: ev } },
        ),
      );
    expect(child(true).checks).toEqual({ ...ok, passed: 1 });
    expect(child(false).checks).toEqual({ ...ok, passed: 1 });
  });
});

describe('UFFDIO_MOVE errors (move_pages_pte())', () => {
  const setup = [
    { op: 'mmap', pid: 'p', name: 's', size: '8KiB' },
    { op: 'touch', pid: 'p', region: 's', access: 'write', value: 1 },
    { op: 'uffdRegister', pid: 'p', region: 'b', mode: 'missing' },
  ];
  it('EEXIST on a populated destination, ENOENT on a hole unless allowSrcHoles, EBUSY on a page shared with a child, EINVAL on an unregistered destination', () => {
    const r = run(
      sc(
        ...setup,
        { op: 'uffdCopy', pid: 'p', region: 'b', size: '4KiB', value: 2 },
        { op: 'uffdMove', pid: 'p', region: 'b', size: '4KiB', from: 's', expectError: 'EEXIST' },
        { op: 'madvise', pid: 'p', region: 's', size: '4KiB', advice: 'dontneed' },
        { op: 'uffdMove', pid: 'p', region: 'b', offset: '4KiB', size: '4KiB', from: 's', expectError: 'ENOENT' },
        {
          op: 'uffdMove',
          pid: 'p',
          region: 'b',
          offset: '4KiB',
          size: '4KiB',
          from: 's',
          allowSrcHoles: true,
          phase: 'holes',
        },
        { op: 'fork', pid: 'p', child: 'c' },
        {
          op: 'uffdMove',
          pid: 'p',
          region: 'b',
          offset: '4KiB',
          size: '4KiB',
          from: 's',
          fromOffset: '4KiB',
          expectError: 'EBUSY',
        },
        { op: 'uffdMove', pid: 'p', region: 's', size: '4KiB', from: 'b', expectError: 'EINVAL' },
      ),
    );
    expect(r.checks).toEqual({ ...ok, passed: 4 });
    expect(ctr(r, 'holes', 'uffd_move')).toBe(0);
  });
});

describe('events', () => {
  it('munmap of a registered range is UFFD_EVENT_UNMAP with EVENT_UNMAP; nothing without it', () => {
    const r = run(
      sc(
        { op: 'uffdApi', pid: 'p', features: ['event_unmap'] },
        { op: 'uffdRegister', pid: 'p', region: 'b', mode: 'missing' },
        { op: 'munmap', pid: 'p', region: 'b', size: '4KiB' },
        { op: 'uffdRead', pid: 'p', expect: [{ event: 'unmap' }] },
        { op: 'madvise', pid: 'p', region: 'b', offset: '4KiB', advice: 'dontneed' },
        { op: 'uffdRead', pid: 'p', expect: [] },
      ),
    );
    expect(r.checks).toEqual({ ...ok, passed: 1 });
  });
});

describe('a FOLL_FORCE write (pokeMem) per era: can_follow_write_pte()', () => {
  const none = sc(
    { op: 'mprotect', pid: 'p', region: 'b', prot: 'r' },
    { op: 'pokeMem', pid: 'p', region: 'b', value: 5, phase: 'poke' },
    { op: 'access', pid: 'p', region: 'b', access: 'read', expect: 5 },
    { op: 'access', pid: 'p', region: 'b', access: 'write', value: 6, expectError: 'SIGSEGV', phase: 'user' },
  );
  const owned = sc(
    { op: 'access', pid: 'p', region: 'b', access: 'write', value: 1 },
    { op: 'mprotect', pid: 'p', region: 'b', prot: 'r' },
    { op: 'pokeMem', pid: 'p', region: 'b', value: 5, phase: 'poke' },
    { op: 'access', pid: 'p', region: 'b', access: 'read', expect: 5 },
  );
  const v61 = { config: { features: { gupForceAnonExclusive: false } } };
  const F = ['pgfault', 'pgalloc', 'pgreuse', 'cow_copy'];
  it('unpopulated: v6.2+ follows the new exclusive page after one fault; before, do_anonymous_page() returned no VM_FAULT_WRITE and a second write fault (do_wp_page(): a copy, the new page still in the LRU batch) set FOLL_COW', () => {
    const now = run(none);
    expect(ctrs(now, 'poke', F)).toEqual({ pgfault: 1, pgalloc: 1, pgreuse: 0, cow_copy: 0 });
    expect(now.checks).toEqual({ ...ok, passed: 2 });
    const old = run(none, v61);
    expect(ctrs(old, 'poke', F)).toEqual({ pgfault: 2, pgalloc: 2, pgreuse: 0, cow_copy: 1 });
    expect(old.checks).toEqual({ ...ok, passed: 2 });
  });
  it('an exclusive page written before mprotect(PROT_READ): v6.2+ writes it with no fault; before, one write fault first (FOLL_COW)', () => {
    const now = run(owned);
    expect(ctrs(now, 'poke', F)).toEqual({ pgfault: 0, pgalloc: 0, pgreuse: 0, cow_copy: 0 });
    expect(now.checks).toEqual({ ...ok, passed: 1 });
    expect(ctrs(run(owned, v61), 'poke', F)).toEqual({ pgfault: 1, pgalloc: 1, pgreuse: 0, cow_copy: 1 });
  });
  it('a read-only MAP_SHARED mapping is EFAULT', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'm', size: '4KiB', shared: true, prot: 'r' },
        { op: 'pokeMem', pid: 'p', region: 'm', value: 1, expectError: 'EFAULT' },
      ],
    });
    expect(r.checks).toEqual({ ...ok, passed: 1 });
  });
});

describe('migrate (mbind MPOL_MF_MOVE)', () => {
  it('pages shared with a child are skipped (no MPOL_MF_MOVE_ALL): nothing moves, the frames stay', () => {
    const r = run(
      sc(
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 3 },
        { op: 'pin', pid: 'p', region: 'b', size: '4KiB', write: true, id: 'x' },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'exit', pid: 'c' },
        { op: 'fork', pid: 'p', child: 'd' },
        { op: 'pagemap', pid: 'p', region: 'b', offset: '8KiB', size: '4KiB', expect: { pfn: 'shared' } },
        { op: 'migrate', pid: 'p', region: 'b', phase: 'm' },
        { op: 'pagemap', pid: 'p', region: 'b', offset: '8KiB', size: '4KiB', expect: { pfn: 'shared' } },
        { op: 'readPin', id: 'x', expect: 3 },
      ),
    );
    expect(r.checks).toEqual({ ...ok, passed: 3 });
    // without a fork.page policy the pinned page is shared with the child as well
    expect(ctrs(r, 'm', ['pgmigrate_success', 'pgmigrate_fail'])).toEqual({ pgmigrate_success: 0, pgmigrate_fail: 0 });
  });
  it('the pin keeps an exclusive page in place: pgmigrate_fail; the other pages move', () => {
    const r = run(
      sc(
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 3 },
        { op: 'pin', pid: 'p', region: 'b', size: '4KiB', write: true, id: 'x' },
        { op: 'migrate', pid: 'p', region: 'b', phase: 'm' },
        { op: 'access', pid: 'p', region: 'b', offset: '4KiB', access: 'read', expect: 3 },
        { op: 'readPin', id: 'x', expect: 3 },
      ),
    );
    expect(r.checks).toEqual({ ...ok, passed: 2 });
    expect(ctrs(r, 'm', ['pgmigrate_success', 'pgmigrate_fail'])).toEqual({ pgmigrate_success: 3, pgmigrate_fail: 1 });
  });
});

describe('remove_migration_pte() per era', () => {
  const steps = sc(
    { op: 'access', pid: 'p', region: 'b', access: 'write', value: 3 },
    { op: 'migrate', pid: 'p', region: 'b', size: '4KiB' },
  );
  const pteFlags = (config?: { features: { migrationKeepsYoungDirty: boolean } }) => {
    const { r, sys } = runSys(steps, config ? { config } : {});
    expect(r.checks).toEqual(ok);
    const k = sys.kernel;
    const mm = k.procs.get('p')!.mm;
    const vpn = mm.vmas[0]!.start;
    const t = k.pteTable(mm, vpn);
    return k.pt.fl[k.pt.slot(t, vpn & 511)]!;
  };
  it('v6.1+ (2e3468778dbe): the new PTE is young and dirty as the old one was; before, old and clean; writable in both', () => {
    const now = pteFlags();
    expect([now & PTE.young, now & PTE.dirty, now & PTE.write]).toEqual([PTE.young, PTE.dirty, PTE.write]);
    const old = pteFlags({ features: { migrationKeepsYoungDirty: false } });
    expect([old & PTE.young, old & PTE.dirty, old & PTE.write]).toEqual([0, 0, PTE.write]);
  });
});

describe('EVENT_FORK and a PMD-mapped THP (copy_huge_pmd())', () => {
  const thp = definePlugin({
    name: 'thp',
    api: '^1.0.0',
    apply: ({ hooks }) => hooks.fault.anonOrders.tap('thp', (o) => o | (1 << 9)),
  });
  const steps = (ev: boolean) => ({
    name: 't',
    steps: [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'h', size: '2MiB', align: '2MiB' },
      ...(ev ? [{ op: 'uffdApi', pid: 'p', features: ['event_fork'] }] : []),
      { op: 'uffdRegister', pid: 'p', region: 'h', mode: 'wp' },
      { op: 'access', pid: 'p', region: 'h', access: 'write', value: 1 },
      { op: 'uffdWriteProtect', pid: 'p', region: 'h', enable: true },
      { op: 'fork', pid: 'p', child: 'c' },
      { op: 'pagemap', pid: 'c', region: 'h', size: '4KiB', expect: { pmdMapped: true, uffdWp: ev } },
      { op: 'pagemap', pid: 'p', region: 'h', size: '4KiB', expect: { pmdMapped: true, uffdWp: true } },
    ],
  });
  it('the child keeps pmd_uffd_wp with EVENT_FORK and loses it without', () => {
    expect(run(steps(true), { policies: [thp] }).checks).toEqual({ ...ok, passed: 2 });
    expect(run(steps(false), { policies: [thp] }).checks).toEqual({ ...ok, passed: 2 });
  });
});
