/**
 * tools/testing/selftests/mm/uffd-unit-tests.c, the anonymous-memory cases of its uffd_tests[]
 * table (mem_type "anon"). The monitor thread of the selftest is the scenario: its
 * UFFDIO_COPY / UFFDIO_MOVE / UFFDIO_POISON answers are the steps after the access that blocked.
 * 16 pages stand for UFFD_TEST_MEM_SIZE (32 MiB); the cases loop over pages the same way.
 */
import { describe, expect, it } from 'vitest';
import { definePlugin } from '../../src/index.js';
import { ctr, ctrs, run } from '../helpers.js';

const NR = 4;
const P = (i: number) => `${i * 4}KiB`;
const spawn = [
  { op: 'spawn', pid: 'p', cpu: 0 },
  { op: 'mmap', pid: 'p', name: 'dst', size: `${NR * 4}KiB` },
];
const ALL = ['wake', 'copy', 'zeropage', 'move', 'writeprotect', 'poison'];

/** page_needs_cow_for_dma() at fork and R/O FOLL_LONGTERM unsharing (what the v5.19+ presets' policy-refcount does) */
const pinRules = definePlugin({
  name: 'pin-rules',
  api: '^1.0.0',
  apply: ({ hooks }) => {
    hooks.fork.page.tap('pin-rules', (ctx) => (ctx.parent.hasPinned && ctx.folio.maybePinned ? 'copy' : undefined));
    hooks.fault.gupUnshare.tap('pin-rules', () => true);
  },
});

describe('uffd-unit-tests.c', () => {
  const combos: Array<[boolean, boolean, boolean]> = [];
  for (const miss of [false, true])
    for (const wp of [false, true]) for (const minor of [false, true]) combos.push([miss, wp, minor]);
  const registerIoctls = (eraIoctls: string[]) =>
    combos.flatMap(([miss, wp, minor], i): unknown[] => {
      const mode = [...(miss ? ['missing'] : []), ...(wp ? ['wp'] : []), ...(minor ? ['minor'] : [])];
      const region = { op: 'mmap', pid: 'p', name: `a${i}`, size: '4KiB' };
      // minor on anon, or no mode: -EINVAL
      if (minor || mode.length === 0)
        return [region, { op: 'uffdRegister', pid: 'p', region: `a${i}`, mode, expectError: 'EINVAL' }];
      const ioctls = eraIoctls.filter((n) => n !== 'writeprotect' || wp);
      return [region, { op: 'uffdRegister', pid: 'p', region: `a${i}`, mode, ioctls }];
    });

  it('register-ioctls: the ioctls UFFDIO_REGISTER returns per mode; minor on anon and no mode are EINVAL (exact sets, not only the bits upstream requires)', () => {
    const r = run({ name: 't', steps: [{ op: 'spawn', pid: 'p' }, ...registerIoctls(ALL)] });
    expect(r.checks).toEqual({ passed: 8, failed: 0, failures: [] });
  });

  it('register-ioctls [linux-5.8 era]: no UFFDIO_POISON (v6.6), UFFDIO_MOVE (v6.8) or UFFDIO_CONTINUE (v5.13) in the mask', () => {
    const old = { features: { uffdPoison: false, uffdMove: false, uffdContinue: false } };
    const r = run(
      {
        name: 't',
        steps: [{ op: 'spawn', pid: 'p' }, ...registerIoctls(['wake', 'copy', 'zeropage', 'writeprotect'])],
      },
      { config: old },
    );
    expect(r.checks).toEqual({ passed: 8, failed: 0, failures: [] });
  });

  it('zeropage: UFFDIO_ZEROPAGE maps the zero page (the page reads 0, nothing allocated), a second one is EEXIST', () => {
    const r = run({
      name: 't',
      steps: [
        ...spawn,
        {
          op: 'uffdRegister',
          pid: 'p',
          region: 'dst',
          size: '4KiB',
          mode: 'missing',
          ioctls: ALL.filter((n) => n !== 'writeprotect'),
        },
        { op: 'uffdZeropage', pid: 'p', region: 'dst', size: '4KiB', phase: 'zero' },
        { op: 'access', pid: 'p', region: 'dst', access: 'read', expect: 0, phase: 'read' },
        { op: 'pagemap', pid: 'p', region: 'dst', size: '4KiB', expect: { present: true, exclusive: false } },
        // retry_uffdio_zeropage(): -EEXIST
        { op: 'uffdZeropage', pid: 'p', region: 'dst', size: '4KiB', expectError: 'EEXIST' },
      ],
    });
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
    expect(ctrs(r, 'zero', ['uffd_zeropage', 'pgalloc'])).toEqual({ uffd_zeropage: 1, pgalloc: 0 });
    expect(ctrs(r, 'read', ['pgfault', 'uffd_fault'])).toEqual({ pgfault: 0, uffd_fault: 0 });
  });

  it('move: each missing fault on dst is resolved by UFFDIO_MOVE of the src page: dst reads the count, src reads 0, the same frame moved (missing_faults == pages)', () => {
    const steps: unknown[] = [
      ...spawn,
      { op: 'mmap', pid: 'p', name: 'src', size: `${NR * 4}KiB`, advice: 'nohugepage' },
      { op: 'madvise', pid: 'p', region: 'src', advice: 'dontfork' },
      ...Array.from({ length: NR }, (_, i) => ({
        op: 'access',
        pid: 'p',
        region: 'src',
        offset: P(i),
        access: 'write',
        value: 100 + i,
      })),
      { op: 'uffdRegister', pid: 'p', region: 'dst', mode: 'missing' },
      { op: 'phase', name: 'move' },
    ];
    for (let i = 0; i < NR; i++)
      steps.push(
        { op: 'pagemap', pid: 'p', region: 'src', offset: P(i), size: '4KiB', expect: { present: true, pfn: `f${i}` } },
        { op: 'access', pid: 'p', region: 'src', offset: P(i), access: 'read', expect: 100 + i },
        // the read of dst blocks; the monitor moves the page, the read completes with its value
        { op: 'access', pid: 'p', region: 'dst', offset: P(i), access: 'read', expect: 100 + i },
        { op: 'uffdMove', pid: 'p', region: 'dst', offset: P(i), size: '4KiB', from: 'src', fromOffset: P(i) },
        {
          op: 'pagemap',
          pid: 'p',
          region: 'dst',
          offset: P(i),
          size: '4KiB',
          expect: { present: true, exclusive: true, pfn: `f${i}` },
        },
        { op: 'access', pid: 'p', region: 'src', offset: P(i), access: 'read', expect: 0 },
      );
    const r = run({ name: 't', steps });
    expect(r.checks).toEqual({ passed: 5 * NR, failed: 0, failures: [] });
    expect(r.blocked).toEqual([]);
    expect(ctrs(r, 'move', ['uffd_fault', 'uffd_move', 'pgalloc', 'cow_copy'])).toEqual({
      uffd_fault: NR,
      uffd_move: NR,
      pgalloc: 0,
      cow_copy: 0,
    });
  });

  const wpFork = (withEvent: boolean) => {
    const child = (name: string, wp: boolean, swapped: boolean) => [
      { op: 'fork', pid: 'p', child: name },
      {
        op: 'pagemap',
        pid: name,
        region: 'dst',
        size: '4KiB',
        expect: { uffdWp: wp, ...(swapped ? { swapped: true } : { present: true }) },
      },
      { op: 'exit', pid: name },
    ];
    return {
      name: 't',
      steps: [
        ...spawn,
        ...(withEvent ? [{ op: 'uffdApi', pid: 'p', features: ['event_fork'] }] : []),
        { op: 'uffdRegister', pid: 'p', region: 'dst', mode: 'wp' },
        { op: 'access', pid: 'p', region: 'dst', access: 'write', value: 1 },
        { op: 'uffdWriteProtect', pid: 'p', region: 'dst', size: '4KiB', enable: true },
        { op: 'pagemap', pid: 'p', region: 'dst', size: '4KiB', expect: { present: true, uffdWp: true } },
        ...child('c1', withEvent, false),
        // zap the page to test the swap entry (MADV_PAGEOUT on private memory)
        { op: 'madvise', pid: 'p', region: 'dst', size: '4KiB', advice: 'pageout' },
        { op: 'pagemap', pid: 'p', region: 'dst', size: '4KiB', expect: { swapped: true, uffdWp: true } },
        ...child('c2', withEvent, true),
        { op: 'uffdWriteProtect', pid: 'p', region: 'dst', size: '4KiB', enable: false },
        { op: 'pagemap', pid: 'p', region: 'dst', size: '4KiB', expect: { swapped: true, uffdWp: false } },
        { op: 'access', pid: 'p', region: 'dst', access: 'write', value: 2 },
        { op: 'pagemap', pid: 'p', region: 'dst', size: '4KiB', expect: { present: true, uffdWp: false } },
        ...(withEvent
          ? [
              {
                op: 'uffdRead',
                pid: 'p',
                expect: [
                  { event: 'fork', child: 'c1' },
                  { event: 'fork', child: 'c2' },
                ],
              },
            ]
          : []),
      ],
    };
  };

  it('wp-fork: without EVENT_FORK the child sees no uffd-wp bit, on the present PTE and on the swap entry; the parent keeps it until unprotected', () => {
    const r = run(wpFork(false));
    expect(r.checks).toEqual({ passed: 6, failed: 0, failures: [] });
    expect(r.blocked).toEqual([]);
  });

  it('wp-fork-with-event: with UFFD_FEATURE_EVENT_FORK the child inherits the bit (present PTE and swap entry) and the monitor reads two UFFD_EVENT_FORK', () => {
    const r = run(wpFork(true));
    expect(r.checks).toEqual({ passed: 8, failed: 0, failures: [] });
  });

  const wpForkPin = (withEvent: boolean) => ({
    name: 't',
    steps: [
      ...spawn,
      ...(withEvent ? [{ op: 'uffdApi', pid: 'p', features: ['event_fork'] }] : []),
      { op: 'uffdRegister', pid: 'p', region: 'dst', size: '4KiB', mode: 'wp' },
      { op: 'access', pid: 'p', region: 'dst', access: 'write', value: 1 },
      { op: 'uffdWriteProtect', pid: 'p', region: 'dst', size: '4KiB', enable: true },
      // 1. pin, then fork: the early CoW of fork() (copy_present_page())
      { op: 'pin', pid: 'p', region: 'dst', size: '4KiB', write: false, longterm: true, id: 'ro' },
      { op: 'fork', pid: 'p', child: 'c1', phase: 'fork1' },
      { op: 'pagemap', pid: 'c1', region: 'dst', size: '4KiB', expect: { present: true, uffdWp: withEvent } },
      { op: 'exit', pid: 'c1' },
      { op: 'unpin', id: 'ro' },
      // 2. fork, then a R/O pin in the child: unsharing (COR) of the shared page
      { op: 'fork', pid: 'p', child: 'c2' },
      { op: 'pin', pid: 'c2', region: 'dst', size: '4KiB', write: false, longterm: true, id: 'child', phase: 'pin2' },
      {
        op: 'pagemap',
        pid: 'c2',
        region: 'dst',
        size: '4KiB',
        expect: { present: true, exclusive: true, uffdWp: withEvent },
      },
      { op: 'unpin', id: 'child' },
      { op: 'exit', pid: 'c2' },
    ],
  });

  it('wp-fork-pin: the child of a pinned page gets its copy without the uffd-wp bit; a child unsharing it for a R/O pin has none either', () => {
    const r = run(wpForkPin(false), { policies: [pinRules] });
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
    expect(ctr(r, 'fork1', 'fork_page_copy')).toBe(1);
    expect(ctr(r, 'pin2', 'gup_unshare')).toBe(1);
  });

  it('wp-fork-pin-with-event: with EVENT_FORK the early-CoW copy and the unshared copy both keep the uffd-wp bit', () => {
    const r = run(wpForkPin(true), { policies: [pinRules] });
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
    expect(ctr(r, 'fork1', 'fork_page_copy')).toBe(1);
    expect(ctr(r, 'pin2', 'gup_unshare')).toBe(1);
  });

  it('wp-unpopulated: UFFD_FEATURE_WP_UNPOPULATED puts a uffd-wp marker on a none PTE; unprotect and MADV_DONTNEED drop it; a write after that is not trapped; a read maps the zero page', () => {
    const pm = (wp: boolean, phase?: string) => ({
      op: 'pagemap',
      pid: 'p',
      region: 'dst',
      size: '4KiB',
      expect: { uffdWp: wp },
      ...(phase ? { phase } : {}),
    });
    const wpOn = { op: 'uffdWriteProtect', pid: 'p', region: 'dst', size: '4KiB', enable: true };
    const dontneed = { op: 'madvise', pid: 'p', region: 'dst', size: '4KiB', advice: 'dontneed' };
    const r = run({
      name: 't',
      steps: [
        ...spawn,
        { op: 'uffdApi', pid: 'p', features: ['pagefault_flag_wp', 'wp_unpopulated'] },
        { op: 'uffdRegister', pid: 'p', region: 'dst', mode: 'wp' },
        { ...wpOn, phase: 'marker' },
        // a PTE marker is a non-present swap-type entry: PM_SWAP | PM_UFFD_WP
        {
          op: 'pagemap',
          pid: 'p',
          region: 'dst',
          size: '4KiB',
          expect: { uffdWp: true, present: false, swapped: true },
        },
        { op: 'uffdWriteProtect', pid: 'p', region: 'dst', size: '4KiB', enable: false },
        pm(false),
        wpOn,
        dontneed,
        pm(false),
        { op: 'access', pid: 'p', region: 'dst', access: 'write', value: 1, phase: 'write' },
        pm(false),
        dontneed,
        wpOn,
        { op: 'access', pid: 'p', region: 'dst', access: 'read', expect: 0, phase: 'read' },
        { op: 'pagemap', pid: 'p', region: 'dst', size: '4KiB', expect: { present: true, uffdWp: true } },
        dontneed,
        {
          op: 'pagemap',
          pid: 'p',
          region: 'dst',
          size: '4KiB',
          expect: { present: false, swapped: false, uffdWp: false },
        },
      ],
    });
    expect(r.checks).toEqual({ passed: 7, failed: 0, failures: [] });
    expect(r.blocked).toEqual([]);
    // the phase runs to the write: protect (a marker), unprotect (dropped), protect again
    expect(ctrs(r, 'marker', ['uffd_wp_change', 'pgalloc'])).toEqual({ uffd_wp_change: 3, pgalloc: 0 });
    expect(ctrs(r, 'write', ['uffd_fault', 'pgfault'])).toEqual({ uffd_fault: 0, pgfault: 1 });
    expect(ctrs(r, 'read', ['uffd_fault', 'pgfault', 'pgalloc'])).toEqual({ uffd_fault: 0, pgfault: 1, pgalloc: 0 });
  });

  const sigbus = (wp: boolean) => {
    const half = NR / 2;
    const steps: unknown[] = [
      ...spawn,
      { op: 'uffdApi', pid: 'p', features: ['sigbus', 'event_fork', ...(wp ? ['pagefault_flag_wp'] : [])] },
      { op: 'uffdRegister', pid: 'p', region: 'dst', mode: wp ? ['missing', 'wp'] : 'missing' },
      { op: 'phase', name: 'first' },
    ];
    // faulting_process(1): every missing fault is a SIGBUS; the handler copies the page (and
    // with wp, the write of the same value back is a SIGBUS too; the handler un-protects)
    for (let i = 0; i < half; i++) {
      steps.push(
        { op: 'access', pid: 'p', region: 'dst', offset: P(i), access: 'read', expectError: 'SIGBUS' },
        { op: 'uffdCopy', pid: 'p', region: 'dst', offset: P(i), size: '4KiB', value: 10 + i, wp },
        { op: 'access', pid: 'p', region: 'dst', offset: P(i), access: 'read', expect: 10 + i },
      );
      if (wp)
        steps.push(
          {
            op: 'access',
            pid: 'p',
            region: 'dst',
            offset: P(i),
            access: 'write',
            value: 10 + i,
            expectError: 'SIGBUS',
          },
          { op: 'uffdWriteProtect', pid: 'p', region: 'dst', offset: P(i), size: '4KiB', enable: false },
        );
      steps.push({ op: 'access', pid: 'p', region: 'dst', offset: P(i), access: 'write', value: 10 + i });
    }
    // release_pages(), then faulting_process(2) in a child forked with EVENT_FORK
    steps.push(
      { op: 'madvise', pid: 'p', region: 'dst', advice: 'dontneed' },
      { op: 'fork', pid: 'p', child: 'c', phase: 'child' },
      ...Array.from({ length: half }, (_, i) => ({
        op: 'access',
        pid: 'c',
        region: 'dst',
        offset: P(i),
        access: 'read',
        expectError: 'SIGBUS',
      })),
      { op: 'exit', pid: 'c' },
      // the monitor saw no userfault, only the fork
      { op: 'uffdRead', pid: 'p', expect: [{ event: 'fork', child: 'c' }] },
    );
    return { name: 't', steps };
  };

  it('sigbus: with UFFD_FEATURE_SIGBUS a missing fault raises SIGBUS instead of blocking, in the child of EVENT_FORK too; the monitor reads no UFFD_EVENT_PAGEFAULT', () => {
    const r = run(sigbus(false));
    expect(r.checks).toEqual({ passed: 2 * (NR / 2) + NR / 2 + 1, failed: 0, failures: [] });
    expect(r.blocked).toEqual([]);
    expect(ctr(r, 'first', 'uffd_fault')).toBe(NR / 2);
    expect(ctr(r, 'child', 'uffd_fault')).toBe(NR / 2);
  });

  it('sigbus-wp: the write-protect faults are SIGBUS as well', () => {
    const r = run(sigbus(true));
    expect(r.checks).toEqual({ passed: 3 * (NR / 2) + NR / 2 + 1, failed: 0, failures: [] });
    expect(ctr(r, 'first', 'uffd_fault')).toBe(NR);
  });

  const events = (wp: boolean) => {
    const half = NR / 2;
    const fault = (region: string, i: number) => {
      const at = { pid: 'c', region, offset: P(i) };
      return [
        { op: 'access', ...at, access: 'read', expect: 20 + i },
        { op: 'uffdRead', pid: 'c', expect: [{ event: 'pagefault', region, offset: P(i), write: false, wp: false }] },
        { op: 'uffdCopy', ...at, size: '4KiB', value: 20 + i, wp },
        // "trigger write protection if there is by writing the same value back"
        { op: 'access', ...at, access: 'write', value: 20 + i },
        ...(wp
          ? [
              {
                op: 'uffdRead',
                pid: 'c',
                expect: [{ event: 'pagefault', region, offset: P(i), write: true, wp: true }],
              },
              { op: 'uffdWriteProtect', ...at, size: '4KiB', enable: false },
            ]
          : []),
      ];
    };
    return {
      name: 't',
      steps: [
        ...spawn,
        {
          op: 'uffdApi',
          pid: 'p',
          features: ['event_fork', 'event_remap', 'event_remove', ...(wp ? ['pagefault_flag_wp'] : [])],
        },
        { op: 'uffdRegister', pid: 'p', region: 'dst', mode: wp ? ['missing', 'wp'] : 'missing' },
        { op: 'fork', pid: 'p', child: 'c', phase: 'child' },
        // the monitor takes the child's uffd from UFFD_EVENT_FORK
        { op: 'uffdRead', pid: 'p', expect: [{ event: 'fork', child: 'c' }] },
        ...Array.from({ length: half }, (_, i) => fault('dst', i)).flat(),
        { op: 'mremap', pid: 'c', region: 'dst', to: 'moved' },
        { op: 'uffdRead', pid: 'c', expect: [{ event: 'remap' }] },
        ...Array.from({ length: half }, (_, i) => fault('moved', half + i)).flat(),
        // release_pages(): UFFD_EVENT_REMOVE, on which the monitor unregisters the range
        { op: 'madvise', pid: 'c', region: 'moved', advice: 'dontneed' },
        { op: 'uffdRead', pid: 'c', expect: [{ event: 'remove' }] },
        { op: 'uffdUnregister', pid: 'c', region: 'moved' },
        ...Array.from({ length: NR }, (_, i) => ({
          op: 'access',
          pid: 'c',
          region: 'moved',
          offset: P(i),
          access: 'read',
          expect: 0,
        })),
        { op: 'exit', pid: 'c' },
      ],
    };
  };

  it('events: EVENT_FORK hands the child uffd over, its missing faults come as UFFD_EVENT_PAGEFAULT, then UFFD_EVENT_REMAP (mremap) and UFFD_EVENT_REMOVE (MADV_DONTNEED); missing_faults == pages (events do not block the caller here)', () => {
    const r = run(events(false));
    // per page: the read value, its pagefault message; fork, remap, remove; the zeros at the end
    expect(r.checks).toEqual({ passed: 2 * NR + 3 + NR, failed: 0, failures: [] });
    expect(r.blocked).toEqual([]);
    expect(ctrs(r, 'child', ['uffd_fault', 'uffd_copy'])).toEqual({ uffd_fault: NR, uffd_copy: NR });
  });

  it('events-wp: the same with the copies write-protected: each write back is a UFFD_PAGEFAULT_FLAG_WP fault the monitor resolves', () => {
    const r = run(events(true));
    expect(r.checks).toEqual({ passed: 3 * NR + 3 + NR, failed: 0, failures: [] });
    expect(r.blocked).toEqual([]);
    expect(ctrs(r, 'child', ['uffd_fault', 'uffd_copy'])).toEqual({ uffd_fault: 2 * NR, uffd_copy: NR });
  });

  it('poison: the monitor answers even pages with UFFDIO_POISON (the woken reader gets SIGBUS) and odd ones with a zeroed UFFDIO_COPY: nr_pages / 2 SIGBUS', () => {
    const steps: unknown[] = [
      ...spawn,
      { op: 'uffdRegister', pid: 'p', region: 'dst', mode: 'missing', ioctls: ALL.filter((n) => n !== 'writeprotect') },
    ];
    for (let i = 0; i < NR; i++) {
      steps.push({
        op: 'access',
        pid: 'p',
        region: 'dst',
        offset: P(i),
        access: 'read',
        ...(i % 2 ? { expect: 0 } : {}),
      });
      if (i % 2) steps.push({ op: 'uffdCopy', pid: 'p', region: 'dst', offset: P(i), size: '4KiB', value: 0 });
      // the SIGBUS of the reader woken by the poison is reported at the poison step
      else steps.push({ op: 'uffdPoison', pid: 'p', region: 'dst', offset: P(i), size: '4KiB', expectError: 'SIGBUS' });
    }
    // the poisoned pages stay poisoned: another read is SIGBUS at once
    steps.push(
      { op: 'access', pid: 'p', region: 'dst', access: 'read', expectError: 'SIGBUS', phase: 'again' },
      {
        op: 'pagemap',
        pid: 'p',
        region: 'dst',
        size: '8KiB',
        expect: [{ present: false, swapped: true, uffdWp: false }, { present: true }],
      },
    );
    const r = run({ name: 't', steps });
    expect(r.checks).toEqual({ passed: 1 + NR / 2 + NR / 2 + 1 + 2, failed: 0, failures: [] });
    expect(r.blocked).toEqual([]);
    expect(ctrs(r, 'total', ['uffd_poison', 'uffd_copy', 'uffd_fault'])).toEqual({
      uffd_poison: NR / 2,
      uffd_copy: NR / 2,
      uffd_fault: NR,
    });
    expect(ctr(r, 'again', 'pgfault')).toBe(1);
  });
});
