/**
 * tools/testing/selftests/mm/soft-dirty.c on linux-6.18 (x86: soft-dirty is a PTE bit; arm64
 * has none). pagemap_is_softdirty() is a pagemap step; clear_softdirty() is clear_refs 4. The
 * selftest's 10,000 iterations are three rounds here (each round is the same state change).
 */
import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema, type RunResult } from '@mmsim/core';
import { resolvePreset } from '../../src/index.js';

function run(sc: Record<string, unknown>, thp: Record<string, string> = { top: 'madvise' }): RunResult {
  const { config, plugins } = resolvePreset('linux-6.18');
  const sys = createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: plugins,
    config: { ...config, thp } as never,
  });
  return runScenario(sys, ScenarioSchema.parse({ name: 'soft-dirty.c', ...sc }), { file: 'soft-dirty.c' });
}
const isSoftDirty = (softDirty: boolean, region = 'a') => ({
  op: 'pagemap',
  pid: 'p',
  region,
  size: 4096,
  expect: { softDirty },
});
const clearSoftDirty = { op: 'clearRefs', pid: 'p', value: 4 };
const ok = (r: RunResult, checks: number) => {
  expect(r.checks.failures).toEqual([]);
  expect(r.checks.passed).toBe(checks);
};
/** the loop body of test_simple / test_hugepage: clean, write, dirty, clear */
const rounds = (n: number) => ({
  op: 'repeat',
  times: n,
  steps: [
    isSoftDirty(false),
    clearSoftDirty,
    { op: 'access', pid: 'p', region: 'a', access: 'write' },
    isSoftDirty(true),
    clearSoftDirty,
  ],
});

describe('soft-dirty.c', () => {
  it('test_simple: after clear_refs a page is clean; a write makes it soft-dirty, every round', () => {
    const r = run({
      steps: [{ op: 'spawn', pid: 'p' }, { op: 'mmap', pid: 'p', name: 'a', size: '4KiB' }, clearSoftDirty, rounds(3)],
    });
    ok(r, 6);
  });

  it('test_vma_reuse: a new mapping is soft-dirty, also after clear_refs and munmap of the one before (mmsim never reuses the address: the selftest skips its second check then)', () => {
    const r = run({
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '4KiB' },
        isSoftDirty(true),
        clearSoftDirty,
        { op: 'munmap', pid: 'p', region: 'a' },
        { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
        isSoftDirty(true, 'b'),
      ],
    });
    ok(r, 2);
  });

  it('test_hugepage: a PMD-mapped THP (MADV_HUGEPAGE) is clean after clear_refs and soft-dirty after a write, every round', () => {
    const r = run({
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '2MiB', align: '2MiB' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'hugepage' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write' },
        // check_huge_anon(map, 1, hpage_len)
        { op: 'pagemap', pid: 'p', region: 'a', size: 4096, expect: { pmdMapped: true } },
        clearSoftDirty,
        rounds(3),
        { op: 'pagemap', pid: 'p', region: 'a', size: 4096, expect: { pmdMapped: true } },
      ],
    });
    ok(r, 8);
  });

  /** test_mprotect(pagemap_fd, pagesize, anon) */
  const testMprotect = (mmap: Record<string, unknown>) => {
    const r = run({
      files: { f: { size: '4KiB' } },
      steps: [
        { op: 'spawn', pid: 'p' },
        mmap,
        { op: 'access', pid: 'p', region: 'a', access: 'write', value: 1 },
        isSoftDirty(true),
        clearSoftDirty,
        isSoftDirty(false),
        { op: 'mprotect', pid: 'p', region: 'a', prot: 'r' },
        isSoftDirty(false),
        { op: 'mprotect', pid: 'p', region: 'a', prot: 'rw' },
        isSoftDirty(false),
        { op: 'access', pid: 'p', region: 'a', access: 'write', value: 2 },
        isSoftDirty(true),
        { op: 'access', pid: 'p', region: 'a', access: 'read', expect: 2 },
      ],
    });
    ok(r, 6);
  };
  it('test_mprotect_anon: written, soft-dirty; clean after clear_refs, after mprotect(PROT_READ) and back to PROT_READ|PROT_WRITE; soft-dirty after the rewrite', () =>
    testMprotect({ op: 'mmap', pid: 'p', name: 'a', size: '4KiB' }));
  it('test_mprotect_file: the same on a MAP_SHARED file mapping (do_shared_fault(), wp_page_shared())', () =>
    testMprotect({ op: 'mmap', pid: 'p', name: 'a', size: '4KiB', file: 'f', shared: true }));
});
