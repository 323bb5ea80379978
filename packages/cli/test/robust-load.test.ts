import { describe, expect, it } from 'vitest';
import { fixture, mmsim } from './helpers.js';

describe('robustness: loading a file', () => {
  it('a JSON scenario with a UTF-8 byte order mark runs like one without', async () => {
    const a = await mmsim('run', fixture('robust/bom.json'), '--json');
    const b = await mmsim('run', fixture('touch16.json'), '--json');
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout).phases).toEqual(JSON.parse(b.stdout).phases);
  });
});
