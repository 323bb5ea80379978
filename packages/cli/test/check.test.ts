import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

describe('mmsim check --out: an unusable directory is bad input (exit 2), found before fuzzing', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mmsim-check-out-'));
  const file = path.join(tmp, 'a-file');
  writeFileSync(file, 'x');
  for (const [what, out] of [
    ['an existing regular file', file],
    ['a path under a regular file', path.join(file, 'sub')],
    ['a path under /dev/null', '/dev/null/found'],
    ['a path under /proc (mkdir -p loops there)', '/proc/nope'],
  ] as const) {
    it(what, async () => {
      const t0 = Date.now();
      const r = await mmsim('check', '--kernel', 'linux-6.18', '--runs', '1', '--out', out);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--out ${out}`);
      expect(r.stderr).not.toContain('internal error');
      expect(Date.now() - t0).toBeLessThan(5000);
    }, 10_000);
  }
  it('a new nested directory is created', async () => {
    const out = path.join(tmp, 'x', 'y');
    const r = await mmsim('check', '--kernel', 'linux-6.18', '--runs', '1', '--out', out);
    expect(r.code).toBe(0);
    expect(statSync(out).isDirectory()).toBe(true);
  });
});

describe('mmsim check --out: findings are named by content hash and never overwritten', () => {
  const find = (out: string, ...more: string[]) =>
    mmsim('check', '--kernel', 'linux-5.8', '--runs', '200', '--seed', '1', '--out', out, ...more);
  it('runs with other CPU counts keep both reproducers; a rerun keeps the file', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'mmsim-check-find-'));
    const a = await find(out, '--cpus', '2');
    expect(a.code).toBe(1);
    const files1 = readdirSync(out);
    expect(files1).toHaveLength(1);
    expect(files1[0]).toMatch(/^finding-[0-9a-f]{16}\.json$/);
    const first = readFileSync(path.join(out, files1[0]!), 'utf8');
    const b = await find(out, '--cpus', '3');
    expect(b.code).toBe(1);
    expect(readdirSync(out)).toHaveLength(2);
    const again = await find(out, '--cpus', '2');
    expect(again.code).toBe(1);
    expect(readdirSync(out)).toHaveLength(2);
    expect(again.stdout).toContain(files1[0]);
    expect(readFileSync(path.join(out, files1[0]!), 'utf8')).toBe(first);
  });
});
