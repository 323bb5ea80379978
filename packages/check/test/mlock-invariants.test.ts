import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema } from '@mmsim/core';
import { resolvePreset } from '@mmsim/presets';
import { checkInvariants } from '../src/index.js';

function system(kernel: string, memory?: number, lruGen = false) {
  const { config, plugins } = resolvePreset(kernel);
  return createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: plugins,
    config: {
      ...config,
      swap: { slots: 4096, synchronousIo: true },
      ...(memory ? { memoryPages: memory, vm: { lruGen, minFreeKbytes: 512 } } : {}),
    } as never,
  });
}

const FILES = { data: { size: '64KiB', seed: 3 } };
const STEPS = [
  { op: 'spawn', pid: 'a' },
  { op: 'mmap', pid: 'a', name: 'p', size: '64KiB' },
  { op: 'mmap', pid: 'a', name: 'f', size: '64KiB', file: 'data' },
  { op: 'touch', pid: 'a', region: 'p', size: '16KiB', access: 'write' },
  { op: 'mlock', pid: 'a', region: 'p', onfault: true },
  { op: 'touch', pid: 'a', region: 'p', access: 'write' },
  { op: 'mlock', pid: 'a', region: 'f' },
  { op: 'fork', pid: 'a', child: 'c' },
  { op: 'touch', pid: 'a', region: 'p', size: '8KiB', access: 'write' },
  { op: 'mlockall', pid: 'c', current: true, future: true },
  { op: 'munlock', pid: 'a', region: 'p', offset: '16KiB', size: '16KiB' },
  { op: 'madvise', pid: 'a', region: 'p', size: '8KiB', advice: 'dontneed_locked' },
  { op: 'mmap', pid: 'c', name: 'n', size: '16KiB' },
  { op: 'munlockall', pid: 'c' },
  { op: 'mlock', pid: 'c', region: 'p' },
  { op: 'munmap', pid: 'a', region: 'p', size: '32KiB' },
  { op: 'drain' },
  { op: 'exit', pid: 'a' },
  { op: 'exit', pid: 'c' },
];

describe('mmsim check invariants with mlock', () => {
  it.each(['linux-5.8', 'linux-6.18'])('%s: every prefix of the scenario is sound', (kernel) => {
    for (let n = 1; n <= STEPS.length; n++) {
      const sys = system(kernel);
      runScenario(sys, ScenarioSchema.parse({ name: 't', files: FILES, steps: STEPS.slice(0, n) }));
      expect({ n, v: checkInvariants(sys.kernel) }).toEqual({ n, v: [] });
    }
  });

  it.each([false, true])('under memory pressure (lruGen %s): sound, the locked pages stay', (lruGen) => {
    const steps = [
      { op: 'spawn', pid: 'a' },
      { op: 'mmap', pid: 'a', name: 'l', size: '1MiB' },
      { op: 'mlock', pid: 'a', region: 'l' },
      { op: 'fork', pid: 'a', child: 'c' },
      { op: 'mmap', pid: 'a', name: 'b', size: '3MiB' },
      { op: 'touch', pid: 'a', region: 'b', access: 'write' },
      { op: 'madvise', pid: 'c', region: 'l', advice: 'pageout' },
      { op: 'touch', pid: 'c', region: 'l', access: 'write' },
      { op: 'munlock', pid: 'a', region: 'l' },
      { op: 'touch', pid: 'a', region: 'b', access: 'read' },
    ];
    for (let n = 3; n <= steps.length; n++) {
      const sys = system('linux-6.18', 1024, lruGen);
      runScenario(sys, ScenarioSchema.parse({ name: 't', steps: steps.slice(0, n) }));
      expect({ n, v: checkInvariants(sys.kernel) }).toEqual({ n, v: [] });
    }
  });

  it.each([false, true])(
    'MADV_FREE under memory pressure (lruGen %s): lazyfree folios on the file lists, sound',
    (lruGen) => {
      const steps = [
        { op: 'spawn', pid: 'a' },
        { op: 'mmap', pid: 'a', name: 'l', size: '2MiB' },
        { op: 'touch', pid: 'a', region: 'l', access: 'write' },
        { op: 'fork', pid: 'a', child: 'c' },
        { op: 'madvise', pid: 'a', region: 'l', advice: 'free' },
        { op: 'drain' },
        { op: 'touch', pid: 'a', region: 'l', size: '64KiB', access: 'write' },
        { op: 'exit', pid: 'c' },
        { op: 'madvise', pid: 'a', region: 'l', size: '1MiB', advice: 'free' },
        { op: 'mmap', pid: 'a', name: 'b', size: '2MiB' },
        { op: 'touch', pid: 'a', region: 'b', access: 'write' },
        { op: 'madvise', pid: 'a', region: 'l', advice: 'pageout' },
        { op: 'touch', pid: 'a', region: 'l', access: 'read' },
      ];
      for (let n = 3; n <= steps.length; n++) {
        const sys = system('linux-6.18', 1024, lruGen);
        runScenario(sys, ScenarioSchema.parse({ name: 't', steps: steps.slice(0, n) }));
        expect({ n, v: checkInvariants(sys.kernel) }).toEqual({ n, v: [] });
      }
    },
  );
});
