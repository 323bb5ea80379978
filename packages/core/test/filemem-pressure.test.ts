import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, LRU, runScenario, ScenarioSchema, type KernelConfig } from '../src/index.js';

type Config = Partial<Omit<KernelConfig, 'features' | 'swap' | 'vm'>> & {
  swap?: Partial<KernelConfig['swap']>;
  features?: Partial<KernelConfig['features']>;
};
function run(config: Config, files: Record<string, unknown>, steps: unknown[]) {
  const sys = createSystem({ hardware: new FlatHardware(1), config });
  const r = runScenario(sys, ScenarioSchema.parse({ name: 't', files, steps: [{ op: 'spawn', pid: 'a' }, ...steps] }));
  return { r, k: sys.kernel };
}
const MEM8 = { memoryPages: 2048, swap: { slots: 8192 } };
const c = (r: { phases: Record<string, { counters: Record<string, number> }> }, ph: string, n: string) =>
  r.phases[ph]!.counters[n] ?? 0;

describe('file reclaim under memory pressure (system.memory 8 MiB)', () => {
  it('a 16 MiB file read twice: clean page cache is dropped with shadow entries, the second read refaults', () => {
    const { r, k } = run(MEM8, { big: { size: '16MiB' } }, [
      { op: 'read', pid: 'a', file: 'big', phase: 'first' },
      { op: 'read', pid: 'a', file: 'big', phase: 'second' },
    ]);
    // every page read from the disk once per pass (4 kB each)
    expect(c(r, 'first', 'pgpgin')).toBe(4096 * 4);
    expect(c(r, 'first', 'workingset_refault_file')).toBe(0);
    expect(c(r, 'first', 'pgpgout')).toBe(0); // clean: nothing written
    expect(c(r, 'first', 'pgsteal_kswapd')).toBe(2185);
    expect(r.phases.first!.meminfo).toMatchObject({ Cached: 7644, Inactive_file: 7564, Active_file: 0, Mapped: 0 });
    // what the first pass left cached is read again without I/O; the rest refaults
    const reread = c(r, 'second', 'pgpgin') / 4;
    expect(reread).toBe(4096);
    expect(c(r, 'second', 'workingset_refault_file')).toBe(4096);
    expect(c(r, 'second', 'pgmajfault')).toBe(0); // read(2), not a fault
    expect(k.pageCache.nrFilePages).toBe(
      k.lruvec.pages[LRU.inactiveFile]! + k.lruvec.pages[LRU.activeFile]! + k.cpus[0]!.lru.add.length,
    );
    expect(r.total.counters.pswpout ?? 0).toBe(0);
  });

  it('a file mapped and faulted in twice: major faults, refaults and their activations', () => {
    const { r } = run(MEM8, { big: { size: '12MiB' } }, [
      { op: 'mmap', pid: 'a', name: 'm', size: '12MiB', file: 'big' },
      { op: 'touch', pid: 'a', region: 'm', access: 'read', phase: 'first' },
      { op: 'touch', pid: 'a', region: 'm', access: 'read', phase: 'second' },
    ]);
    expect(c(r, 'first', 'pgmajfault')).toBe(3072);
    expect(c(r, 'first', 'pgsteal')).toBe(1285);
    // the file is larger than the memory: the whole second pass refaults, and nothing activates
    // (the refault distance is beyond NR_ACTIVE_FILE + the anon lists: workingset_test_recent())
    expect(c(r, 'second', 'pgmajfault')).toBe(3072);
    expect(c(r, 'second', 'workingset_refault_file')).toBe(3072);
    expect(c(r, 'second', 'workingset_activate_file')).toBe(0);
    expect(r.phases.second!.meminfo).toMatchObject({ Cached: 7132, Mapped: 7132 });
  });

  it('a dirty shared mapping is written back before its pages are freed; the file keeps the data', () => {
    const { r, k } = run(MEM8, { big: { size: '16MiB' } }, [
      { op: 'mmap', pid: 'a', name: 'm', size: '16MiB', file: 'big', shared: true },
      { op: 'touch', pid: 'a', region: 'm', access: 'write', value: 7, phase: 'write' },
      { op: 'munmap', pid: 'a', region: 'm', phase: 'check' },
      { op: 'read', pid: 'a', file: 'big', size: '4KiB', expect: 7, phase: 'check' },
      { op: 'read', pid: 'a', file: 'big', offset: '8MiB', size: '4KiB', expect: 7, phase: 'check' },
    ]);
    expect(r.checks).toMatchObject({ passed: 2, failed: 0 });
    const written = c(r, 'write', 'nr_written');
    expect(written).toBe(2986);
    expect(c(r, 'write', 'pgsteal')).toBe(2198);
    expect(r.phases.write!.meminfo).toMatchObject({ Dirty: 4440, Mapped: 4440, Cached: 7592 });
    expect(c(r, 'write', 'pgpgout')).toBe(written * 4);
    // a page is freed only once written: every page reclaimed was written first
    expect(c(r, 'write', 'pgsteal_kswapd') + c(r, 'write', 'pgsteal_direct')).toBeLessThanOrEqual(written);
    const as = k.pageCache.byName.get('big')!;
    let onDisk = 0;
    for (let i = 0; i < as.pages; i++) if (as.disk[i] === 7) onDisk++;
    expect(onDisk).toBe(written);
    expect(r.total.counters.pswpout ?? 0).toBe(0);
  });

  it('shmem (MAP_SHARED|MAP_ANONYMOUS) is swapped out like anon and swapped back in on fault', () => {
    const { r } = run(MEM8, {}, [
      { op: 'mmap', pid: 'a', name: 's', size: '12MiB', shared: true },
      { op: 'touch', pid: 'a', region: 's', access: 'write', value: 5, phase: 'write' },
      { op: 'access', pid: 'a', region: 's', access: 'read', expect: 5, phase: 'back' },
      { op: 'touch', pid: 'a', region: 's', access: 'read', phase: 'back' },
    ]);
    expect(r.checks).toMatchObject({ passed: 1, failed: 0 });
    expect(c(r, 'write', 'pswpout')).toBe(1122);
    expect(r.phases.write!.meminfo).toMatchObject({ Shmem: 7800, Inactive_anon: 7776, Inactive_file: 0, Dirty: 0 });
    expect(c(r, 'back', 'pswpin')).toBe(3072);
    expect(c(r, 'back', 'pgmajfault')).toBe(c(r, 'back', 'pswpin'));
    expect(r.total.counters.pgpgout ?? 0).toBe(0);
  });

  it('a file read twice is activated (folio_mark_accessed) and survives a 16 MiB stream read once', () => {
    const { r } = run(MEM8, { hot: { size: '2MiB' }, big: { size: '16MiB' } }, [
      { op: 'read', pid: 'a', file: 'hot', phase: 'hot' },
      { op: 'read', pid: 'a', file: 'hot', phase: 'hot' },
      { op: 'read', pid: 'a', file: 'big', phase: 'stream' },
      { op: 'read', pid: 'a', file: 'hot', phase: 'again' },
    ]);
    // 16 of the 512 pages were still in the lru_add batch: activated there, not counted
    expect(c(r, 'hot', 'pgactivate')).toBe(496);
    expect(r.phases.hot!.meminfo).toMatchObject({ Active_file: 1984, Inactive_file: 0 });
    expect(c(r, 'stream', 'pgsteal')).toBe(2669);
    expect(r.phases.stream!.meminfo).toMatchObject({ Active_file: 2048, Inactive_file: 5700 });
    // the hot file is all still cached: no I/O at all
    expect(r.phases.again!.counters).toEqual({});
  });

  it('without swap, shmem cannot be reclaimed: the OOM killer fires', () => {
    expect(() =>
      run({ memoryPages: 2048, swap: { slots: 0 } }, {}, [
        { op: 'mmap', pid: 'a', name: 's', size: '12MiB', shared: true },
        { op: 'touch', pid: 'a', region: 's', access: 'write' },
      ]),
    ).toThrow(/out of memory/);
  });
});
