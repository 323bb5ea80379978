import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema, type Step } from '@mmsim/core';
import { resolvePreset } from '@mmsim/presets';
import { checkInvariants } from '../src/index.js';

const P = 4096;

/** KSM through merges, CoW, fork, zero pages, unmerge, munmap and exit; invariants after every step. */
function busy(kernel: string) {
  const { config, plugins } = resolvePreset(kernel);
  const sys = createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: plugins,
    config: { ...config, memoryPages: 2048, ksm: { run: 1, use_zero_pages: true } } as never,
  });
  const steps: Step[] = ScenarioSchema.parse({
    name: 't',
    steps: [
      { op: 'spawn', pid: 'p' },
      { op: 'mmap', pid: 'p', name: 'a', size: 64 * P },
      { op: 'touch', pid: 'p', region: 'a', size: 32 * P, access: 'write', value: 7 },
      { op: 'touch', pid: 'p', region: 'a', offset: 32 * P, access: 'write', value: 0 },
      { op: 'madvise', pid: 'p', region: 'a', advice: 'mergeable' },
      { op: 'spawn', pid: 'q', cpu: 1 },
      { op: 'mmap', pid: 'q', name: 'b', size: 16 * P },
      { op: 'touch', pid: 'q', region: 'b', access: 'write', value: 7, cpu: 1 },
      { op: 'madvise', pid: 'q', region: 'b', advice: 'mergeable', cpu: 1 },
      { op: 'ksmd', fullScans: 2 },
      { op: 'fork', pid: 'p', child: 'c' },
      { op: 'touch', pid: 'c', region: 'a', size: 8 * P, access: 'write', value: 3 },
      { op: 'ksmd', pages: 20 },
      { op: 'touch', pid: 'p', region: 'a', offset: 40 * P, size: 4 * P, access: 'write', value: 7 },
      { op: 'madvise', pid: 'p', region: 'a', offset: 8 * P, size: 8 * P, advice: 'unmergeable' },
      { op: 'ksmd', fullScans: 2 },
      { op: 'madvise', pid: 'c', region: 'a', size: 16 * P, advice: 'dontneed' },
      { op: 'munmap', pid: 'q', region: 'b' },
      { op: 'ksmd', fullScans: 1 },
      { op: 'exit', pid: 'c' },
      { op: 'ksm', run: 2 },
      { op: 'ksmd', pages: 10 },
    ],
  }).steps;
  const bad: string[] = [];
  const sc = ScenarioSchema.parse({ name: 't', steps: [] });
  for (let i = 1; i <= steps.length; i++) {
    const s2 = createSystem({
      hardware: new FlatHardware(2),
      presetPlugins: plugins,
      config: { ...config, memoryPages: 2048, ksm: { run: 1, use_zero_pages: true } } as never,
    });
    runScenario(s2, { ...sc, steps: steps.slice(0, i) });
    for (const x of checkInvariants(s2.kernel)) bad.push(`after steps[${i - 1}]: [${x.kind}] ${x.message}`);
  }
  runScenario(sys, { ...sc, steps });
  return { k: sys.kernel, bad };
}

describe('invariant: KSM stable tree, folio flags, rmap_items and counters agree', () => {
  it.each(['linux-5.9', 'linux-6.18'])(
    '%s: merging, CoW, fork, unmerge, munmap, exit and run=2 stay sound',
    (kernel) => {
      const { k, bad } = busy(kernel);
      expect(bad).toEqual([]);
      expect(k.ksm!.rmapItems).toBe(0);
      expect(checkInvariants(k)).toEqual([]);
    },
  );
  it('a KSM folio whose stable node left the tree and a lost pages_sharing are caught', () => {
    const { config, plugins } = resolvePreset('linux-6.18');
    const sys = createSystem({ hardware: new FlatHardware(2), presetPlugins: plugins, config: config as never });
    runScenario(
      sys,
      ScenarioSchema.parse({
        name: 't',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: 4 * P },
          { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 7 },
          { op: 'madvise', pid: 'p', region: 'a', advice: 'mergeable' },
          { op: 'ksm', run: 1 },
          { op: 'ksmd', fullScans: 2 },
        ],
      }),
    );
    const k = sys.kernel;
    expect(checkInvariants(k)).toEqual([]);
    k.ksm!.pagesSharing--;
    const pfn = k.translate(k.procs.get('p')!.mm, k.procs.get('p')!.mm.vmas[0]!.start, false);
    const node = k.ksm!.nodeOfPfn.get(pfn)!;
    k.ksm!.stable.delete(node.key);
    const kinds = checkInvariants(k).map((x) => x.message);
    expect(kinds.some((m) => m.includes('names a stable node that is not in the stable tree'))).toBe(true);
    expect(kinds.some((m) => m.includes('pages_sharing 2'))).toBe(true);
  });
});

describe('mmsim check --ksm', () => {
  // (linux-5.8 is historical: its GUP-after-fork bug is found with or without KSM)
  it.each(['linux-5.19', 'linux-6.18'])(
    '%s: fuzzing with MADV_(UN)MERGEABLE and ksmd steps finds nothing over 200 runs, and pages merge',
    async (kernel) => {
      const { buildSystem, checkComposition, resolveComposition } = await import('../src/index.js');
      const c = resolveComposition({ kernel, ksm: true });
      const sys = buildSystem(c, { largeFolios: false, swapSync: true, smallBatches: false });
      expect(sys.kernel.ksm?.knobs.run).toBe(1);
      const r = checkComposition({ kernel, hardware: 'strict', ksm: true, runs: 200, seed: 1, maxSteps: 40 });
      expect(r.runs).toBe(200);
      expect(r.violations).toEqual([]);
      expect(r.counters.ksm_full_scans).toBeGreaterThan(0);
      expect(r.counters.ksm_pages_sharing ?? 0).toBeGreaterThan(0);
    },
  );
});
