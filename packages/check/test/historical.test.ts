/**
 * The historical bugs (packages/policy-refcount/test/eras.test.ts), found by fuzzing within a
 * fixed budget and shrunk: linux-5.7's vmsplice leak (CVE-2020-29374) and linux-5.9's leak
 * through swap-in, plus the other eras' known pin bugs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Step } from '@mmsim/core';
import { checkComposition, HISTORICAL_PRESETS, replayScenario, type Violation } from '../src/index.js';
import { drive, P } from './helpers.js';

/** pins, forks, exits and page-outs: the op mix of the pin/COW bugs */
const PINS = {
  spawn: 1,
  mmap: 2,
  write: 6,
  read: 1,
  fork: 3,
  exit: 2,
  munmap: 1,
  madvise: 1,
  pageout: 3,
  pin: 3,
  readPin: 1,
};
const leak = (v: Violation) => v.kind === 'pin-leak';
const ops = (steps: Step[]) => steps.map((s) => s.op);

describe('linux-5.7: the vmsplice leak (mapcount rule, no GUP unsharing)', () => {
  it('the eras.test.ts scenario leaks the parent write into the child pin', () => {
    const { violation } = drive(
      [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'buf', size: P },
        { op: 'access', pid: 'p', region: 'buf', offset: 0, access: 'write', value: 100 },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'pin', pid: 'c', region: 'buf', offset: 0, size: P, write: false, id: 'vmsplice' },
        { op: 'munmap', pid: 'c', region: 'buf' },
        { op: 'access', pid: 'p', region: 'buf', offset: 0, access: 'write', value: 200 },
      ],
      { kernel: 'linux-5.7' },
    );
    expect(violation?.kind).toBe('pin-leak');
    expect(violation?.message).toMatch(/reads 200, the reference model says 100/);
  });

  it('fuzzing with read-only pins finds it, shrunk; the scenario fails under replay', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-check-'));
    const r = checkComposition({
      kernel: 'linux-5.7',
      runs: 3000,
      seed: 1,
      maxSteps: 50,
      failOn: leak,
      weights: { ...PINS, pageout: 0 },
      outDir: dir,
    });
    expect(r.violations).toHaveLength(1);
    const v = r.violations[0]!;
    expect(v.kind).toBe('pin-leak');
    expect(v.shrunkSteps).toBeLessThanOrEqual(10);
    expect(ops(v.scenario.steps)).toEqual(expect.arrayContaining(['fork', 'pin']));
    expect((await replayScenario(v.scenario, dir)).failed).toBe(true);
  });
});

describe('linux-5.9: the leak through swap-in (reuse_swap_page by mapcount)', () => {
  it('is found by fuzzing with page-outs, shrunk, and needs the page-out', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-check-'));
    const r = checkComposition({
      kernel: 'linux-5.9',
      runs: 3000,
      seed: 1,
      maxSteps: 50,
      failOn: leak,
      weights: PINS,
      outDir: dir,
    });
    expect(r.violations).toHaveLength(1);
    const v = r.violations[0]!;
    expect(v.kind).toBe('pin-leak');
    expect(v.shrunkSteps).toBeLessThanOrEqual(12);
    expect(v.scenario.steps.some((s) => s.op === 'madvise' && s.advice === 'pageout')).toBe(true);
    expect((await replayScenario(v.scenario, dir)).failed).toBe(true);
  });

  it('without page-outs, the same budget finds no leak in linux-5.9', () => {
    const r = checkComposition({
      kernel: 'linux-5.9',
      runs: 3000,
      seed: 1,
      maxSteps: 50,
      failOn: leak,
      weights: { ...PINS, pageout: 0, madvise: 0 },
    });
    expect(r.violations).toEqual([]);
  });
});

describe('linux-5.9: the THP path of the leak (do_huge_pmd_wp_page by mapcount)', () => {
  it('is found by fuzzing with PMD-sized THPs, shrunk, and fails under replay', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-check-'));
    const r = checkComposition({
      kernel: 'linux-5.9',
      thp: true,
      largeFolios: false,
      runs: 3000,
      seed: 1,
      maxSteps: 50,
      failOn: leak,
      weights: { ...PINS, pageout: 0, madvise: 0 },
      outDir: dir,
    });
    expect(r.violations).toHaveLength(1);
    const v = r.violations[0]!;
    expect(v.kind).toBe('pin-leak');
    expect(v.shrunkSteps).toBeLessThanOrEqual(14);
    expect(ops(v.scenario.steps)).toEqual(expect.arrayContaining(['fork', 'pin']));
    expect(v.scenario.system?.thp).toEqual({ top: 'always' });
    expect((await replayScenario(v.scenario, dir)).failed).toBe(true);
  });

  it('linux-5.18 (page_count rule for THP) survives the same budget', () => {
    const r = checkComposition({
      kernel: 'linux-5.18',
      thp: true,
      largeFolios: false,
      runs: 3000,
      seed: 1,
      maxSteps: 50,
      failOn: leak,
      weights: { ...PINS, pageout: 0, madvise: 0 },
    });
    expect(r.violations).toEqual([]);
    expect(r.counters.thp_fault_alloc).toBeGreaterThan(100);
  });
});

describe('every historical preset fails the default fuzzing quickly', () => {
  for (const kernel of Object.keys(HISTORICAL_PRESETS)) {
    it(kernel, () => {
      const r = checkComposition({ kernel, runs: 500, seed: 1, maxSteps: 40 });
      expect(r.violations.length, `${kernel} should fail: ${HISTORICAL_PRESETS[kernel]}`).toBe(1);
      expect(r.violations[0]!.kind).toMatch(/^pin/);
      expect(r.violations[0]!.shrunkSteps).toBeLessThanOrEqual(10);
    });
  }
});
