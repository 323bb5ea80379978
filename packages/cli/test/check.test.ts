import { describe, expect, it } from 'vitest';
import { mmsim } from './helpers.js';

describe('mmsim check', () => {
  it('a current preset passes a small fuzz budget (exit 0)', async () => {
    const r = await mmsim('check', '--kernel', 'linux-6.18', '--runs', '30', '--seed', '1');
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/linux-6\.18 .*30 runs, \d+ steps, 0 violation/);
  });
  it('an unknown preset is bad input (exit 2)', async () => {
    const r = await mmsim('check', '--kernel', 'linux-9.99');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown kernel preset "linux-9.99"');
  });
});

describe('mmsim check --help and --thp', () => {
  it('--help prints the usage on stdout (exit 0)', async () => {
    const r = await mmsim('check', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: mmsim check');
    expect(r.stdout).toContain('--thp');
  });
  it('--thp runs with PMD-sized THPs (a current preset stays sound)', async () => {
    const r = await mmsim('check', '--kernel', 'linux-6.18', '--thp', '--runs', '40', '--seed', '3');
    expect(r.code).toBe(0);
  });
});

describe('mmsim check: numeric flags out of range are bad input (exit 2)', () => {
  for (const [flag, v] of [
    ['--runs', '0'],
    ['--runs', '-1'],
    ['--max-steps', '0'],
    ['--cpus', '0'],
    ['--cpus', '-2'],
  ] as const) {
    it(`${flag} ${v}`, async () => {
      const r = await mmsim('check', '--kernel', 'linux-6.18', flag, v);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${flag} must be >= 1`);
      expect(r.stdout).toBe('');
    });
  }
  it('--max-steps 1 and --cpus 1 still run', async () => {
    const r = await mmsim('check', '--kernel', 'linux-6.18', '--runs', '5', '--max-steps', '1', '--cpus', '1');
    expect(r.code).toBe(0);
  });
});
