import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configToArgs } from '../src/index.js';
import { fixture, mmsim, runJson } from './helpers.js';

const withoutConfig = (d: Record<string, unknown>) => {
  const { config: _c, ...rest } = d;
  return rest;
};

describe('mmsim run --set', () => {
  it('overrides a field by dot path; VALUE is JSON when it parses, else a string', async () => {
    const { result } = await runJson(
      'fork-cow.yaml',
      '--set',
      'steps.1.size=32KiB',
      '--set',
      'system.hardwareOptions.cpus=4',
    );
    expect(result.phases.touch.counters.pgfault).toBe(8);
    expect(result.system.options.cpus).toBe(4);
    expect(result.config.sets).toEqual([
      { path: 'steps.1.size', value: '32KiB' },
      { path: 'system.hardwareOptions.cpus', value: 4 },
    ]);
  });

  it('creates a known optional system.* field the file does not have', async () => {
    const { result } = await runJson('fork-cow.yaml', '--set', 'system.lruBatchSize=7');
    expect(result.config.kernelConfig.lruBatchSize).toBe(7);
  });

  it('a path the file does not have is an error naming the flag and the path (exit 2)', async () => {
    let r = await mmsim('run', fixture('fork-cow.yaml'), '--set', 'steps.9.times=10');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--set steps.9.times=10');
    expect(r.stderr).toContain('list of 7 entries');
    r = await mmsim('run', fixture('fork-cow.yaml'), '--set', 'system.hardwareOptoins.cpus=1');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has no system.hardwareOptoins.cpus');
    r = await mmsim('run', fixture('fork-cow.yaml'), '--set', 'nmae=x');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--set nmae=x');
  });
});

describe('mmsim run --policy', () => {
  it('adds a policy as system.policies would, a relative path from the working directory', async () => {
    const base = await runJson('fork-cow.yaml');
    const { result } = await runJson(
      'fork-cow.yaml',
      '--policy',
      `${fixture('plugins/always-copy.ts')}={"decision":"copy"}`,
    );
    expect(result.system.policies).toContain('always-copy');
    expect(base.result.phases['parent-after-exit'].counters.pgreuse).toBe(16);
    expect(result.phases['parent-after-exit'].counters.pgreuse).toBeUndefined();
    expect(result.config.policies).toEqual([
      {
        name: path.resolve(fixture('plugins/always-copy.ts')),
        options: { decision: 'copy' },
        from: '--policy',
      },
    ]);
  });

  it('a policy that does not load is an error naming --policy (exit 2)', async () => {
    const r = await mmsim('run', fixture('fork-cow.yaml'), '--policy', './no-such-policy.mjs');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mmsim: --policy \.\/no-such-policy\.mjs: /);
    const j = await mmsim('run', fixture('fork-cow.yaml'), '--policy', 'x={not json');
    expect(j.code).toBe(2);
    expect(j.stderr).toContain('--policy x={not json: the options are not valid JSON');
  });
});

describe('mmsim run --hardware (another model than the file names)', () => {
  it("drops the file's hardwareOptions the new model does not accept and says which", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mmsim-hw-'));
    const f = path.join(dir, 'x86.yaml');
    writeFileSync(
      f,
      [
        'name: x86-options',
        'system: { hardware: x86, hardwareOptions: { cpus: 3, pcid: false, profile: kvm-guest } }',
        'steps:',
        '  - { op: spawn, pid: p, cpu: 0 }',
        '  - { op: mmap, pid: p, name: buf, size: 64KiB }',
        '  - { op: touch, pid: p, region: buf, access: write }',
      ].join('\n'),
    );
    const r = await mmsim('run', f, '--hardware', 'arm64', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('--hardware arm64: dropped');
    expect(r.stderr).toContain('pcid');
    expect(r.stderr).toContain('profile="kvm-guest"');
    const doc = JSON.parse(r.stdout);
    expect(doc.system.hardware).toBe('arm64');
    expect(doc.system.options.cpus).toBe(3);
    expect(doc.config.hardware.options).toEqual({ cpus: 3 });
    expect(doc.config.hardware.dropped.length).toBe(2);
    // same hardware: nothing dropped
    const same = await mmsim('run', f, '--hardware', 'x86', '--json');
    expect(same.stderr).toBe('');
  });
});

describe('mmsim run --json config', () => {
  it('holds what is needed to re-run: preset plugins, packages, hardware, seed, sets', async () => {
    const { result } = await runJson('fork-cow.yaml', '--kernel', 'linux-5.9', '--seed', '5');
    const c = result.config;
    expect(c.mmsim.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(c.seed).toBe(5);
    expect(c.scenario).toMatchObject({ name: 'fork-cow', path: path.resolve(fixture('fork-cow.yaml')) });
    expect(c.scenario.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(c.kernel.preset).toBe('linux-5.9');
    expect(c.kernel.plugins.map((p: { name: string }) => p.name)).toEqual(result.system.policies);
    expect(c.kernel.plugins[0].options).toMatchObject({ wp: 'refcount' });
    expect(c.hardware).toMatchObject({ name: 'flat', options: { cpus: 2 } });
    expect(Object.keys(c.packages)).toEqual(expect.arrayContaining(['@mmsim/cli', '@mmsim/core', '@mmsim/presets']));
    expect(c.run).toMatchObject({ kernel: 'linux-5.9', seed: 5, policies: [], sets: [], vars: {} });
  });

  it('re-running from the config (run --config, or configToArgs) gives the same document', async () => {
    const args = [
      '--hardware',
      'x86',
      '--policy',
      `${fixture('plugins/always-copy.ts')}={"decision":"copy"}`,
      '--set',
      'steps.1.size=48KiB',
      '--seed',
      '3',
    ];
    const first = await runJson('random.yaml', ...args);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mmsim-config-'));
    const saved = path.join(dir, 'result.json');
    writeFileSync(saved, JSON.stringify(first.result));
    const again = await mmsim('run', '--config', saved, '--json');
    expect(again.code).toBe(0);
    const doc = JSON.parse(again.stdout);
    expect(withoutConfig(doc)).toEqual(withoutConfig(first.result));
    expect(JSON.stringify(withoutConfig(doc))).toBe(JSON.stringify(withoutConfig(first.result)));
    const viaArgs = await mmsim(...configToArgs(first.result.config), '--json');
    expect(JSON.stringify(withoutConfig(JSON.parse(viaArgs.stdout)))).toBe(JSON.stringify(withoutConfig(first.result)));
    // --config re-runs exactly the config
    const mixed = await mmsim('run', '--config', saved, '--kernel', 'linux-5.8');
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('--config');
  });
});

describe('mmsim run --var', () => {
  it('fills ${NAME}; a placeholder without a value and an unused --var are errors naming them', async () => {
    const { result } = await runJson('compare/vars.yaml', '--var', 'SIZE=32KiB');
    expect(result.phases.touch.counters.pgfault).toBe(8);
    expect(result.config.vars).toEqual({ SIZE: '32KiB' });
    const missing = await mmsim('run', fixture('compare/vars.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('placeholder ${SIZE} has no value');
    const unused = await mmsim('run', fixture('fork-cow.yaml'), '--var', 'SIZE=1');
    expect(unused.code).toBe(2);
    expect(unused.stderr).toContain('--var SIZE: ');
    expect(unused.stderr).toContain('has no ${SIZE} placeholder');
  });
});
