/**
 * `expectError`: a step's errno or signal as its observable result, with the run going on
 * (the selftests' `ASSERT_EQ(errno, EINVAL)` and their SIGSEGV handlers).
 */
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../src/index.js';
import { ctr, run, runError } from './helpers.js';

const spawnMap = [
  { op: 'spawn', pid: 'p' },
  { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
  { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 5 },
];

describe('expectError', () => {
  it('SIGSEGV: an access to a PROT_NONE page raises it; the run goes on and later steps run', () => {
    const r = run({
      name: 't',
      steps: [
        ...spawnMap,
        { op: 'mprotect', pid: 'p', region: 'a', size: '4KiB', prot: 'none' },
        { op: 'access', pid: 'p', region: 'a', access: 'read', expectError: 'SIGSEGV' },
        { op: 'access', pid: 'p', region: 'a', offset: '4KiB', access: 'read', expect: 5 },
      ],
    });
    expect(r.checks).toMatchObject({ passed: 2, failed: 0 });
  });
  it('SIGSEGV after munmap, in a touch', () => {
    const r = run({
      name: 't',
      steps: [
        ...spawnMap,
        { op: 'munmap', pid: 'p', region: 'a', offset: '8KiB', size: '4KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'read', expectError: 'SIGSEGV' },
      ],
    });
    expect(r.checks).toMatchObject({ passed: 1, failed: 0 });
  });
  it('ENOENT: UFFDIO_WRITEPROTECT on a range not registered in wp mode', () => {
    const r = run({
      name: 't',
      steps: [...spawnMap, { op: 'uffdWriteProtect', pid: 'p', region: 'a', enable: true, expectError: 'ENOENT' }],
    });
    expect(r.checks).toMatchObject({ passed: 1, failed: 0 });
  });
  it('a step that succeeds where an error was expected is a failed check, and the run goes on', () => {
    const r = run({
      name: 't',
      steps: [
        ...spawnMap,
        { op: 'access', pid: 'p', region: 'a', access: 'read', expectError: 'SIGSEGV' },
        { op: 'access', pid: 'p', region: 'a', access: 'read', expect: 5 },
      ],
    });
    expect(r.checks.passed).toBe(1);
    expect(r.checks.failed).toBe(1);
    expect(r.checks.failures[0]).toEqual({ step: 'steps[3]', message: 'succeeded, expected SIGSEGV' });
  });
  it('another error than the expected one is a failed check naming both', () => {
    const r = run({
      name: 't',
      steps: [
        ...spawnMap,
        { op: 'mprotect', pid: 'p', region: 'a', prot: 'none' },
        { op: 'access', pid: 'p', region: 'a', access: 'read', expectError: 'SIGBUS' },
      ],
    });
    expect(r.checks.failures).toEqual([{ step: 'steps[4]', message: 'failed with SIGSEGV, expected SIGBUS' }]);
  });
  it('MADV_COLLAPSE returns its errno without stopping the run (madvise_collapse_errno())', () => {
    const r = run({
      name: 't',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '2MiB', align: '2MiB' },
        // nothing mapped yet: SCAN_PMD_NULL, EINVAL
        { op: 'madvise', pid: 'p', region: 'a', advice: 'collapse', expectError: 'EINVAL' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 1 },
        { op: 'pin', pid: 'p', region: 'a', size: '4KiB', write: false, id: 'x' },
        // a pinned page: is_refcount_suitable() fails, SCAN_PAGE_COUNT, EAGAIN
        { op: 'madvise', pid: 'p', region: 'a', advice: 'collapse', expectError: 'EAGAIN', phase: 'pinned' },
        { op: 'unpin', id: 'x' },
        { op: 'madvise', pid: 'p', region: 'a', advice: 'collapse', phase: 'ok' },
      ],
    });
    expect(r.checks).toMatchObject({ passed: 2, failed: 0 });
    expect(ctr(r, 'pinned', 'thp_collapse_failed')).toBe(1);
    expect(ctr(r, 'ok', 'thp_collapse_alloc')).toBe(1);
  });
  it('bad input is still bad input: an unknown region ends the run with the field named', () => {
    const e = runError({
      name: 't',
      steps: [...spawnMap, { op: 'access', pid: 'p', region: 'nope', access: 'read', expectError: 'SIGSEGV' }],
    });
    expect(e).toBeInstanceOf(ScenarioError);
    expect(e.message).toContain('steps[3]');
  });
  it('an error the step does not expect still ends the run', () => {
    const e = runError({
      name: 't',
      steps: [
        ...spawnMap,
        { op: 'munmap', pid: 'p', region: 'a' },
        { op: 'access', pid: 'p', region: 'a', access: 'read' },
      ],
    });
    expect(e).toBeInstanceOf(ScenarioError);
    expect(e.message).toMatch(/segmentation fault/);
  });
  it('an unknown errno name is bad input', () => {
    const e = runError({
      name: 't',
      steps: [...spawnMap, { op: 'access', pid: 'p', region: 'a', access: 'read', expectError: 'EWHATEVER' }],
    });
    expect(e.message).toMatch(/expectError/);
  });
});
