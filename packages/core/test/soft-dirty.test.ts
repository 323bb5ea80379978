/**
 * Soft-dirty (tools/testing/selftests/mm/soft-dirty.c): clear_refs 4 clears it and
 * write-protects; the write fault sets it again (pte_mkdirty() on x86-like hardware).
 */
import { describe, expect, it } from 'vitest';
import { ctr, run } from './helpers.js';

const sd = (pid: string, softDirty: boolean, size = '4KiB') => ({
  op: 'pagemap',
  pid,
  region: 'a',
  size,
  expect: { softDirty },
});

describe('soft-dirty (mechanism; the selftest port is packages/presets/test/selftests/soft-dirty.test.ts)', () => {
  it('a new mapping is soft-dirty; clear_refs clears it; a write sets it again', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '8KiB' },
        sd('p', true, '8KiB'), // VM_SOFTDIRTY: even the holes
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1 },
        { op: 'clearRefs', pid: 'p', value: 4, phase: 'clear' },
        sd('p', false, '8KiB'),
        { op: 'access', pid: 'p', region: 'a', access: 'write', value: 2, phase: 'write' },
        sd('p', true),
        { op: 'pagemap', pid: 'p', region: 'a', offset: '4KiB', size: '4KiB', expect: { softDirty: false } },
        { op: 'clearRefs', pid: 'p', value: 4 },
        sd('p', false),
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(r.checks.passed).toBe(7);
    // the write after clear_refs is a write-protect fault (do_wp_page())
    expect(ctr(r, 'write', 'pgfault')).toBe(1);
    expect(ctr(r, 'clear', 'nr_tlb_local_flush_all')).toBe(1);
  });
  it('mprotect read-only and back to read-write keeps the PTE protected; the write sets soft-dirty', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '4KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1 },
        { op: 'clearRefs', pid: 'p', value: 4 },
        { op: 'mprotect', pid: 'p', region: 'a', prot: 'r' },
        { op: 'mprotect', pid: 'p', region: 'a', prot: 'rw' },
        sd('p', false),
        { op: 'access', pid: 'p', region: 'a', access: 'write', value: 2, phase: 'write' },
        sd('p', true),
      ],
    });
    expect(r.checks.failures).toEqual([]);
    expect(ctr(r, 'write', 'pgfault')).toBe(1);
  });
  it('a swapped-out page keeps and loses the bit in its swap entry', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '4KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1 },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout' },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { swapped: true, softDirty: true } },
        { op: 'clearRefs', pid: 'p', value: 4 },
        { op: 'pagemap', pid: 'p', region: 'a', expect: { swapped: true, softDirty: false } },
        { op: 'access', pid: 'p', region: 'a', access: 'read', expect: 1 },
        sd('p', false),
      ],
    });
    expect(r.checks.failures).toEqual([]);
  });
  it('clear_refs 1: the accessed bits are cleared', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '4KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1 },
        { op: 'clearRefs', pid: 'p', value: 1, phase: 'clear' },
      ],
    });
    expect(ctr(r, 'clear', 'nr_tlb_local_flush_all')).toBe(1);
  });
});
