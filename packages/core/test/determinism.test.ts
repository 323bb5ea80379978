import { describe, expect, it } from 'vitest';
import { runScenario, ScenarioSchema } from '../src/index.js';
import { flatSystem, run } from './helpers.js';

const mixed = {
  name: 'mixed',
  steps: [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'thread', pid: 'p', cpu: 1, spin: true },
    { op: 'mmap', pid: 'p', name: 'b', size: '1MiB' },
    { op: 'touch', pid: 'p', region: 'b', access: 'write', pattern: 'random', phase: 'touch' },
    { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
    { op: 'touch', pid: 'c', region: 'b', access: 'write', size: '512KiB', phase: 'cow' },
    { op: 'madvise', pid: 'p', region: 'b', offset: '512KiB', size: '256KiB', advice: 'pageout', phase: 'pageout' },
    { op: 'touch', pid: 'p', region: 'b', access: 'read', pattern: 'random' },
    { op: 'exit', pid: 'c', phase: 'exit' },
  ],
};

/** Values the random touch left in the 16 pages of "b", in page order. */
function randomOrder(seed: number): number[] {
  const sys = flatSystem(1);
  const sc = ScenarioSchema.parse({
    name: 'rnd',
    steps: [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'b', size: '64KiB' },
      { op: 'touch', pid: 'p', region: 'b', access: 'write', pattern: 'random' },
    ],
  });
  runScenario(sys, sc, { seed });
  const k = sys.kernel;
  const vma = k.procs.get('p')!.mm.vmas[0]!;
  return Array.from({ length: 16 }, (_, i) => k.f.data[k.translate(k.procs.get('p')!.mm, vma.start + i, false)]!);
}

describe('determinism', () => {
  it('the same scenario twice gives deep-equal results', () => {
    const a = run(mixed);
    const b = run(mixed);
    expect(a).toEqual(b);
    expect(a.phases.cow!.counters.cow_copy).toBe(128);
  });

  it("pattern 'random': the same seed visits in the same order, another seed in another order", () => {
    const s1 = randomOrder(1);
    // a permutation of the fresh values 1..16
    expect([...s1].sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(s1).not.toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(randomOrder(1)).toEqual(s1);
    const s2 = randomOrder(2);
    expect(s2).not.toEqual(s1);
    expect(randomOrder(2)).toEqual(s2);
  });

  it('the scenario seed is used unless the run options override it', () => {
    const withSeed = { ...mixed, seed: 7 };
    expect(run(withSeed).seed).toBe(7);
    expect(run(withSeed, { seed: 9 }).seed).toBe(9);
    expect(run(mixed).seed).toBe(1);
  });
});
