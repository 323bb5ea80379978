import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema } from '@mmsim/core';
import { resolvePreset } from '@mmsim/presets';
import { checkInvariants } from '../src/index.js';

function system(kernel: string, memory?: number) {
  const { config, plugins } = resolvePreset(kernel);
  return createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: plugins,
    config: {
      ...config,
      swap: { slots: 4096, synchronousIo: true },
      ...(memory ? { memoryPages: memory } : {}),
    } as never,
  });
}

const FILES = { data: { size: '256KiB', seed: 3 }, shm: { size: '64KiB', shmem: true } };
const STEPS = [
  { op: 'spawn', pid: 'a' },
  { op: 'mmap', pid: 'a', name: 'p', size: '128KiB', file: 'data' },
  { op: 'mmap', pid: 'a', name: 's', size: '64KiB', file: 'data', offset: '64KiB', shared: true },
  { op: 'mmap', pid: 'a', name: 'z', size: '16KiB', shared: true },
  { op: 'mmap', pid: 'a', name: 'm', size: '64KiB', file: 'shm', shared: true },
  { op: 'touch', pid: 'a', region: 'p', access: 'read' },
  { op: 'touch', pid: 'a', region: 'p', size: '16KiB', access: 'write' },
  { op: 'touch', pid: 'a', region: 's', size: '32KiB', access: 'write' },
  { op: 'touch', pid: 'a', region: 'z', access: 'write' },
  { op: 'touch', pid: 'a', region: 'm', access: 'read' },
  { op: 'fork', pid: 'a', child: 'c' },
  { op: 'touch', pid: 'c', region: 'p', access: 'write' },
  { op: 'touch', pid: 'c', region: 's', access: 'read' },
  { op: 'touch', pid: 'c', region: 'm', access: 'write' },
  { op: 'munmap', pid: 'a', region: 'p', size: '64KiB' },
  { op: 'mremap', pid: 'a', region: 's', to: 's2' },
  { op: 'madvise', pid: 'c', region: 'p', advice: 'dontneed' },
  { op: 'exit', pid: 'a' },
  { op: 'drain' },
  { op: 'exit', pid: 'c' },
];

describe('mmsim check invariants over file, shared and shmem mappings', () => {
  it.each(['linux-5.8', 'linux-6.18'])('%s: every prefix of the scenario is sound', (kernel) => {
    for (let n = 1; n <= STEPS.length; n++) {
      const sys = system(kernel);
      runScenario(sys, ScenarioSchema.parse({ name: 't', files: FILES, steps: STEPS.slice(0, n) }));
      expect({ n, v: checkInvariants(sys.kernel) }).toEqual({ n, v: [] });
    }
  });

  it.each(['linux-5.8', 'linux-6.18'])(
    '%s: file reclaim, writeback and shmem swap under pressure keep the state sound',
    (kernel) => {
      const steps = [
        { op: 'spawn', pid: 'a' },
        { op: 'mmap', pid: 'a', name: 'm', size: '6MiB', file: 'big', shared: true },
        { op: 'mmap', pid: 'a', name: 'p', size: '2MiB', file: 'big', offset: '6MiB' },
        { op: 'mmap', pid: 'a', name: 's', size: '4MiB', shared: true },
        { op: 'mmap', pid: 'a', name: 'n', size: '2MiB' },
        { op: 'touch', pid: 'a', region: 'm', access: 'write' },
        { op: 'touch', pid: 'a', region: 'p', access: 'read' },
        { op: 'touch', pid: 'a', region: 'p', size: '1MiB', access: 'write' },
        { op: 'touch', pid: 'a', region: 's', access: 'write' },
        { op: 'touch', pid: 'a', region: 'n', access: 'write' },
        { op: 'read', pid: 'a', file: 'big' },
        { op: 'fork', pid: 'a', child: 'c' },
        { op: 'touch', pid: 'c', region: 's', access: 'read' },
        { op: 'touch', pid: 'c', region: 'm', access: 'read' },
        { op: 'write', pid: 'c', file: 'big', size: '4MiB', value: 9 },
        { op: 'exit', pid: 'a' },
        { op: 'touch', pid: 'c', region: 'p', access: 'read' },
      ];
      for (let n = 6; n <= steps.length; n++) {
        const sys = system(kernel, 2048);
        runScenario(
          sys,
          ScenarioSchema.parse({ name: 't', files: { big: { size: '12MiB' } }, steps: steps.slice(0, n) }),
        );
        expect({ n, v: checkInvariants(sys.kernel) }).toEqual({ n, v: [] });
      }
    },
  );

  it('a wrong Mapped count, a page-cache folio without its reference, a folio missing from i_pages are found', () => {
    const sys = system('linux-6.18');
    runScenario(sys, ScenarioSchema.parse({ name: 't', files: FILES, steps: STEPS.slice(0, 7) }));
    const k = sys.kernel;
    k.pageCache.nrFileMapped++;
    expect(checkInvariants(k).map((x) => x.kind)).toEqual(['rss']);
    k.pageCache.nrFileMapped--;
    const as = k.pageCache.byName.get('data')!;
    const h = as.folio[20]!;
    k.f.ref[h]!--;
    expect(checkInvariants(k)[0]!.message).toMatch(/page-cache/);
    k.f.ref[h]!++;
    as.folio[20] = -1;
    as.nrPages--;
    k.pageCache.nrFilePages--;
    expect(checkInvariants(k).map((x) => x.kind)).toContain('pagecache');
  });
});
