import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema, type RunResult } from '@mmsim/core';
import refcountPolicy, { type Era } from '../src/index.js';

const FEATURES: Record<
  Era,
  {
    lruBatchSize: number;
    tryChangeWritable: boolean;
    uffdTryChangeWritable: boolean;
    swapinFreeOnWrite: boolean;
    swapinDrainLocal?: boolean;
  }
> = {
  'linux-5.7': { lruBatchSize: 15, tryChangeWritable: false, uffdTryChangeWritable: false, swapinFreeOnWrite: false },
  'linux-5.8': { lruBatchSize: 15, tryChangeWritable: false, uffdTryChangeWritable: false, swapinFreeOnWrite: false },
  'linux-5.9': { lruBatchSize: 15, tryChangeWritable: false, uffdTryChangeWritable: false, swapinFreeOnWrite: false },
  'linux-5.18': {
    lruBatchSize: 15,
    tryChangeWritable: false,
    uffdTryChangeWritable: false,
    swapinFreeOnWrite: false,
    swapinDrainLocal: true,
  },
  'linux-5.19': { lruBatchSize: 15, tryChangeWritable: true, uffdTryChangeWritable: false, swapinFreeOnWrite: true },
  'linux-6.11': { lruBatchSize: 31, tryChangeWritable: true, uffdTryChangeWritable: true, swapinFreeOnWrite: true },
};

function run(era: Era, steps: unknown[], opts: { synchronousIo?: boolean; cpus?: number } = {}): RunResult {
  const f = FEATURES[era];
  const sys = createSystem({
    hardware: new FlatHardware(opts.cpus ?? 2),
    presetPlugins: [refcountPolicy({ era })],
    config: {
      lruBatchSize: f.lruBatchSize,
      features: {
        tryChangeWritable: f.tryChangeWritable,
        uffdTryChangeWritable: f.uffdTryChangeWritable,
        swapinFreeOnWrite: f.swapinFreeOnWrite,
        swapinDrainLocal: f.swapinDrainLocal ?? f.swapinFreeOnWrite,
      },
      swap: { synchronousIo: opts.synchronousIo ?? true },
    },
  });
  return runScenario(sys, ScenarioSchema.parse({ name: 't', steps }));
}

const c = (r: RunResult, phase: string, name: string) => r.phases[phase]?.counters[name] ?? 0;

describe('seed 001: userfaultfd write-protect flow', () => {
  // UFFDIO_COPY(WP) maps a fresh page read-only with uffd-wp; the write traps to the monitor;
  // UFFDIO_WRITEPROTECT(off) resolves; the retried write takes do_wp_page().
  const steps = (rounds: number) => [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'buf', size: '4KiB' },
    { op: 'uffdRegister', pid: 'p', region: 'buf', mode: 'wp' },
    {
      op: 'repeat',
      times: rounds,
      steps: [
        { op: 'uffdCopy', pid: 'p', region: 'buf', wp: true, value: 5, phase: 'copy' },
        { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 6, phase: 'write' },
        { op: 'uffdWriteProtect', pid: 'p', region: 'buf', enable: false, phase: 'resolve' },
        { op: 'access', pid: 'p', region: 'buf', access: 'read', expect: 6, phase: 'check' },
        { op: 'madvise', pid: 'p', region: 'buf', advice: 'dontneed', phase: 'reset' },
      ],
    },
  ];
  const expected: Record<Era, { copies: number; reuses: number }> = {
    'linux-5.7': { copies: 0, reuses: 1 },
    'linux-5.8': { copies: 0, reuses: 1 },
    'linux-5.9': { copies: 1, reuses: 0 }, // the page is still in the LRU batch: page_count 2
    'linux-5.18': { copies: 0, reuses: 1 }, // !PageLRU → lru_add_drain() first
    'linux-5.19': { copies: 0, reuses: 1 }, // PageAnonExclusive
    'linux-6.11': { copies: 0, reuses: 0 }, // unprotect maps the exclusive page writable: no wp fault
  };
  for (const era of Object.keys(expected) as Era[]) {
    it(`${era}: ${expected[era].copies} copies per round`, () => {
      const r = run(era, steps(4));
      expect(c(r, 'resolve', 'cow_copy')).toBe(4 * expected[era].copies);
      expect(c(r, 'resolve', 'pgreuse')).toBe(4 * expected[era].reuses);
      expect(c(r, 'write', 'uffd_fault')).toBe(4);
      expect(r.checks.failed).toBe(0);
      expect(r.blocked).toEqual([]);
    });
  }
});

describe('seed 003: swap out, read, then write a single-owner page', () => {
  const steps = [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'buf', size: '4KiB' },
    { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 1 },
    { op: 'madvise', pid: 'p', region: 'buf', advice: 'pageout', phase: 'pageout' },
    { op: 'access', pid: 'p', region: 'buf', access: 'read', expect: 1, phase: 'read' },
    { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 2, phase: 'write' },
    { op: 'access', pid: 'p', region: 'buf', access: 'read', expect: 2, phase: 'check' },
  ];
  // [synchronous device (swap cache skipped), device keeping the swap cache]
  const expected: Record<Era, [string, string]> = {
    'linux-5.7': ['reuse', 'reuse'],
    'linux-5.8': ['reuse', 'reuse'],
    'linux-5.9': ['copy', 'copy'], // LRU batch reference / swap cache reference
    'linux-5.18': ['reuse', 'reuse'], // local drain / try_to_free_swap
    'linux-5.19': ['reuse', 'reuse'],
    'linux-6.11': ['no-fault', 'no-fault'], // mapped writable on the read fault
  };
  for (const era of Object.keys(expected) as Era[]) {
    for (const [i, sync] of [true, false].entries()) {
      it(`${era}, ${sync ? 'synchronous' : 'swap-cache'} device: ${expected[era][i]}`, () => {
        const r = run(era, steps, { synchronousIo: sync });
        const got =
          c(r, 'write', 'pgfault') === 0
            ? 'no-fault'
            : c(r, 'write', 'cow_copy') === 1
              ? 'copy'
              : c(r, 'write', 'pgreuse') === 1
                ? 'reuse'
                : '?';
        expect(got).toBe(expected[era][i]);
        expect(c(r, 'read', sync ? 'swapin_skip_swapcache' : 'swapin_cache_hit')).toBe(1);
        expect(r.checks).toMatchObject({ failed: 0, passed: 2 });
      });
    }
  }
});

describe('the limit of COW fixes patch 2: the batch entry sits on another CPU', () => {
  const steps = [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'thread', pid: 'p', cpu: 1 },
    { op: 'mmap', pid: 'p', name: 'buf', size: '4KiB' },
    { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 1 },
    { op: 'madvise', pid: 'p', region: 'buf', advice: 'pageout' },
    // the swap-in happens on cpu 1: the lru_add batch entry is cpu 1's
    { op: 'access', pid: 'p', region: 'buf', access: 'read', cpu: 1, phase: 'read' },
    // the write fault runs on cpu 0: lru_add_drain() drains cpu 0 only
    { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 2, cpu: 0, phase: 'write' },
  ];
  it('v5.18 copies (remote batch reference), v5.19 reuses (PageAnonExclusive)', () => {
    expect(c(run('linux-5.18', steps), 'write', 'cow_copy')).toBe(1);
    expect(c(run('linux-5.19', steps), 'write', 'pgreuse')).toBe(1);
  });
  it('a drain on cpu 1 first lets v5.18 reuse', () => {
    const s: unknown[] = [...steps];
    s.splice(6, 0, { op: 'drain', cpu: 1 });
    expect(c(run('linux-5.18', s), 'write', 'pgreuse')).toBe(1);
  });
});

describe('semantics through history (kernel-notes §6)', () => {
  // vmsplice-style (CVE-2020-29374): the child takes a R/O pin of a page shared with the
  // parent and unmaps it; the parent's later write must not show through the child's pin.
  const vmsplice = [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'buf', size: '4KiB' },
    { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 100 },
    { op: 'fork', pid: 'p', child: 'c' },
    { op: 'pin', pid: 'c', region: 'buf', write: false, id: 'vmsplice' },
    { op: 'munmap', pid: 'c', region: 'buf' },
    { op: 'access', pid: 'p', region: 'buf', access: 'write', value: 200 },
    { op: 'readPin', id: 'vmsplice', expect: 100 },
    { op: 'access', pid: 'p', region: 'buf', access: 'read', expect: 200 },
  ];
  it('linux-5.7 (mapcount rule, no GUP COW break) leaks the parent write into the pin', () => {
    const r = run('linux-5.7', vmsplice);
    expect(r.checks.failed).toBe(1);
    expect(r.checks.failures[0]!.message).toBe('read 200, expected 100');
  });
  for (const era of ['linux-5.8', 'linux-5.9', 'linux-5.18', 'linux-5.19', 'linux-6.11'] as Era[]) {
    it(`${era} keeps the pinned view`, () => {
      expect(run(era, vmsplice).checks).toMatchObject({ failed: 0, passed: 2 });
    });
  }

  // The same through swap (COW fixes part 1 cover letter): under v5.9 … v5.17 do_swap_page()
  // still reused by mapcount (reuse_swap_page), so the parent's write after a swap-out/in
  // lands in the page the child still has pinned.
  const viaSwap = [
    ...vmsplice.slice(0, 6),
    { op: 'madvise', pid: 'p', region: 'buf', advice: 'pageout' },
    ...vmsplice.slice(6),
  ];
  it('linux-5.9 leaks through the swap-in path', () => {
    const r = run('linux-5.9', viaSwap);
    expect(r.checks.failed).toBe(1);
  });
  for (const era of ['linux-5.18', 'linux-5.19', 'linux-6.11'] as Era[]) {
    it(`${era} does not leak through swap`, () => {
      expect(run(era, viaSwap).checks).toMatchObject({ failed: 0, passed: 2 });
    });
  }
});
