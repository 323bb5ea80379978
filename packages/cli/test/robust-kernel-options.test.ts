import { describe, expect, it } from 'vitest';
import { fixture, mmsim } from './helpers.js';

describe('robustness: system.kernelOptions', () => {
  it('an unknown slot (a typo) is an error naming the field and the known slots', async () => {
    const r = await mmsim('run', fixture('robust/kernel-options-typo.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('kernel-options-typo.yaml');
    expect(r.stderr).toContain('field "system.kernelOptions.refcont"');
    expect(r.stderr).toMatch(/no slot "refcont" \(known slots: refcount, largeFolio\)/);
  });
});
