import { describe, expect, it } from 'vitest';
import { ERA_RULES, eraProblems, presetKernelVersion, presetNames } from '../src/index.js';

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

  it('each rule cites a 12-digit commit', () => {
    for (const r of ERA_RULES) expect(r.commit, r.id).toMatch(/^[0-9a-f]{12}$/);
  });
});
