/**
 * The deliberately unsafe demo policies: the checker finds each by fuzzing within a fixed
 * budget, shrinks it, and the written scenario fails when replayed.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinPolicy, checkComposition, replayScenario, type CheckOptions } from '../src/index.js';
import { drive, P } from './helpers.js';

/** the op mix of large-folio work: writes, fork, partial-fork advice, pins */
const LARGE = { spawn: 1, mmap: 2, write: 6, read: 1, fork: 3, exit: 1, madvise: 3, pinWrite: 3, pin: 1, readPin: 1 };

async function findAndReplay(o: CheckOptions) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-check-'));
  const r = checkComposition({ ...o, outDir: dir });
  expect(r.violations).toHaveLength(1);
  const v = r.violations[0]!;
  expect(v.shrunkSteps).toBeLessThanOrEqual(12);
  expect(v.shrunkSteps).toBeLessThan(v.originalSteps + 3);
  const file = JSON.parse(readFileSync(v.file!, 'utf8'));
  const replay = await replayScenario(file, dir);
  expect(replay.failed).toBe(true);
  return { r, v, replay };
}

describe('unsafe-large-cow (seed 004: replacing exclusive, pinned sub-pages)', () => {
  it('the hand-written seed-004 sequence breaks the pin', () => {
    const { violation } = drive(
      [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'a', size: 16 * P },
        { op: 'access', pid: 'p', region: 'a', offset: 0, access: 'write', value: 11 },
        { op: 'madvise', pid: 'p', region: 'a', offset: 0, size: 8 * P, advice: 'dontfork' },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'pin', pid: 'p', region: 'a', offset: P, size: P, write: true, id: 'x' },
        { op: 'access', pid: 'p', region: 'a', offset: 9 * P, access: 'write', value: 12 },
      ],
      { policies: ['unsafe-large-cow'], largeFolios: true },
    );
    expect(violation?.kind).toBe('pin');
    expect(violation?.message).toMatch(/pin "x" page 0 holds pfn \d+, but its owner "p" now maps pfn \d+/);
  });

  it('is found by fuzzing, shrunk, and the scenario fails under replay', async () => {
    // the default op mix: it finds the MADV_WIPEONFORK path of the thread by itself
    const { v, replay } = await findAndReplay({
      kernel: 'linux-6.18',
      policies: ['unsafe-large-cow'],
      runs: 3000,
      seed: 1,
      maxSteps: 50,
    });
    expect(v.kind).toBe('pin');
    expect(replay.message).toMatch(/read \d+, expected \d+/);
  });

  it('with the fix from the thread (only maybe-shared sub-pages are replaced) the budget finds nothing', () => {
    const fixed = builtinPolicy('unsafe-large-cow', { respectExclusive: true })!;
    const r = checkComposition({
      kernel: 'linux-6.18',
      policies: [fixed],
      runs: 1500,
      seed: 1,
      maxSteps: 50,
      largeFolios: true,
      weights: LARGE,
    });
    expect(r.violations).toEqual([]);
    expect(r.runs).toBe(1500);
  });
});

describe('no-flush-cow (a COW that skips the TLB flush)', () => {
  it('is found on the strict TLB, shrunk, and the replay hits the stale entry', async () => {
    const { v, replay } = await findAndReplay({
      kernel: 'linux-6.18',
      policies: ['no-flush-cow'],
      runs: 3000,
      seed: 1,
      maxSteps: 50,
    });
    expect(v.kind).toBe('tlb');
    expect(replay.message).toMatch(/stale TLB entry/);
  });

  it('goes unnoticed on hardware without a TLB', () => {
    const r = checkComposition({
      kernel: 'linux-6.18',
      policies: ['no-flush-cow'],
      hardware: 'flat',
      runs: 300,
      seed: 1,
      maxSteps: 40,
    });
    expect(r.violations).toEqual([]);
  });
});
