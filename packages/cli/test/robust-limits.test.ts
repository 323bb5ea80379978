import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixture, mmsim } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../dist/bin.js');

describe('mmsim run: the step budget', () => {
  // without the budget this runs 10^12 steps; the test timeout is the (generous) bound
  it('a repeat of 10^12 is refused before the run: exit 2 naming steps[1] "times" and the count', async () => {
    const r = await mmsim('run', fixture('repeat-1e12.yaml'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      'repeat-1e12.yaml: steps[1] field "times": the scenario runs 1000000000001 leaf steps (repeats multiplied out), more than the step budget of 1000000000 (the default; raise it with limits.maxSteps)',
    );
    expect(r.stderr).toMatch(/at .*repeat-1e12\.yaml:6:12/);
  }, 10_000);

  it('--max-steps 10 refuses 11 steps (exit 2, naming the 11th); --max-steps 11 runs them', async () => {
    const r = await mmsim('run', fixture('eleven-steps.yaml'), '--max-steps', '10');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'eleven-steps.yaml: steps[10]: the scenario runs 11 leaf steps (repeats multiplied out), more than the step budget of 10 (--max-steps)',
    );
    const ok = await mmsim('run', fixture('eleven-steps.yaml'), '--max-steps', '11', '--json');
    expect(ok.code).toBe(0);
    const doc = JSON.parse(ok.stdout);
    expect(doc.total.steps).toBe(11);
    expect(doc.checks).toEqual({ passed: 1, failed: 0, failures: [] });
  });

  it('--max-steps goes with --config too (the budget is not part of config.run)', async () => {
    const ok = await mmsim('run', fixture('eleven-steps.yaml'), '--json');
    expect(ok.code).toBe(0);
    const doc = path.join(mkdtempSync(path.join(tmpdir(), 'mmsim-limits-')), 'run.json');
    writeFileSync(doc, ok.stdout);
    const r = await mmsim('run', '--config', doc, '--max-steps', '10');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('steps[10]: the scenario runs 11 leaf steps');
    expect((await mmsim('run', '--config', doc)).code).toBe(0);
  });

  it('limits.maxSteps in the file; --max-steps overrides it', async () => {
    const r = await mmsim('run', fixture('limits-max-steps.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'limits-max-steps.yaml: steps[1] field "times": the scenario runs 7 leaf steps (repeats multiplied out), more than the step budget of 4 (limits.maxSteps)',
    );
    const ok = await mmsim('run', fixture('limits-max-steps.yaml'), '--max-steps', '7', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).total.steps).toBe(7);
  });

  it('mmsim compare --max-steps: checked for every configuration before any run; it bounds every run', async () => {
    const r = await mmsim('compare', fixture('eleven-steps.yaml'), '--max-steps', '10', '--jobs', '1');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      'eleven-steps.yaml: steps[10]: the scenario runs 11 leaf steps (repeats multiplied out), more than the step budget of 10 (--max-steps)',
    );
    const ok = await mmsim(
      'compare',
      fixture('eleven-steps.yaml'),
      '--max-steps',
      '11',
      '--seeds',
      '2',
      '--jobs',
      '1',
      '--json',
    );
    expect(ok.code).toBe(0);
    const doc = JSON.parse(ok.stdout);
    expect(doc.configs.map((c: { result: { total: { steps: number } } }) => c.result.total.steps)).toEqual([11, 11]);
    // a --set alternative that makes the file's own budget too small fails in planning, not mid-comparison
    const set = await mmsim(
      'compare',
      fixture('limits-max-steps.yaml'),
      '--set',
      'limits.maxSteps=7',
      '--set',
      'limits.maxSteps=4',
      '--jobs',
      '1',
    );
    expect(set.code).toBe(2);
    expect(set.stdout).toBe('');
    expect(set.stderr).toContain('more than the step budget of 4 (limits.maxSteps)');
  });

  it('--max-steps takes a positive integer (1e9 too)', async () => {
    for (const bad of ['0', '-1', 'x', '1.5', '1e400']) {
      const r = await mmsim('run', fixture('eleven-steps.yaml'), '--max-steps', bad);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toContain("option '--max-steps <n>' argument");
      expect(r.stderr, bad).toContain('expected a positive integer (e.g. 1000000 or 1e9)');
    }
    const r = await mmsim('run', fixture('eleven-steps.yaml'), '--max-steps', '1e9');
    expect(r.code).toBe(0);
  });

  it('a bad limits.maxSteps is a scenario error', async () => {
    const r = await mmsim('run', fixture('limits-max-steps.yaml'), '--set', 'limits.maxSteps=0');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'limits-max-steps.yaml: scenario field "limits.maxSteps": Too small: expected number to be >0',
    );
  });
});

describe('mmsim run: the address space', () => {
  it('an mmap of 1 PiB is ENOMEM at once (exit 2), not a touch that runs forever', async () => {
    const r = await mmsim('run', fixture('mmap-1pib.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'mmap-1pib.yaml: steps[1] field "size": ENOMEM: 1 PiB (1125899906842624 bytes) does not fit in the flat user address space (TASK_SIZE 0x7ffffffff000, 128 TiB)',
    );
  }, 10_000);

  it('the same 1 PiB on arm64 (48-bit VA): ENOMEM with its TASK_SIZE', async () => {
    const r = await mmsim('run', fixture('mmap-1pib.yaml'), '--hardware', 'arm64');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not fit in the arm64 user address space (TASK_SIZE 0x1000000000000, 256 TiB)');
  }, 10_000);
});

describe('hardwareOptions.cpus: one rule on flat, x86 and arm64', () => {
  for (const hw of ['flat', 'x86', 'arm64']) {
    it(`${hw}: cpus 10000 is exit 2 with the same message`, async () => {
      const r = await mmsim(
        'run',
        fixture('eleven-steps.yaml'),
        '--hardware',
        hw,
        '--set',
        'system.hardwareOptions.cpus=10000',
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `hardware "${hw}" rejected its options {"cpus":10000}: option "cpus" must be an integer from 1 to 4096 (NR_CPUS), got 10000`,
      );
    });
  }
});

describe('mmsim run: interrupting one big touch', () => {
  it('SIGINT during a touch of 64 GiB exits 130 within a second, the touch cut short', async () => {
    const child = spawn(process.execPath, [BIN, 'run', fixture('big-touch.yaml'), '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    // long enough for the worker to load and the touch to be under way (it runs for many seconds)
    await new Promise((r) => setTimeout(r, 3000));
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    const ms = Date.now() - t0;
    expect(code).toBe(130);
    expect(ms).toBeLessThan(1000);
    const doc = JSON.parse(stdout);
    expect(doc.interrupted).toBe(true);
    // spawn and mmap finished; the touch (16 Mi pages) did not
    expect(doc.total.steps).toBe(2);
    expect(doc.total.counters.pgfault).toBeGreaterThan(0);
    expect(doc.total.counters.pgfault).toBeLessThan(16 * 1024 * 1024);
    expect(stderr).toContain('mmsim: interrupted');
  }, 30_000);
});
