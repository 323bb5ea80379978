/**
 * `mmsim check --seeds N`: seeds S..S+N-1 in turn, each with --runs runs, a result per kernel
 * and seed (what `check --queue` spreads over workers, one job each).
 */
import { describe, expect, it } from 'vitest';
import { checkCommand, checkComposition } from '../src/index.js';
import { captureIO } from './helpers.js';

const io = captureIO;

describe('mmsim check --seeds', () => {
  it('a result per kernel and seed, each the check of that seed alone', async () => {
    const c = io();
    const args = ['--kernel', 'linux-5.9', '--kernel', 'linux-6.18', '--hardware', 'flat', '--runs', '40'];
    const code = await checkCommand([...args, '--seed', '7', '--seeds', '3', '--json'], c.io);
    const doc = JSON.parse(c.out.join('')) as Array<{ kernel: string; seed: number; runs: number; steps: number }>;
    expect(doc.map((r) => `${r.kernel}:${r.seed}`)).toEqual([
      'linux-5.9:7',
      'linux-5.9:8',
      'linux-5.9:9',
      'linux-6.18:7',
      'linux-6.18:8',
      'linux-6.18:9',
    ]);
    expect(Object.keys(doc[0]!).slice(0, 2)).toEqual(['kernel', 'seed']);
    for (const r of doc) {
      const alone = checkComposition({ kernel: r.kernel, hardware: 'flat', runs: 40, seed: r.seed, maxSteps: 40 });
      expect([r.runs, r.steps]).toEqual([alone.runs, alone.steps]);
    }
    expect(code).toBe(doc.some((r) => (r as unknown as { violations: unknown[] }).violations.length) ? 1 : 0);
  });

  it('the text output names the seed; without --seeds it does not', async () => {
    const a = io();
    await checkCommand(['--kernel', 'linux-6.18', '--hardware', 'flat', '--runs', '20', '--seeds', '2'], a.io);
    expect(a.out.map((l) => l.split(':')[0])).toEqual(['linux-6.18 seed 1 on flat', 'linux-6.18 seed 2 on flat']);
    const b = io();
    await checkCommand(['--kernel', 'linux-6.18', '--hardware', 'flat', '--runs', '20'], b.io);
    expect(b.out.map((l) => l.split(':')[0])).toEqual(['linux-6.18 on flat']);
  });

  it('--seeds below 1 is bad input (exit 2)', async () => {
    const c = io();
    expect(await checkCommand(['--seeds', '0'], c.io)).toBe(2);
    expect(c.err.join('').split('\n')[0]).toBe('mmsim check: --seeds must be >= 1 (got 0)');
  });
});
