import { describe, expect, it } from 'vitest';
import { filePageValue, LRU, nameSeed, PG, ScenarioError } from '../src/index.js';
import { runSys } from './helpers.js';

const KiB = 1024;
const sc = (steps: unknown[], files: Record<string, unknown> = { data: { size: '256KiB', seed: 7 } }) => ({
  name: 't',
  files,
  steps: [{ op: 'spawn', pid: 'a' }, ...steps],
});
const ctr = (r: { total: { counters: Record<string, number> } }, n: string) => r.total.counters[n] ?? 0;

describe('page cache and file mmap: do_read_fault() with fault-around', () => {
  it('a read of a private file mapping maps the page-cache page: one major fault, contents from the file', () => {
    const { r, sys } = runSys(
      sc([
        { op: 'mmap', pid: 'a', name: 'm', size: '256KiB', file: 'data' },
        { op: 'access', pid: 'a', region: 'm', offset: '12KiB', access: 'read', expect: filePageValue(7, 3) },
      ]),
    );
    expect(r.checks).toMatchObject({ passed: 1, failed: 0 });
    expect(ctr(r, 'pgmajfault')).toBe(1);
    expect(ctr(r, 'pgpgin')).toBe(4);
    expect(r.total.meminfo).toMatchObject({ Cached: 4, Mapped: 4, Shmem: 0, Dirty: 0, AnonPages: 0 });
    expect(r.total.meminfo.processes.a).toMatchObject({ RssFile: 4, RssShmem: 0, RssAnon: 0, VmRSS: 4 });
    const as = sys.kernel.pageCache.byName.get('data')!;
    const head = as.folio[3]!;
    const f = sys.kernel.f;
    expect(f.flags[head]! & (PG.filemap | PG.anon | PG.swapbacked)).toBe(PG.filemap);
    // one for the page cache, one for the PTE, one for the LRU batch it waits in
    expect(f.ref[head]).toBe(3);
    expect(f.mapcount[head]).toBe(1);
  });

  it('fault-around maps the cached pages of the 64 KiB window with the faulting one (filemap_map_pages)', () => {
    // process b reads pages 0..15 into the page cache; a's first read maps all 16 in one fault
    const { r } = runSys(
      sc([
        { op: 'spawn', pid: 'b' },
        { op: 'mmap', pid: 'b', name: 'm', size: '256KiB', file: 'data' },
        { op: 'touch', pid: 'b', region: 'm', size: '64KiB', access: 'read' },
        { op: 'drain' },
        { op: 'mmap', pid: 'a', name: 'm', size: '256KiB', file: 'data' },
        { op: 'access', pid: 'a', region: 'm', offset: '20KiB', access: 'read', phase: 'a' },
        { op: 'touch', pid: 'a', region: 'm', size: '64KiB', access: 'read', phase: 'a' },
      ]),
    );
    // b: 16 major faults (fault-around finds nothing cached ahead of it; no readahead)
    expect(r.phases.main!.counters.pgmajfault).toBe(16);
    expect(r.phases.main!.counters.pgfault).toBe(16);
    // a: one minor fault maps 16 pages; the touch then hits them all
    expect(r.phases.a!.counters.pgfault).toBe(1);
    expect(r.phases.a!.counters.pgmajfault ?? 0).toBe(0);
    expect(r.total.meminfo).toMatchObject({ Cached: 64, Mapped: 64 });
    expect(r.total.meminfo.processes.a!.RssFile).toBe(64);
  });

  it('cached: the file starts in the page cache (read in before the run, counted nowhere); a read fault maps 16 pages', () => {
    const { r } = runSys(
      sc(
        [
          { op: 'mmap', pid: 'a', name: 'm', size: '256KiB', file: 'data' },
          { op: 'touch', pid: 'a', region: 'm', size: '128KiB', access: 'read' },
          { op: 'access', pid: 'a', region: 'm', offset: '4KiB', access: 'read', expect: filePageValue(7, 1) },
        ],
        { data: { size: '256KiB', seed: 7, cached: true } },
      ),
    );
    // 128 KiB: two fault-around windows of 16 pages, no major fault, nothing read from disk
    expect(ctr(r, 'pgfault')).toBe(2);
    expect(ctr(r, 'pgmajfault')).toBe(0);
    expect(ctr(r, 'pgpgin')).toBe(0);
    // the read-in is the machine's state: not in the counters or the cycles of the run
    expect(ctr(r, 'pgalloc')).toBe(0);
    expect(r.phases.main!.counters).toEqual(r.total.counters);
    expect(r.phases.main!.cycles).toBe(r.total.cycles);
    expect(r.total.meminfo).toMatchObject({ Cached: 256, Mapped: 128, Inactive_file: 256 });
    expect(r.checks).toMatchObject({ passed: 1, failed: 0 });
  });

  it('cached on a shmem file is exit 2 naming files.NAME.cached', () => {
    expect(() => runSys(sc([], { s: { size: '8KiB', shmem: true, cached: true } }))).toThrow(
      expect.objectContaining({ where: 'files.s', field: 'cached' }),
    );
  });

  it('a private write copies the page-cache page into an anon folio (do_cow_fault); the file is untouched', () => {
    const { r, sys } = runSys(
      sc([
        { op: 'mmap', pid: 'a', name: 'm', size: '256KiB', file: 'data' },
        { op: 'access', pid: 'a', region: 'm', access: 'write', value: 99 },
        { op: 'access', pid: 'a', region: 'm', access: 'read', expect: 99 },
        { op: 'spawn', pid: 'b' },
        { op: 'mmap', pid: 'b', name: 'm', size: '256KiB', file: 'data' },
        { op: 'access', pid: 'b', region: 'm', access: 'read', expect: filePageValue(7, 0) },
      ]),
    );
    expect(r.checks).toMatchObject({ passed: 2, failed: 0 });
    expect(r.total.meminfo).toMatchObject({ AnonPages: 4, Cached: 4, Mapped: 4, Dirty: 0 });
    expect(r.total.meminfo.processes.a).toMatchObject({ RssAnon: 4, RssFile: 0 });
    expect(sys.kernel.pageCache.byName.get('data')!.disk[0]).toBe(filePageValue(7, 0));
  });

  it('a private write to a mapped file page copies it (do_wp_page never reuses a page-cache page)', () => {
    const { r } = runSys(
      sc([
        { op: 'mmap', pid: 'a', name: 'm', size: '4KiB', file: 'data' },
        { op: 'access', pid: 'a', region: 'm', access: 'read' },
        { op: 'access', pid: 'a', region: 'm', access: 'write', value: 5, phase: 'w' },
        { op: 'access', pid: 'a', region: 'm', access: 'read', expect: 5, phase: 'w' },
      ]),
    );
    expect(r.phases.w!.counters).toMatchObject({ pgfault: 1, cow_copy: 1 });
    expect(r.phases.w!.counters.pgreuse).toBeUndefined();
    expect(r.total.meminfo).toMatchObject({ AnonPages: 4, Cached: 4, Mapped: 0 });
  });

  it('a shared write dirties the page-cache folio; another process sees it (do_shared_fault, wp_page_shared)', () => {
    const { r } = runSys(
      sc([
        { op: 'mmap', pid: 'a', name: 'm', size: '8KiB', file: 'data', shared: true },
        { op: 'access', pid: 'a', region: 'm', access: 'write', value: 11 },
        { op: 'access', pid: 'a', region: 'm', offset: '4KiB', access: 'read' },
        { op: 'access', pid: 'a', region: 'm', offset: '4KiB', access: 'write', value: 12, phase: 'wp' },
        { op: 'spawn', pid: 'b', phase: 'b' },
        { op: 'mmap', pid: 'b', name: 'm', size: '8KiB', file: 'data' },
        { op: 'access', pid: 'b', region: 'm', access: 'read', expect: 11 },
        { op: 'access', pid: 'b', region: 'm', offset: '4KiB', access: 'read', expect: 12 },
      ]),
    );
    expect(r.checks).toMatchObject({ passed: 2, failed: 0 });
    // the write to the read-mapped page faults once (the writenotify of a regular file)
    expect(r.phases.wp!.counters).toMatchObject({ pgfault: 1 });
    expect(r.phases.wp!.counters.cow_copy).toBeUndefined();
    expect(r.total.meminfo).toMatchObject({ AnonPages: 0, Cached: 8, Mapped: 8, Dirty: 8 });
  });

  it('fork: a shared mapping is not copied (the child faults the page cache in); munmap keeps the page cache', () => {
    const { r, sys } = runSys(
      sc([
        { op: 'mmap', pid: 'a', name: 'm', size: '4KiB', file: 'data', shared: true },
        { op: 'access', pid: 'a', region: 'm', access: 'write', value: 3 },
        { op: 'fork', pid: 'a', child: 'c', phase: 'fork' },
        { op: 'access', pid: 'c', region: 'm', access: 'write', value: 4, phase: 'child' },
        { op: 'access', pid: 'a', region: 'm', access: 'read', expect: 4, phase: 'child' },
        { op: 'munmap', pid: 'a', region: 'm', phase: 'unmap' },
        { op: 'munmap', pid: 'c', region: 'm', phase: 'unmap' },
      ]),
    );
    expect(r.checks).toMatchObject({ passed: 1, failed: 0 });
    expect(r.phases.fork!.counters.fork_pte_copy).toBeUndefined(); // vma_needs_copy(): no anon_vma
    expect(r.phases.child!.counters).toMatchObject({ pgfault: 1 });
    expect(r.phases.child!.counters.cow_copy).toBeUndefined();
    expect(r.phases.child!.meminfo).toMatchObject({ Mapped: 4 });
    expect(r.total.meminfo).toMatchObject({ Cached: 4, Mapped: 0, Dirty: 4 });
    const as = sys.kernel.pageCache.byName.get('data')!;
    expect(sys.kernel.f.ref[as.folio[0]!]).toBe(1); // the page cache's own reference
  });

  it('fork of a private file mapping with a CoW page: file PTEs are shared, the anon page CoWs', () => {
    const { r } = runSys(
      sc([
        { op: 'mmap', pid: 'a', name: 'm', size: '8KiB', file: 'data' },
        { op: 'access', pid: 'a', region: 'm', access: 'write', value: 3 },
        { op: 'access', pid: 'a', region: 'm', offset: '4KiB', access: 'read' },
        { op: 'fork', pid: 'a', child: 'c', phase: 'fork' },
        { op: 'access', pid: 'c', region: 'm', access: 'read', expect: 3, phase: 'child' },
        {
          op: 'access',
          pid: 'c',
          region: 'm',
          offset: '4KiB',
          access: 'read',
          expect: filePageValue(7, 1),
          phase: 'child',
        },
        { op: 'access', pid: 'c', region: 'm', offset: '4KiB', access: 'write', value: 8, phase: 'cw' },
      ]),
    );
    expect(r.checks).toMatchObject({ passed: 2, failed: 0 });
    expect(r.phases.fork!.counters.fork_pte_copy).toBe(2);
    expect(r.phases.child!.counters.pgfault ?? 0).toBe(0);
    expect(r.phases.cw!.counters).toMatchObject({ pgfault: 1, cow_copy: 1 });
    expect(r.total.meminfo.processes.c).toMatchObject({ RssAnon: 8, RssFile: 0 });
    expect(r.total.meminfo.processes.a).toMatchObject({ RssAnon: 4, RssFile: 4 });
  });
});

describe('shmem: MAP_SHARED|MAP_ANONYMOUS and shmem files', () => {
  it('a shared anonymous mapping is shmem: swap-backed folios on the anon lists, shared across fork', () => {
    const { r, sys } = runSys(
      sc([
        { op: 'mmap', pid: 'a', name: 's', size: '8KiB', shared: true },
        { op: 'access', pid: 'a', region: 's', access: 'read', expect: 0 },
        { op: 'fork', pid: 'a', child: 'c' },
        { op: 'access', pid: 'c', region: 's', access: 'write', value: 6 },
        { op: 'access', pid: 'a', region: 's', access: 'read', expect: 6 },
        { op: 'drain' },
      ]),
    );
    expect(r.checks).toMatchObject({ passed: 2, failed: 0 });
    expect(ctr(r, 'pgmajfault')).toBe(0);
    expect(r.total.meminfo).toMatchObject({ Cached: 4, Shmem: 4, Mapped: 4, AnonPages: 0, Dirty: 0 });
    expect(r.total.meminfo.processes.a).toMatchObject({ RssShmem: 4, RssFile: 0 });
    const k = sys.kernel;
    expect(k.lruvec.pages[LRU.inactiveAnon]).toBe(1);
    expect(k.lruvec.pages[LRU.inactiveFile]).toBe(0);
  });

  it('a shmem file (tmpfs / memfd) shared by two processes', () => {
    const { r } = runSys(
      sc(
        [
          { op: 'spawn', pid: 'b' },
          { op: 'mmap', pid: 'a', name: 's', size: '4KiB', file: 'shm', shared: true },
          { op: 'mmap', pid: 'b', name: 's', size: '4KiB', file: 'shm', shared: true },
          { op: 'access', pid: 'a', region: 's', access: 'write', value: 21 },
          { op: 'access', pid: 'b', region: 's', access: 'read', expect: 21 },
        ],
        { shm: { size: '4KiB', shmem: true } },
      ),
    );
    expect(r.checks).toMatchObject({ passed: 1, failed: 0 });
    expect(r.total.meminfo).toMatchObject({ Shmem: 4, Mapped: 4 });
  });
});

describe('madvise on file mappings', () => {
  it('MADV_COLLAPSE of a file mapping fails (no file THPs): the page-cache pages stay mapped', () => {
    const { r } = runSys(
      sc(
        [
          { op: 'mmap', pid: 'a', name: 'm', size: '2MiB', file: 'big', align: '2MiB' },
          { op: 'touch', pid: 'a', region: 'm', access: 'read' },
          { op: 'madvise', pid: 'a', region: 'm', advice: 'collapse', phase: 'c' },
        ],
        { big: { size: '2MiB' } },
      ),
      { presetPlugins: [] },
    );
    expect(r.phases.c!.counters.thp_collapse_failed).toBe(1);
    expect(r.total.meminfo).toMatchObject({ AnonHugePages: 0, AnonPages: 0, Mapped: 2048, Cached: 2048 });
  });
});

describe('files: bad input', () => {
  it.each([
    [{ op: 'mmap', pid: 'a', name: 'm', size: '4KiB', file: 'nope' }, 'file'],
    [{ op: 'mmap', pid: 'a', name: 'm', size: '4KiB', file: 'data', offset: '1KiB' }, 'offset'],
    [{ op: 'mmap', pid: 'a', name: 'm', size: '4KiB', file: 'data', offset: '256KiB' }, 'offset'],
    [{ op: 'mmap', pid: 'a', name: 'm', size: '4KiB', shared: true, offset: '4KiB' }, 'offset'],
  ])('%j names the field %s', (step, field) => {
    expect(() => runSys(sc([step]))).toThrow(ScenarioError);
    try {
      runSys(sc([step]));
    } catch (e) {
      expect((e as ScenarioError).message).toContain(`steps[1]`);
      expect((e as ScenarioError).message).toContain(field);
    }
  });
  it('a file size that is not a multiple of a page, a seed on a shmem file', () => {
    expect(() => runSys(sc([], { f: { size: 100 } }))).toThrow(/files\.f.*size/);
    expect(() => runSys(sc([], { f: { size: 4096, shmem: true, seed: 1 } }))).toThrow(/files\.f.*seed/);
  });
  it('a read beyond the end of the file is SIGBUS', () => {
    expect(() =>
      runSys(
        sc([
          { op: 'mmap', pid: 'a', name: 'm', size: '8KiB', file: 'data', offset: '252KiB' },
          { op: 'access', pid: 'a', region: 'm', offset: '4KiB', access: 'read' },
        ]),
      ),
    ).toThrow(/segmentation fault/);
  });
  it('the default seed is a hash of the name', () => {
    const { r } = runSys(
      sc(
        [
          { op: 'mmap', pid: 'a', name: 'm', size: '4KiB', file: 'lib.so' },
          { op: 'access', pid: 'a', region: 'm', access: 'read', expect: filePageValue(nameSeed('lib.so'), 0) },
        ],
        { 'lib.so': { size: 4 * KiB } },
      ),
    );
    expect(r.checks).toMatchObject({ passed: 1, failed: 0 });
  });
});
