/**
 * invariantsPlugin() inside ordinary scenario runs, and an invariant violation found by
 * fuzzing replaying as a failing scenario (the plugin is listed in its system.policies).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, runScenario, ScenarioSchema } from '@mmsim/core';
import { resolvePreset } from '@mmsim/presets';
import {
  assertPolicySound,
  checkComposition,
  CompositionUnsoundError,
  invariantsPlugin,
  replayScenario,
  type PolicyChoice,
} from '../src/index.js';
import leakyPolicy from './fixtures/leaky-policy.js';

const LEAKY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'leaky-policy.ts');
const leaky: PolicyChoice = { ref: LEAKY, create: () => leakyPolicy() };

function run(policies: ReturnType<typeof invariantsPlugin | typeof leakyPolicy>[]) {
  const { config, plugins } = resolvePreset('linux-6.18');
  const sys = createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: plugins,
    policies,
    config: config as never,
  });
  const steps = [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'a', size: '64KiB' },
    { op: 'touch', pid: 'p', region: 'a', access: 'write' },
    { op: 'fork', pid: 'p', child: 'c' },
    { op: 'touch', pid: 'c', region: 'a', access: 'write' },
    { op: 'madvise', pid: 'p', region: 'a', advice: 'pageout' },
    { op: 'exit', pid: 'c' },
    { op: 'exit', pid: 'p' },
  ];
  return runScenario(sys, ScenarioSchema.parse({ name: 't', steps }));
}

describe('invariantsPlugin', () => {
  it('passes a correct run', () => {
    const inv = invariantsPlugin();
    expect(run([inv]).checks.failed).toBe(0);
    expect(inv.violations).toEqual([]);
  });

  it('fails the step where a policy breaks the refcount', () => {
    expect(() => run([leakyPolicy(), invariantsPlugin()])).toThrow(
      /steps\[2\].*invariant violated.*\[refcount\] folio \d+ \(order 0\): refcount 3, expected 2/,
    );
  });

  it('can collect instead of throwing', () => {
    const inv = invariantsPlugin({ throwOnViolation: false });
    run([leakyPolicy(), inv]);
    expect(inv.violations.length).toBeGreaterThan(0);
    expect(inv.violations[0]!.kind).toBe('refcount');
  });
});

describe('an invariant violation found by fuzzing', () => {
  it('is shrunk to a few steps and its scenario fails under replay through the plugin', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-check-'));
    const r = checkComposition({
      kernel: 'linux-6.18',
      policies: [leaky],
      runs: 200,
      seed: 1,
      maxSteps: 30,
      outDir: dir,
    });
    const v = r.violations[0]!;
    expect(v.kind).toBe('refcount');
    expect(v.shrunkSteps).toBeLessThanOrEqual(6);
    expect(v.scenario.system!.policies!.some((p) => String(p).includes('invariants'))).toBe(true);
    const replay = await replayScenario(v.scenario, dir);
    expect(replay.failed).toBe(true);
    expect(replay.message).toMatch(/invariant violated/);
  });

  it('assertPolicySound throws with the shrunk scenario for plugin authors', () => {
    expect(() => assertPolicySound(() => leakyPolicy(), { runs: 200, ref: LEAKY })).toThrow(CompositionUnsoundError);
    expect(assertPolicySound(() => [], { runs: 100 }).violations).toEqual([]);
  });
});
