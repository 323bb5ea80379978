import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '@mmsim/core';
import { formatResult, loadScenarioFile, resolveSystem, runScenarioFile, thpConfig } from '../src/index.js';
import { fixture } from './helpers.js';

describe('library API', () => {
  it('loadScenarioFile validates and returns the scenario', async () => {
    const sc = await loadScenarioFile(fixture('fork-cow.yaml'));
    expect(sc.name).toBe('fork-cow');
    expect(sc.steps).toHaveLength(7);
    await expect(loadScenarioFile(fixture('bad/bad-size.yaml'))).rejects.toMatchObject({
      name: 'ScenarioError',
      where: 'steps[2].steps[1]',
      field: 'size',
      location: { line: 10 },
    });
  });

  it('resolveSystem composes hardware, preset and policies', async () => {
    const baseDir = path.resolve(fixture('.'));
    const sys = await resolveSystem(
      {
        hardware: 'flat',
        hardwareOptions: { cpus: 3 },
        kernel: 'linux-5.8',
        policies: [{ name: './plugins/always-copy.ts', options: { decision: 'reuse' } }],
        lruBatchSize: 9,
      },
      { baseDir, file: 'inline' },
    );
    expect(sys.hardware.name).toBe('flat');
    expect(sys.hardware.ncpus).toBe(3);
    expect(sys.kernelName).toBe('linux-5.8');
    expect(sys.config.lruBatchSize).toBe(9);
    expect(sys.config.features.thpAlignAnon).toBe(false);
    expect(sys.plugins.map((p) => p.name)).toContain('always-reuse');
    const err = await resolveSystem({ policies: ['x', '@nope/nope'] }, { baseDir, file: 'inline' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as ScenarioError).field).toBe('system.policies[0]');
  });

  it('thpConfig normalises sizes to sysfs spelling', () => {
    expect(thpConfig({ top: 'always', '2M': 'never', '64KiB': 'madvise', '16K': 'inherit' }, 'f')).toEqual({
      top: 'always',
      '2048K': 'never',
      '64K': 'madvise',
      '16K': 'inherit',
    });
    expect(() => thpConfig({ '4K': 'always' }, 'f')).toThrow(/system\.thp\.4K/);
  });

  it('runScenarioFile + formatResult', async () => {
    const r = await runScenarioFile(fixture('touch16.json'), { seed: 7 });
    expect(r.seed).toBe(7);
    const text = formatResult(r, { width: 80 });
    expect(text).toMatch(/^ {2}pgfault\s+-\s+16\s+16$/m);
    for (const l of text.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
  });
});
