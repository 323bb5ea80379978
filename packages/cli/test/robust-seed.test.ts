import { describe, expect, it } from 'vitest';
import { fixture, mmsim } from './helpers.js';

describe('robustness: --seed', () => {
  it('accepts 0 and 2^32-1 and reports them as given', async () => {
    for (const seed of ['0', '4294967295']) {
      const r = await mmsim('run', fixture('random.yaml'), '--json', '--seed', seed);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).seed).toBe(Number(seed));
    }
  });

  it('rejects seeds outside 0..2^32-1 (they would alias another seed) with exit 2', async () => {
    for (const seed of ['-1', '4294967296']) {
      const r = await mmsim('run', fixture('random.yaml'), '--json', '--seed', seed);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`argument '${seed}' is invalid`);
      expect(r.stderr).toContain('0 to 4294967295');
    }
  });
});
