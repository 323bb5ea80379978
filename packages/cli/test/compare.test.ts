import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planCompare } from '../src/index.js';
import { formatCompare, valueText } from '../src/compare/format.js';
import { tableRows } from '../src/compare/stats.js';
import { fixture, mmsim } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../dist/bin.js');
const VARS = fixture('compare/vars.yaml');
const POLICY = fixture('plugins/always-copy.ts');

async function compareJson(...args: string[]) {
  const r = await mmsim('compare', ...args, '--json');
  if (r.code !== 0) throw new Error(`mmsim compare exited ${r.code}: ${r.stderr}`);
  return { doc: JSON.parse(r.stdout), stdout: r.stdout, stderr: r.stderr };
}

describe('mmsim compare: the configurations', () => {
  it('is the cross product of kernels × hardware × (no policy + each --policy) × --set × --var', async () => {
    const plan = await planCompare(VARS, {
      kernel: ['linux-5.8', 'linux-6.18'],
      hardware: ['x86', 'arm64'],
      policy: [POLICY],
      set: ['system.hardwareOptions.cpus=2', 'system.hardwareOptions.cpus=4'],
      var: ['SIZE=16KiB,32KiB,64KiB'],
      seeds: 2,
    });
    expect(plan.configurations.length).toBe(2 * 2 * 2 * 2 * 3);
    expect(plan.runs.length).toBe(2 * 2 * 2 * 2 * 3 * 2);
    const labels = plan.configurations.map((c) => c.label);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels[0]).toBe('linux-5.8/x86/cpus=2/SIZE=16KiB');
    expect(labels).toContain('linux-6.18/arm64/+always-copy/cpus=4/SIZE=64KiB');
    expect(plan.baseline).toBe(labels[0]);
    expect(plan.configurations[0]).toMatchObject({
      kernel: 'linux-5.8',
      hardware: 'x86',
      policies: [],
      vars: { SIZE: '16KiB' },
    });
    expect(plan.runs.slice(0, 2).map((r) => r.request.seed)).toEqual([1, 2]);
  });

  it('takes kernel and hardware from the file when not given; a single --set applies to all and stays out of labels', async () => {
    const plan = await planCompare(VARS, { var: ['SIZE=16KiB,32KiB'], set: ['system.hardwareOptions.cpus=3'] });
    expect(plan.configurations.map((c) => c.label)).toEqual(['linux-6.18/x86/SIZE=16KiB', 'linux-6.18/x86/SIZE=32KiB']);
    expect(plan.runs.map((r) => r.request.sets)).toEqual([
      ['system.hardwareOptions.cpus=3'],
      ['system.hardwareOptions.cpus=3'],
    ]);
  });
});

describe('mmsim compare --json', () => {
  it('prints exactly { baseline, configs: [{ label, kernel, hardware, policies, vars, seed, result }] }', async () => {
    const { doc, stdout } = await compareJson(
      VARS,
      '--var',
      'SIZE=16KiB,32KiB',
      '--kernel',
      'linux-5.9',
      '--seeds',
      '2',
      '--jobs',
      '1',
    );
    expect(stdout).toBe(JSON.stringify(doc, null, 2) + '\n');
    expect(Object.keys(doc)).toEqual(['baseline', 'configs']);
    expect(doc.baseline).toBe('linux-5.9/x86/SIZE=16KiB');
    expect(doc.configs.length).toBe(4);
    for (const c of doc.configs) {
      expect(Object.keys(c)).toEqual(['label', 'kernel', 'hardware', 'policies', 'vars', 'seed', 'result']);
      expect(c.result).toMatchObject({
        scenario: 'compare-vars',
        system: { kernel: 'linux-5.9' },
        config: expect.any(Object),
      });
    }
    expect(doc.configs.map((c: any) => [c.label, c.seed])).toEqual([
      ['linux-5.9/x86/SIZE=16KiB', 1],
      ['linux-5.9/x86/SIZE=16KiB', 2],
      ['linux-5.9/x86/SIZE=32KiB', 1],
      ['linux-5.9/x86/SIZE=32KiB', 2],
    ]);
    expect(doc.configs[2].vars).toEqual({ SIZE: '32KiB' });
    expect(doc.configs[2].result.total.counters.pgfault).toBe(2 * doc.configs[0].result.total.counters.pgfault);
  });

  it('gives byte-identical results with --jobs 1 (in-process) and --jobs 2 (worker threads)', async () => {
    const args = [VARS, '--var', 'SIZE=16KiB,64KiB', '--hardware', 'x86', '--hardware', 'arm64', '--seeds', '2'];
    const one = await compareJson(...args, '--jobs', '1');
    const two = await compareJson(...args, '--jobs', '2');
    expect(two.stdout).toBe(one.stdout);
    // and each result is what `mmsim run --json` prints for that configuration
    const c = one.doc.configs[3];
    const run = await mmsim(
      'run',
      VARS,
      '--json',
      '--hardware',
      c.hardware,
      '--var',
      `SIZE=${c.vars.SIZE}`,
      '--seed',
      String(c.seed),
    );
    const { config: _a, ...fromRun } = JSON.parse(run.stdout);
    const { config: _b, ...fromCompare } = c.result;
    expect(JSON.stringify(fromRun)).toBe(JSON.stringify(fromCompare));
  });

  it('re-running one row from its config gives the same result', async () => {
    const { doc } = await compareJson(VARS, '--var', 'SIZE=16KiB,32KiB', '--policy', POLICY, '--jobs', '2');
    const row = doc.configs.find((c: any) => c.policies.length === 1 && c.vars.SIZE === '32KiB');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mmsim-compare-'));
    const f = path.join(dir, 'row.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(f, JSON.stringify(row));
    const again = await mmsim('run', '--config', f, '--json');
    expect(again.code).toBe(0);
    const { config: _a, ...rerun } = JSON.parse(again.stdout);
    const { config: _b, ...orig } = row.result;
    expect(JSON.stringify(rerun)).toBe(JSON.stringify(orig));
  });
});

describe('mmsim compare: the table and its exports', () => {
  it('prints value, ratio and difference against the baseline; writes CSV and Markdown', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mmsim-compare-'));
    const csv = path.join(dir, 't.csv');
    const md = path.join(dir, 't.md');
    const r = await mmsim(
      'compare',
      VARS,
      '--var',
      'SIZE=16KiB,32KiB',
      '--baseline',
      'linux-6.18/x86/SIZE=32KiB',
      '--counters',
      'pgfault,cycles,child-cow:cow_copy',
      '--seeds',
      '2',
      '--jobs',
      '1',
      '--export-csv',
      csv,
      '--export-markdown',
      md,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('2 configurations × 2 seeds, baseline linux-6.18/x86/SIZE=32KiB');
    expect(r.stdout).toMatch(/linux-6\.18\/x86\/SIZE=16KiB\s+12\s+0\.50x\s+-12/);
    expect(r.stdout).toMatch(/SIZE=32KiB\s+24\s+1\.00x\s+\(baseline\)/);
    expect(r.stdout).toContain('child-cow:cow_copy');
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(
      'label,baseline,seeds,pgfault,pgfault_stddev,pgfault_ratio,pgfault_diff,cycles,cycles_stddev,cycles_ratio,cycles_diff,child-cow:cow_copy,child-cow:cow_copy_stddev,child-cow:cow_copy_ratio,child-cow:cow_copy_diff',
    );
    expect(lines[1]).toMatch(/^linux-6\.18\/x86\/SIZE=16KiB,,2,12,0,0\.5,-12,/);
    expect(lines[2]).toMatch(/^linux-6\.18\/x86\/SIZE=32KiB,yes,2,24,0,1,0,/);
    const mdText = readFileSync(md, 'utf8');
    expect(mdText).toContain('| configuration | pgfault | pgfault ratio | cycles |');
    expect(mdText).toContain('| linux-6.18/x86/SIZE=32KiB (baseline) | 24 | 1.00x |');
  });

  it('shows mean ± stddev over seeds (hyperfine style) when the seeds differ', () => {
    const res = (cycles: number) => ({ total: { counters: { pgfault: 10 }, cycles }, phases: {} }) as any;
    const rows = tableRows(
      [
        { label: 'a', results: [res(100), res(110)] },
        { label: 'b', results: [res(200), res(220)] },
      ],
      ['cycles', 'pgfault'],
      'a',
    );
    expect(valueText(rows[1]!.cells.cycles!)).toBe('210 ± 14.1');
    expect(rows[1]!.cells.cycles!.ratio).toBeCloseTo(2);
    expect(valueText(rows[1]!.cells.pgfault!)).toBe('10');
    const text = formatCompare(rows, ['cycles'], { file: 'f.yaml', configurations: 2, seeds: 2, baseline: 'a' });
    expect(text).toMatch(/b\s+210 ± 14\.1\s+2\.00x\s+\+105/);
  });
});

describe('mmsim compare: bad axes are exit-2 errors before any run', () => {
  const bad = async (...args: string[]) => {
    const r = await mmsim('compare', ...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    return r.stderr;
  };
  it('names the flag and the value', async () => {
    expect(await bad(VARS, '--var', 'SIZE=16KiB', '--kernel', 'linux-6.18', '--kernel', 'linux-9.9')).toMatch(
      /^mmsim: --kernel linux-9\.9: unknown kernel preset \(known: /,
    );
    expect(await bad(VARS, '--var', 'SIZE=16KiB', '--set', 'steps.12.times=3')).toContain('--set steps.12.times=3: ');
    expect(await bad(VARS, '--var', 'SIZE=16KiB', '--var', 'N=1,2')).toContain('--var N: ');
    expect(await bad(VARS)).toContain('placeholder ${SIZE} has no value');
    expect(await bad(VARS, '--var', 'SIZE=16KiB', '--hardware', 'x86', '--hardware', 'sparc')).toMatch(
      /^mmsim: --hardware sparc: unknown hardware "sparc"/,
    );
    expect(await bad(VARS, '--var', 'SIZE=16KiB', '--policy', './no-such-policy.mjs')).toMatch(
      /^mmsim: --policy \.\/no-such-policy\.mjs: /,
    );
    expect(await bad(VARS, '--var', 'SIZE=16KiB', '--baseline', 'nope')).toContain(
      '--baseline nope: no such configuration',
    );
  });
});

describe('mmsim compare: Ctrl-C', () => {
  it('on SIGINT stops the pool, prints what finished and exits 130', async () => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'compare',
        fixture('compare/long.yaml'),
        '--var',
        'PASSES=400,800,1200,1600',
        '--seeds',
        '6',
        '--jobs',
        '2',
        '--counters',
        'pgfault',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await new Promise((r) => setTimeout(r, 5000));
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    expect(Date.now() - t0).toBeLessThan(10_000); // the pool stops; runs still going do not finish
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted(: \d+ of 24 runs finished| before the first run)/);
    if (/runs finished/.test(stderr)) expect(stdout).toContain('pgfault');
  }, 60_000);
});
