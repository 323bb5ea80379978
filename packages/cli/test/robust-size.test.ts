import { describe, expect, it } from 'vitest';
import { fixture, mmsim } from './helpers.js';

describe('robustness: sizes', () => {
  it('a size of .inf is "not a size", naming the file, step and field', async () => {
    const r = await mmsim('run', fixture('robust/size-inf.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('size-inf.yaml');
    expect(r.stderr).toMatch(/steps\[1\] field "size"/);
    expect(r.stderr).toContain('not a size: Infinity');
    expect(r.stderr).not.toContain('Invalid input');
  });
});
