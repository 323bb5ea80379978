/**
 * tools/testing/selftests/mm/mremap_test.c as scenarios: the remap_region() cases (the move of
 * a pattern with MREMAP_MAYMOVE|MREMAP_FIXED at source and destination alignments, content
 * checked over the 4 MiB threshold), the expand-merge cases (checked with the maps step) and
 * the moves within one mapping. The timing output is not ported (no timed tests).
 */
import { describe, expect, it } from 'vitest';
import { ctr, ctrs, run, runError } from '../helpers.js';

const MiB = 1 << 20;
const KiB = 1024;
const PAGE = 4096;
const THRESHOLD = 4 * MiB;

/** access steps reading [off, off + bytes) of `region`, one per page, expecting first + i. */
function expectSeq(region: string, off: number, bytes: number, first: number) {
  const out = [];
  for (let i = 0; i < bytes / PAGE; i++)
    out.push({ op: 'access', pid: 'p', region, offset: off + i * PAGE, access: 'read', expect: first + i });
  return out;
}

/**
 * remap_region(): a source region_size long at an address aligned to src (and not to 2*src), a
 * destination aligned to dst (not 2*dst); the pattern (fresh values 1..N over the threshold)
 * must be at the destination after mremap(MREMAP_MAYMOVE | MREMAP_FIXED). The destination is
 * reserved by an mmap that MREMAP_FIXED unmaps; `preamble` bytes below it are mapped and
 * written first and must stay intact.
 */
function remapRegion(src: number, dst: number, size: number, moves: [number, number], preamble = 0) {
  const threshold = Math.min(THRESHOLD, size);
  const steps: unknown[] = [
    { op: 'spawn', pid: 'p' },
    // the source at offset src of a region aligned to 2*src
    { op: 'mmap', pid: 'p', name: 'src', size: size + src, align: 2 * src },
    { op: 'mmap', pid: 'p', name: 'dst', size: preamble + size + dst, align: 2 * dst },
  ];
  if (preamble > 0) steps.push({ op: 'touch', pid: 'p', region: 'dst', size: preamble, access: 'write' });
  steps.push(
    { op: 'touch', pid: 'p', region: 'src', offset: src, size: threshold, access: 'write' },
    {
      op: 'mremap',
      pid: 'p',
      region: 'src',
      offset: src,
      size,
      mayMove: true,
      fixed: { region: 'dst', offset: preamble + dst },
      to: 'moved',
      phase: 'mremap',
    },
    { op: 'phase', name: 'check' },
    ...expectSeq('moved', 0, threshold, preamble / PAGE + 1),
    ...(preamble > 0 ? expectSeq('dst', 0, preamble, 1) : []),
    // the source range is gone (munmap of the old range)
    { op: 'maps', pid: 'p', region: 'src', expect: { count: 1, vmas: [{ region: 'src', size: src }] } },
  );
  const r = run({ name: 'remap_region', steps });
  const checks = threshold / PAGE + preamble / PAGE + 2; // the maps step: count and one VMA
  expect(r.checks).toEqual({ passed: checks, failed: 0, failures: [] });
  // move_ptes() moved the written pages of extents that are not whole aligned PTE tables, and
  // move_normal_pmd() the whole tables; nothing was faulted or allocated
  expect(ctrs(r, 'mremap', ['mremap_pte_move', 'mremap_table_move', 'pgfault', 'pgalloc'])).toEqual({
    mremap_pte_move: moves[0],
    mremap_table_move: moves[1],
    pgfault: 0,
    pgalloc: 0,
  });
}

describe('mremap_test.c', () => {
  it('remap_region [Source and Destination Regions Overlapping]: MREMAP_FIXED onto an overlapping range is EINVAL, the source stays', () => {
    const r = run({
      name: 'overlap',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'src', size: '8KiB' },
        { op: 'touch', pid: 'p', region: 'src', size: '4KiB', access: 'write', value: 9 },
        // dest = src_end - dest_alignment: one page below the end, overlapping the 4 KiB source
        {
          op: 'mremap',
          pid: 'p',
          region: 'src',
          size: '4KiB',
          mayMove: true,
          fixed: { region: 'src', offset: 0 },
          to: 'd',
          expectError: 'EINVAL',
        },
        { op: 'access', pid: 'p', region: 'src', access: 'read', expect: 9 },
      ],
    });
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
  });

  it('remap_region [Destination Address Misaligned (1KB-aligned)]: not the EINVAL itself: a sub-page address cannot be named (a fixed.offset that is not a page multiple is bad input, exit 2)', () => {
    const err = runError({
      name: 'misaligned',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'src', size: '4KiB' },
        { op: 'mmap', pid: 'p', name: 'dst', size: '8KiB' },
        { op: 'mremap', pid: 'p', region: 'src', mayMove: true, fixed: { region: 'dst', offset: 1024 }, to: 'd' },
      ],
    });
    expect(err.message).toMatch(/steps\[3\].*fixed\.offset.*1024 is not a multiple of 4096/);
  });

  it('remap_region [Source Address Misaligned (1KB-aligned)]: not the EINVAL itself: a sub-page source offset is bad input (exit 2)', () => {
    const err = runError({
      name: 'misaligned-src',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'src', size: '8KiB' },
        { op: 'mmap', pid: 'p', name: 'dst', size: '8KiB' },
        {
          op: 'mremap',
          pid: 'p',
          region: 'src',
          offset: 1024,
          size: '4KiB',
          mayMove: true,
          fixed: { region: 'dst' },
          to: 'd',
        },
      ],
    });
    expect(err.message).toMatch(/steps\[3\].*offset.*1024 is not a multiple of 4096/);
  });

  it('remap_region [8KB PTE/PTE]: 8 KiB, source and destination PTE-aligned', () =>
    remapRegion(PAGE, PAGE, 8 * KiB, [2, 0]));
  it('remap_region [2MB 1MB/PTE]: 2 MiB, source 1 MiB-aligned, destination PTE-aligned', () =>
    remapRegion(MiB, PAGE, 2 * MiB, [512, 0]));
  it('remap_region [2MB 1MB/1MB]: 2 MiB, source and destination 1 MiB-aligned', () =>
    remapRegion(MiB, MiB, 2 * MiB, [512, 0]));
  it('remap_region [4MB PMD/PTE]: 4 MiB, source PMD-aligned, destination PTE-aligned', () =>
    remapRegion(2 * MiB, PAGE, 4 * MiB, [1024, 0]));
  it('remap_region [4MB PMD/1MB]: 4 MiB, source PMD-aligned, destination 1 MiB-aligned', () =>
    remapRegion(2 * MiB, MiB, 4 * MiB, [1024, 0]));
  it('remap_region [4MB PMD/PMD]: 4 MiB, source and destination PMD-aligned', () =>
    remapRegion(2 * MiB, 2 * MiB, 4 * MiB, [0, 2]));
  it('remap_region [2GB PUD/PTE]: 2 GiB, source PUD-aligned, destination PTE-aligned (4 MiB checked)', () =>
    remapRegion(1 << 30, PAGE, 2 ** 31, [1024, 0]));
  it('remap_region [2GB PUD/1MB]: 2 GiB, source PUD-aligned, destination 1 MiB-aligned (4 MiB checked)', () =>
    remapRegion(1 << 30, MiB, 2 ** 31, [1024, 0]));
  it('remap_region [2GB PUD/PMD]: 2 GiB, source PUD-aligned, destination PMD-aligned (4 MiB checked)', () =>
    remapRegion(1 << 30, 2 * MiB, 2 ** 31, [0, 2]));
  it('remap_region [2GB PUD/PUD]: 2 GiB, source and destination PUD-aligned (4 MiB checked)', () =>
    remapRegion(1 << 30, 1 << 30, 2 ** 31, [0, 2]));
  it('remap_region [5MB 1MB/1MB]: 5 MiB, source and destination 1 MiB-aligned (4 MiB checked)', () =>
    remapRegion(MiB, MiB, 5 * MiB, [256, 2]));
  it('remap_region [5MB 1MB/1MB 40MB preamble]: 5 MiB after a 40 MiB written preamble, which stays intact', () =>
    remapRegion(MiB, MiB, 5 * MiB, [256, 2], 40 * MiB));

  it('mremap_expand_merge: growing the first page in place into the hole merges with the third page: one VMA of 3 pages', () => {
    const r = run({
      name: 'expand-merge',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '12KiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write' },
        { op: 'munmap', pid: 'p', region: 'a', offset: '4KiB', size: '4KiB' },
        { op: 'maps', pid: 'p', expect: { count: 2 } },
        // mremap(start, page_size, 2 * page_size, 0)
        { op: 'mremap', pid: 'p', region: 'a', size: '4KiB', newSize: '8KiB' },
        { op: 'maps', pid: 'p', expect: { count: 1, vmas: [{ region: 'a', size: '12KiB', rss: '8KiB' }] } },
        { op: 'access', pid: 'p', region: 'a', access: 'read', expect: 1 },
        { op: 'access', pid: 'p', region: 'a', offset: '4KiB', access: 'read', expect: 0 },
        { op: 'access', pid: 'p', region: 'a', offset: '8KiB', access: 'read', expect: 3 },
      ],
    });
    expect(r.checks).toEqual({ passed: 6, failed: 0, failures: [] });
  });

  it('mremap_expand_merge_offset: growing the second page in place into the unmapped third restores one VMA of 3 pages', () => {
    const r = run({
      name: 'expand-merge-offset',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '12KiB' },
        { op: 'munmap', pid: 'p', region: 'a', offset: '8KiB', size: '4KiB' },
        { op: 'maps', pid: 'p', expect: { count: 1, vmas: [{ region: 'a', size: '8KiB' }] } },
        // mremap(start + page_size, page_size, 2 * page_size, 0)
        { op: 'mremap', pid: 'p', region: 'a', offset: '4KiB', size: '4KiB', newSize: '8KiB' },
        { op: 'maps', pid: 'p', expect: { count: 1, vmas: [{ region: 'a', size: '12KiB' }] } },
      ],
    });
    expect(r.checks).toEqual({ passed: 4, failed: 0, failures: [] });
  });

  it('mremap_move_within_range: moving the upper 1 MiB of a 2 MiB block 2 MiB down leaves the lower 1 MiB intact', () => {
    // a 20 MiB mapping, zeroed; src = ptr + 6 MiB (2 MiB-aligned: the mapping is PMD-aligned)
    const r = run({
      name: 'within-range',
      steps: [
        { op: 'spawn', pid: 'p' },
        { op: 'mmap', pid: 'p', name: 'a', size: '20MiB' },
        { op: 'touch', pid: 'p', region: 'a', access: 'write', value: 0 },
        // the pattern over src's 2 MiB: fresh values 1..512
        { op: 'touch', pid: 'p', region: 'a', offset: '6MiB', size: '2MiB', access: 'write' },
        // mremap(src + 1 MiB, 1 MiB, 1 MiB, MREMAP_MAYMOVE | MREMAP_FIXED, dest + 1 MiB), dest = src - 2 MiB
        {
          op: 'mremap',
          pid: 'p',
          region: 'a',
          offset: '7MiB',
          size: '1MiB',
          mayMove: true,
          fixed: { region: 'a', offset: '5MiB' },
          to: 'moved',
          phase: 'mremap',
        },
        { op: 'phase', name: 'check' },
        ...expectSeq('a', 6 * MiB, MiB, 1),
        ...expectSeq('moved', 0, MiB, 257),
        // [0, 7 MiB) and [8 MiB, 20 MiB) (the move and the target in it: not mergeable, other anon offsets)
        { op: 'maps', pid: 'p', region: 'a', expect: { count: 4 } },
      ],
    });
    expect(r.checks).toEqual({ passed: 513, failed: 0, failures: [] });
    expect(ctr(r, 'mremap', 'mremap_pte_move')).toBe(256);
  });

  it('mremap_move_1mb_from_start: a 1 MiB move to 1 MiB into a destination whose first 1 MiB is unmapped leaves the source start intact', () => {
    const r = run({
      name: '1mb-from-start',
      steps: [
        { op: 'spawn', pid: 'p' },
        // get_source_mapping() with src_alignment 1 MiB + 256 KiB, 6 MiB each
        { op: 'mmap', pid: 'p', name: 'src', size: '6MiB', align: '1280KiB' },
        { op: 'mmap', pid: 'p', name: 'dest', size: '6MiB', align: '1280KiB' },
        { op: 'touch', pid: 'p', region: 'src', size: '2MiB', access: 'write' },
        { op: 'munmap', pid: 'p', region: 'dest', size: '1MiB' },
        {
          op: 'mremap',
          pid: 'p',
          region: 'src',
          offset: '1MiB',
          size: '1MiB',
          mayMove: true,
          fixed: { region: 'dest', offset: '1MiB' },
          to: 'moved',
        },
        ...expectSeq('src', 0, MiB, 1),
        ...expectSeq('moved', 0, MiB, 257),
      ],
    });
    expect(r.checks).toEqual({ passed: 512, failed: 0, failures: [] });
  });
});
