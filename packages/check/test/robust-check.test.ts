/**
 * Issue 14, `mmsim check`: SIGINT / SIGTERM print what finished (exit 130), a policy tap that
 * does not return is a plugin error (exit 2), and a broken invariant names the policies'
 * decisions that preceded it. The signal tests run the real CLI (packages/cli/dist/bin.js).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkCommand, checkComposition, formatCheckResult } from '../src/index.js';
import alwaysReuse from './fixtures/always-reuse.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../../cli/dist/bin.js');
const FIX = (f: string) => path.join(here, 'fixtures', f);
const hasCli = existsSync(BIN);

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
  /** ms from the signal to the exit */
  ms: number;
}

/** Run the CLI; once stderr says "fuzzing" (the announce fixture) wait `after` ms and `send`. */
function cli(args: string[], send?: (c: ReturnType<typeof spawn>) => void, after = 500): Promise<Ended> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let t0 = Date.now();
  let sent = false;
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => {
    stderr += d;
    if (send && !sent && stderr.includes('fuzzing\n')) {
      sent = true;
      setTimeout(() => {
        t0 = Date.now();
        send(child);
      }, after);
    }
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 })));
}

describe.skipIf(!hasCli)('mmsim check: interrupted', () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`on ${sig} with --json prints one document of what finished, marked interrupted, exit 130 within 1 s`, async () => {
      const r = await cli(
        ['check', '--kernel', 'linux-6.18', '--policy', FIX('announce-policy.ts'), '--runs', '100000', '--json'],
        (c) => c.kill(sig),
      );
      expect(r.code).toBe(130);
      expect(r.ms).toBeLessThan(1000);
      const doc = JSON.parse(r.stdout);
      expect(doc).toHaveLength(1);
      expect(doc[0].kernel).toBe('linux-6.18');
      expect(doc[0].interrupted).toBe(true);
      expect(doc[0].incomplete).toBe(true);
      expect(doc[0].runs).toBeGreaterThan(0);
      expect(doc[0].runs).toBeLessThan(100000);
      expect(r.stderr).toContain(
        `mmsim: interrupted: the output is incomplete (${doc[0].runs} fuzzing runs finished)\n`,
      );
    }, 60_000);
  }

  it("SIGINT during the policies' trial builds (before the first run) still exits 130 within 1 s", async () => {
    const r = await cli(
      ['check', '--kernel', 'linux-6.18', '--policy', FIX('announce-policy.ts'), '--runs', '100000', '--json'],
      (c) => c.kill('SIGINT'),
      0,
    );
    expect(r.code).toBe(130);
    expect(r.ms).toBeLessThan(1000);
    const doc = JSON.parse(r.stdout);
    expect(doc).toHaveLength(1);
    expect(doc[0].interrupted).toBe(true);
    expect(doc[0].runs).toBeLessThan(100000);
  }, 60_000);

  it('the table says INTERRUPTED and later kernels are not started', async () => {
    const r = await cli(
      ['check', '-k', 'linux-6.18', '-k', 'linux-6.8', '--policy', FIX('announce-policy.ts'), '--runs', '100000'],
      (c) => c.kill('SIGINT'),
    );
    expect(r.code).toBe(130);
    expect(r.ms).toBeLessThan(1000);
    expect(r.stdout).toMatch(/^linux-6\.18 on strict-tlb \+ announce-policy\.ts: \d+ runs/m);
    expect(r.stdout).toMatch(/^status INTERRUPTED: incomplete, \d+ runs finished$/m);
    expect(r.stdout).not.toContain('linux-6.8');
  }, 60_000);

  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    it(`${sig} while a tap is busy (before its budget) still exits 130 within 1 s`, async () => {
      const r = await cli(
        [
          'check',
          '-k',
          'linux-6.18',
          '--policy',
          FIX('stuck-tap.ts'),
          '--policy',
          FIX('announce-policy.ts'),
          '--tap-timeout',
          '60000',
          '--json',
        ],
        (c) => c.kill(sig),
        1500,
      );
      expect(r.code).toBe(130);
      expect(r.ms).toBeLessThan(1000);
      expect(JSON.parse(r.stdout)[0].interrupted).toBe(true);
    }, 60_000);
});

describe.skipIf(!hasCli)('mmsim check: --tap-timeout', () => {
  it('a tap that never returns is a plugin error naming the plugin, the hook and the budget (exit 2, nothing on stdout)', async () => {
    const r = await cli([
      'check',
      '-k',
      'linux-6.18',
      '--policy',
      FIX('stuck-tap.ts'),
      '--tap-timeout',
      '200',
      '--json',
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^mmsim check: plugin "stuck-tap"'s tap on fault\.wpReuse did not return within 200 ms \(linux-6\.18, steps\[\d+\] \(\w+\) of a fuzzing run; --tap-timeout MS allows more\)\n$/,
    );
  }, 60_000);

  it('--tap-timeout below 1 is bad input', async () => {
    const err: string[] = [];
    const io = { stdout: { write: () => true }, stderr: { write: (s: string) => err.push(s) } };
    expect(await checkCommand(['--tap-timeout', '0'], io)).toBe(2);
    expect(err.join('').split('\n')[0]).toBe('mmsim check: --tap-timeout must be >= 1 (got 0)');
  });
});

describe('mmsim check: the decisions before a broken invariant', () => {
  const policy = { ref: `file:${FIX('always-reuse.ts')}`, create: () => alwaysReuse() };

  it("blames the policy whose tap answered in the failing step, not the preset's plugins", () => {
    const r = checkComposition({ kernel: 'linux-6.18', policies: [policy], runs: 50, seed: 1, maxSteps: 40 });
    expect(r.violations).toHaveLength(1);
    const v = r.violations[0]!;
    expect(v.message).toBe('after step 4 (access): page 1 (folio 1) is PageAnonExclusive but mapped 2 times');
    expect(v.decisions).toEqual([
      { step: 4, op: 'access', plugin: 'always-reuse', hook: 'fault.wpReuse', answer: 'reuse', page: '0x7effffff0' },
    ]);
    expect(v.blame).toEqual(['always-reuse']);
    expect(formatCheckResult(r).split('\n').slice(1, 5)).toEqual([
      '  [exclusive] after step 4 (access): page 1 (folio 1) is PageAnonExclusive but mapped 2 times',
      '    decisions before it:',
      '      steps[4] (access): fault.wpReuse → always-reuse answered "reuse" at page 0x7effffff0',
      '    blame: always-reuse (its tap ran in the step that broke it)',
    ]);
  });

  it('a preset alone has no decisions to report (only extra policies are watched)', () => {
    const r = checkComposition({ kernel: 'linux-5.8', runs: 300, seed: 1, maxSteps: 40 });
    expect(r.violations.length).toBeGreaterThan(0);
    expect(r.violations[0]!.decisions).toBeUndefined();
    expect(r.violations[0]!.blame).toBeUndefined();
  });
});
