import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixture, mmsim } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const example = path.relative(process.cwd(), path.join(here, '../../../examples/filemem/filemem.yaml'));

describe('examples/filemem/filemem.yaml: page cache, file mmap, shmem, fork and file reclaim', () => {
  it('--json: the page-cache figures and file reclaim counters of linux-6.18', async () => {
    const r = await mmsim('run', example, '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const ph = doc.phases;
    expect(ph.load.counters).toMatchObject({ pgfault: 4096, pgmajfault: 3072, pgpgin: 12288 });
    expect(ph.load.meminfo).toMatchObject({ Cached: 16384, Mapped: 16384, Dirty: 4096, Shmem: 4096 });
    expect(ph.fork.counters.fork_pte_copy).toBeUndefined();
    expect(ph.child.counters.pgfault).toBe(128); // fault-around: 16 pages per fault
    expect(ph.child.meminfo.processes.c).toMatchObject({ RssFile: 8192, RssShmem: 0 });
    expect(ph.stream.counters).toMatchObject({
      pgpgin: 49152,
      pgpgout: 4096,
      nr_written: 1024,
      pswpout: 287,
      pgsteal: 8436,
      pgactivate: 2048,
    });
    expect(ph.stream.meminfo).toMatchObject({ Cached: 31792, Mapped: 11140, Dirty: 0, Shmem: 2948 });
    expect(ph.rerun.counters).toMatchObject({ pgfault: 1, pgmajfault: 1, pswpin: 1, workingset_refault_file: 1 });
    expect(doc.checks).toMatchObject({ passed: 2, failed: 0 });
  });

  it('linux-5.8: one referenced PTE activates shmem, so none of it is swapped out', async () => {
    const r = await mmsim('run', example, '--kernel', 'linux-5.8', '--json');
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout).phases.stream;
    expect(s.counters.pswpout).toBeUndefined();
    expect(s.counters).toMatchObject({ nr_written: 1024, pgactivate: 3065, pgsteal: 8493 });
    expect(s.meminfo).toMatchObject({ Shmem: 4096, Mapped: 12288 });
  });

  it('the text output shows the page-cache rows', async () => {
    const r = await mmsim('run', example);
    expect(r.code, r.stderr).toBe(0);
    for (const row of [
      'Active(file)',
      'Inactive(file)',
      'Cached',
      'Shmem',
      'Mapped',
      'Dirty',
      'p RssFile',
      'p RssShmem',
    ])
      expect(r.stdout).toContain(row);
  });
});

describe('files: bad input is exit 2 naming the file, the step and the field', () => {
  it('an mmap of a file the scenario does not declare', async () => {
    const r = await mmsim('run', fixture('filemem/bad-file.yaml'), '--json');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('filemem/bad-file.yaml: steps[1] field "file": no file "nope" in the scenario\'s files');
  });
  it('a file size that is not a multiple of 4 KiB', async () => {
    const r = await mmsim('run', fixture('filemem/bad-size.yaml'), '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'filemem/bad-size.yaml: files.data field "size": 1000 is not a positive multiple of 4096',
    );
  });
});
