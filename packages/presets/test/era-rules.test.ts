import { describe, expect, it } from 'vitest';
import { ERA_RULES, eraProblems, presetKernelVersion, presetNames, registerPreset } from '../src/index.js';

describe('era rules', () => {
  it('every preset has a kernel version, its own or inherited', () => {
    for (const name of presetNames()) expect(presetKernelVersion(name), name).toMatch(/^\d+\.\d+$/);
    expect(presetKernelVersion('linux-6.18+cowpte')).toBe('6.18');
    expect(presetKernelVersion('anon-folio-rfc-v2')).toBe('6.3');
  });

  it('mTHP sizes: rejected before v6.8, accepted from it; "top" is always accepted', () => {
    const sc = { system: { thp: { top: 'always', '64K': 'always', '2048K': 'inherit' } } };
    expect(eraProblems('linux-5.19', sc).map((p) => p.field)).toEqual(['system.thp.64K', 'system.thp.2048K']);
    expect(eraProblems('anon-folio-rfc-v2', sc)).toHaveLength(2);
    expect(eraProblems('linux-6.8', sc)).toEqual([]);
    expect(eraProblems('linux-5.7', { system: { thp: { top: 'always' } } })).toEqual([]);
  });

  it('khugepaged/max_ptes_shared: v5.8; the other khugepaged knobs are accepted everywhere', () => {
    const sc = { system: { khugepaged: { max_ptes_shared: 10, max_ptes_none: 0 } } };
    expect(eraProblems('linux-5.7', sc).map((p) => p.field)).toEqual(['system.khugepaged.max_ptes_shared']);
    expect(eraProblems('linux-5.8', sc)).toEqual([]);
    expect(eraProblems('linux-5.7', { system: { khugepaged: { max_ptes_none: 0 } } })).toEqual([]);
  });

  it('MADV_COLLAPSE: v6.1; nested steps are found with their path', () => {
    const sc = {
      steps: [
        { op: 'spawn' },
        {
          op: 'repeat',
          steps: [
            { op: 'madvise', advice: 'dontneed' },
            { op: 'madvise', advice: 'collapse' },
          ],
        },
      ],
    };
    expect(eraProblems('linux-5.19', sc)).toEqual([
      {
        where: 'steps[1].steps[1]',
        field: 'advice',
        detail:
          'kernel preset "linux-5.19" (v5.19) has no MADV_COLLAPSE: it arrived in v6.1 (7d8faaf15545); use linux-6.8 or later',
      },
    ]);
    expect(eraProblems('linux-6.8', sc)).toEqual([]);
  });

  it('MADV_POPULATE_(READ|WRITE): v5.14, on madvise and on mmap advice', () => {
    const sc = {
      steps: [
        { op: 'mmap', advice: 'populate_write' },
        { op: 'madvise', advice: 'populate_read' },
        { op: 'mmap', populate: true },
      ],
    };
    expect(eraProblems('linux-5.9', sc)).toEqual([
      {
        where: 'steps[0]',
        field: 'advice',
        detail:
          'kernel preset "linux-5.9" (v5.9) has no MADV_POPULATE_READ / MADV_POPULATE_WRITE: it arrived in v5.14 (4ca9b3859dac); use linux-5.18 or later',
      },
      {
        where: 'steps[1]',
        field: 'advice',
        detail:
          'kernel preset "linux-5.9" (v5.9) has no MADV_POPULATE_READ / MADV_POPULATE_WRITE: it arrived in v5.14 (4ca9b3859dac); use linux-5.18 or later',
      },
    ]);
    expect(eraProblems('linux-5.18', sc)).toEqual([]);
  });

  it('process_madvise: v5.10', () => {
    const sc = { steps: [{ op: 'processMadvise', advice: 'pageout' }] };
    expect(eraProblems('linux-5.9', sc).map((p) => [p.where, p.field])).toEqual([['steps[0]', 'op']]);
    expect(eraProblems('linux-5.18', sc)).toEqual([]);
  });

  it('MADV_DONTNEED_LOCKED: v5.18', () => {
    const sc = { steps: [{ op: 'madvise', advice: 'dontneed_locked' }] };
    expect(eraProblems('linux-5.9', sc).map((p) => [p.where, p.field])).toEqual([['steps[0]', 'advice']]);
    expect(eraProblems('linux-5.9', sc)[0]!.detail).toMatch(
      /MADV_DONTNEED_LOCKED: it arrived in v5.18 \(9457056ac426\)/,
    );
    expect(eraProblems('linux-5.18', sc)).toEqual([]);
  });

  it('the multi-gen LRU switch: v6.1 (the era table has no 6.1 preset: linux-6.8 is suggested)', () => {
    const sc = { system: { vm: { swappiness: 60, lruGen: true } } };
    expect(eraProblems('linux-5.19', sc)).toEqual([
      {
        where: 'scenario',
        field: 'system.vm.lruGen',
        detail:
          'kernel preset "linux-5.19" (v5.19) has no multi-gen LRU (/sys/kernel/mm/lru_gen/enabled): it arrived in v6.1 (354ed5974429); use linux-6.8 or later',
      },
    ]);
    expect(eraProblems('anon-folio-rfc-v2', sc)).toEqual([]);
    expect(eraProblems('linux-6.18', sc)).toEqual([]);
    // switched off explicitly: nothing to reject
    expect(eraProblems('linux-5.7', { system: { vm: { lruGen: false } } })).toEqual([]);
  });

  // no built-in preset is older than v5.7: a research preset based on an older release is
  registerPreset({
    name: 'research-5.3',
    description: 'test: a preset based on v5.3',
    extends: 'linux-5.8',
    kernelVersion: '5.3',
    config: {},
    slots: {},
  });
  registerPreset({
    name: 'research-5.6',
    description: 'test: a preset based on v5.6',
    extends: 'linux-5.8',
    kernelVersion: '5.6',
    config: {},
    slots: {},
  });

  it('userfaultfd write-protect: v5.7; a wp registration, UFFDIO_WRITEPROTECT and a wp copy are each found', () => {
    const sc = {
      steps: [
        { op: 'uffdRegister', mode: 'missing' },
        { op: 'uffdRegister', mode: 'wp' },
        { op: 'uffdCopy' },
        { op: 'uffdCopy', wp: false },
        { op: 'uffdCopy', wp: true },
        { op: 'repeat', steps: [{ op: 'uffdWriteProtect', enable: false }] },
      ],
    };
    const what =
      'userfaultfd write-protect (UFFDIO_REGISTER_MODE_WP, UFFDIO_WRITEPROTECT, UFFDIO_COPY_MODE_WP): it arrived in v5.7 (63b2d4174c4a); use linux-5.7 or later';
    expect(eraProblems('research-5.6', sc)).toEqual([
      { where: 'steps[1]', field: 'mode', detail: `kernel preset "research-5.6" (v5.6) has no ${what}` },
      { where: 'steps[4]', field: 'wp', detail: `kernel preset "research-5.6" (v5.6) has no ${what}` },
      { where: 'steps[5].steps[0]', field: 'op', detail: `kernel preset "research-5.6" (v5.6) has no ${what}` },
    ]);
    // the oldest built-in preset has it (and the seed 001 scenario runs on linux-5.9)
    expect(eraProblems('linux-5.7', sc)).toEqual([]);
  });

  it('MADV_COLD and MADV_PAGEOUT: v5.4', () => {
    const sc = {
      steps: [
        { op: 'madvise', advice: 'cold' },
        { op: 'madvise', advice: 'pageout' },
        { op: 'madvise', advice: 'dontneed' },
      ],
    };
    expect(eraProblems('research-5.3', sc).map((p) => [p.where, p.detail])).toEqual([
      [
        'steps[0]',
        'kernel preset "research-5.3" (v5.3) has no MADV_COLD: it arrived in v5.4 (9c276cc65a58); use linux-5.7 or later',
      ],
      [
        'steps[1]',
        'kernel preset "research-5.3" (v5.3) has no MADV_PAGEOUT: it arrived in v5.4 (1a4e58cce84e); use linux-5.7 or later',
      ],
    ]);
    expect(eraProblems('research-5.6', sc)).toEqual([]);
  });

  it('each rule cites a 12-digit commit', () => {
    for (const r of ERA_RULES) expect(r.commit, r.id).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe('guard regions era rule', () => {
  it('MADV_GUARD_INSTALL / MADV_GUARD_REMOVE: v6.13 (662df3e5c376); only linux-6.18 of the presets has them', () => {
    const sc = {
      steps: [
        { op: 'madvise', advice: 'guard_install' },
        { op: 'madvise', advice: 'guard_remove' },
      ],
    };
    expect(eraProblems('linux-6.8', sc).map((p) => [p.where, p.field])).toEqual([
      ['steps[0]', 'advice'],
      ['steps[1]', 'advice'],
    ]);
    expect(eraProblems('linux-6.8', sc)[0]!.detail).toBe(
      'kernel preset "linux-6.8" (v6.8) has no MADV_GUARD_INSTALL (guard regions): it arrived in v6.13 (662df3e5c376); use linux-6.18 or later',
    );
    expect(eraProblems('linux-6.18', sc)).toEqual([]);
  });
});

describe('era rules of userfaultfd features and ioctls', () => {
  const sc = {
    steps: [
      { op: 'uffdApi', features: ['event_fork', 'wp_unpopulated', 'poison', 'move'] },
      { op: 'uffdRegister', mode: ['missing', 'minor'] },
      { op: 'uffdPoison' },
      { op: 'uffdMove' },
    ],
  };
  const fields = (preset: string) => eraProblems(preset, sc).map((p) => `${p.where} ${p.field}`);
  it('WP_UNPOPULATED v6.4, POISON v6.6, MOVE v6.8, minor mode v5.13: each use is named by step and field', () => {
    expect(fields('linux-5.9')).toEqual([
      'steps[0] features',
      'steps[0] features',
      'steps[2] op',
      'steps[0] features',
      'steps[3] op',
      'steps[1] mode',
    ]);
    // v6.3: has the minor mode only
    expect(fields('anon-folio-rfc-v2')).toEqual([
      'steps[0] features',
      'steps[0] features',
      'steps[2] op',
      'steps[0] features',
      'steps[3] op',
    ]);
    expect(fields('linux-6.8')).toEqual([]);
    expect(eraProblems('linux-5.19', sc)[0]!.detail).toBe(
      'kernel preset "linux-5.19" (v5.19) has no UFFD_FEATURE_WP_UNPOPULATED: it arrived in v6.4 (2bad466cc9d9); use linux-6.8 or later',
    );
  });
});
