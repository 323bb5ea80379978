/**
 * tools/testing/selftests/mm/mlock2-tests.c, the anonymous cases (kernel/mlock.ts). Upstream reads
 * /proc/self/smaps: VmFlags "lo" (VM_LOCKED), Rss against Size. mmsim has no smaps step yet:
 * "lo" is read as the process's VmLck (mm->locked_vm: the pages of VM_LOCKED VMAs; the test's
 * mapping is the process's only one), Rss == Size as every page present in pagemap; the
 * kpageflags bits the older version of the test read (KPF_MLOCKED, KPF_UNEVICTABLE) are checked
 * too, and test_vma_management reads the VMAs of the mm directly.
 */
import { describe, expect, it } from 'vitest';
import { ctr, mem, run, runSys } from '../helpers.js';

const PAGE = 4096;
const spawn = { op: 'spawn', pid: 'p' };
const mmap = (pages: number) => ({ op: 'mmap', pid: 'p', name: 'm', size: pages * PAGE });
const pm = (expect: Record<string, unknown>, page?: number, pages = 1) => ({
  op: 'pagemap',
  pid: 'p',
  region: 'm',
  ...(page === undefined ? {} : { offset: page * PAGE, size: pages * PAGE }),
  expect,
});
const write = (page: number, phase?: string) => ({
  op: 'access',
  pid: 'p',
  region: 'm',
  offset: page * PAGE,
  access: 'write',
  value: 0x61,
  ...(phase ? { phase } : {}),
});
const LOCKED = { present: true, mlocked: true, unevictable: true };
const vmLck = (r: ReturnType<typeof run>, phase: string) => mem(r, phase).processes.p!.VmLck;

describe('mlock2-tests.c', () => {
  it('test_mlock_lock: mlock2(0) locks and populates the mapping; munlock unlocks it', () => {
    const r = run({
      name: 't',
      steps: [
        spawn,
        mmap(2),
        { op: 'mlock', pid: 'p', region: 'm', phase: 'lock' },
        pm(LOCKED), // lock_check(): Rss == Size
        { op: 'munlock', pid: 'p', region: 'm', phase: 'unlock' },
        pm({ present: true, mlocked: false, unevictable: false }),
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(4);
    expect(vmLck(r, 'lock')).toBe(8); // "lo"
    expect(vmLck(r, 'unlock')).toBe(0); // unlock_lock_check(): no "lo"
    // __mm_populate() write-faults both pages; each new folio is mlocked (mlock_new_folio())
    // and culled to the unevictable list when its batch drains
    expect({
      pgfault: ctr(r, 'lock', 'pgfault'),
      mlocked: ctr(r, 'lock', 'unevictable_pgs_mlocked'),
      culled: ctr(r, 'lock', 'unevictable_pgs_culled'),
    }).toEqual({ pgfault: 2, mlocked: 2, culled: 2 });
    expect([mem(r, 'lock').Mlocked, mem(r, 'lock').Unevictable]).toEqual([8, 8]);
    expect({
      munlocked: ctr(r, 'unlock', 'unevictable_pgs_munlocked'),
      rescued: ctr(r, 'unlock', 'unevictable_pgs_rescued'),
    }).toEqual({ munlocked: 2, rescued: 2 });
    expect([mem(r, 'unlock').Mlocked, mem(r, 'unlock').Unevictable, mem(r, 'unlock').Inactive_anon]).toEqual([0, 0, 8]);
  });

  it('test_mlock_onfault: MLOCK_ONFAULT populates nothing; the faulted page is locked; munlock clears it', () => {
    const r = run({
      name: 't',
      steps: [
        spawn,
        mmap(2),
        { op: 'mlock', pid: 'p', region: 'm', onfault: true, phase: 'lock' },
        pm({ present: false }),
        write(0, 'fault'), // onfault_check(): *map = 'a'
        // mlock_new_folio(): PG_mlocked now, the unevictable list when the CPU's batch drains
        pm({ present: true, mlocked: true, unevictable: false }, 0),
        { op: 'drain' },
        pm(LOCKED, 0),
        pm({ present: false }, 1), // is_vma_lock_on_fault(): Rss < Size
        { op: 'munlock', pid: 'p', region: 'm', phase: 'unlock' },
        pm({ present: true, mlocked: false, unevictable: false }, 0),
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(2 + 1 + 1 + 1 + 1);
    expect(ctr(r, 'lock', 'pgfault')).toBe(0);
    expect(vmLck(r, 'fault')).toBe(8);
    expect(vmLck(r, 'unlock')).toBe(0); // unlock_onfault_check()
    expect(ctr(r, 'fault', 'unevictable_pgs_mlocked')).toBe(1);
  });

  it('test_lock_onfault_of_present: MLOCK_ONFAULT locks the page already present, faults in nothing', () => {
    const r = run({
      name: 't',
      steps: [
        spawn,
        mmap(2),
        write(0),
        { op: 'mlock', pid: 'p', region: 'm', onfault: true, phase: 'lock' },
        pm(LOCKED, 0),
        pm({ present: false }, 1),
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(vmLck(r, 'lock')).toBe(8);
    // mlock_pte_range(): mlock_folio() moves the present page to the unevictable list
    expect({
      pgfault: ctr(r, 'lock', 'pgfault'),
      mlocked: ctr(r, 'lock', 'unevictable_pgs_mlocked'),
      culled: ctr(r, 'lock', 'unevictable_pgs_culled'),
    }).toEqual({ pgfault: 0, mlocked: 1, culled: 1 });
  });

  it('test_munlockall0: mlockall(MCL_CURRENT) locks and populates; munlockall() unlocks', () => {
    const r = run({
      name: 't',
      steps: [
        spawn,
        mmap(2),
        { op: 'mlockall', pid: 'p', current: true, phase: 'lock' },
        pm(LOCKED),
        { op: 'munlockall', pid: 'p', phase: 'unlock' },
        pm({ present: true, mlocked: false }),
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(vmLck(r, 'lock')).toBe(8);
    expect(vmLck(r, 'unlock')).toBe(0);
    expect(ctr(r, 'lock', 'pgfault')).toBe(2);
  });

  it('test_munlockall1: MCL_CURRENT|MCL_ONFAULT locks on fault; munlockall; MCL_CURRENT|MCL_FUTURE locks all', () => {
    const r = run({
      name: 't',
      steps: [
        spawn,
        mmap(2),
        { op: 'mlockall', pid: 'p', current: true, onfault: true, phase: 'onfault' },
        write(0),
        { op: 'drain' },
        pm(LOCKED, 0),
        pm({ present: false }, 1),
        { op: 'munlockall', pid: 'p', phase: 'unlock1' },
        pm({ present: true, mlocked: false }, 0),
        { op: 'mlockall', pid: 'p', current: true, future: true, phase: 'lock' },
        pm(LOCKED),
        { op: 'munlockall', pid: 'p', phase: 'unlock2' },
        pm({ present: true, mlocked: false, unevictable: false }),
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(vmLck(r, 'onfault')).toBe(8);
    expect(ctr(r, 'onfault', 'pgfault')).toBe(1);
    expect(vmLck(r, 'unlock1')).toBe(0);
    expect(vmLck(r, 'lock')).toBe(8);
    expect(ctr(r, 'lock', 'pgfault')).toBe(1); // the second page
    expect(vmLck(r, 'unlock2')).toBe(0);
  });

  /** The VMAs of p's mm after `steps` (a fresh run of the same deterministic steps each time). */
  const vmasAfter = (steps: unknown[]) => {
    const { r, sys } = runSys({ name: 't', steps });
    expect(r.checks.failures).toEqual([]);
    return sys.kernel.procs.get('p')!.mm.vmas.map((v) => [v.start, v.end]);
  };
  const vmaManagement = (prefix: unknown[], callMlock: boolean) => {
    const base = [...prefix, mmap(3), ...(callMlock ? [{ op: 'mlock', pid: 'p', region: 'm', onfault: true }] : [])];
    const one = vmasAfter(base);
    expect(one).toHaveLength(1); // all three pages in one VMA
    const [s] = one[0]!;
    const split = vmasAfter([...base, { op: 'munlock', pid: 'p', region: 'm', offset: PAGE, size: PAGE }]);
    expect(split).toEqual([
      [s, s! + 1],
      [s! + 1, s! + 2],
      [s! + 2, s! + 3],
    ]);
    const merged = vmasAfter([
      ...base,
      { op: 'munlock', pid: 'p', region: 'm', offset: PAGE, size: PAGE },
      { op: 'munlock', pid: 'p', region: 'm' },
    ]);
    expect(merged).toEqual([[s, s! + 3]]);
  };

  it('test_vma_management [mlock2]: munlock of the middle page splits the VMA in three, munlock of all merges it', () => {
    vmaManagement([spawn], true);
    const r = run({
      name: 't',
      steps: [spawn, mmap(3), { op: 'mlock', pid: 'p', region: 'm', onfault: true, phase: 'lock' }],
    });
    expect(vmLck(r, 'lock')).toBe(12);
  });

  it('test_mlockall: after mlockall(MCL_CURRENT|MCL_ONFAULT|MCL_FUTURE) a new mapping is locked on fault; test_vma_management(false)', () => {
    vmaManagement([spawn, { op: 'mlockall', pid: 'p', current: true, future: true, onfault: true }], false);
    const r = run({
      name: 't',
      steps: [
        spawn,
        { op: 'mlockall', pid: 'p', current: true, future: true, onfault: true },
        { ...mmap(3), phase: 'mmap' },
        pm({ present: false }),
        { op: 'munlockall', pid: 'p', phase: 'unlock' },
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(vmLck(r, 'mmap')).toBe(12); // mm->def_flags: VM_LOCKED | VM_LOCKONFAULT
    expect(ctr(r, 'mmap', 'pgfault')).toBe(0);
    expect(vmLck(r, 'unlock')).toBe(0);
  });
});
