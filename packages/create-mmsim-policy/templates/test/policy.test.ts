import { describe, expect, it } from 'vitest';
import { assertPolicySound } from '@mmsim/check';
import { runScenarioFile } from '@mmsim/cli';
import {{FN}} from '../src/index.js';

describe('{{NAME}}', () => {
  it('runs test/scenario.yaml: each tap is called as often as its hook fires', async () => {
    // the path is resolved from the working directory: `npm test` runs in the package root
    const r = await runScenarioFile('test/scenario.yaml');
    const total = r.total.counters;
{{EXPECTS}}
    // what the kernel preset decided: the child's 16 writes copied the 16 shared pages
    expect(r.phases['child-write']!.counters.cow_copy).toBe(16);
    expect(total.pgfault).toBe(49);
  });

  it('keeps the invariants and agrees with the reference model ({{KERNEL}}, fuzzed)', () => {
    const result = assertPolicySound(() => {{FN}}(), { kernel: '{{KERNEL}}', ref: '{{NAME}}' });
    expect(result.violations).toEqual([]);
  }, 120_000);
});
