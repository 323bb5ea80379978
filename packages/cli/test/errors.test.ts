import { describe, expect, it } from 'vitest';
import { fixture, mmsim } from './helpers.js';

/** Run with --json and check the error contract: exit 2, nothing on stdout, one short message. */
async function bad(file: string, ...args: string[]): Promise<string> {
  const r = await mmsim('run', fixture(file), '--json', ...args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^mmsim: /);
  expect(r.stderr.split('\n').filter(Boolean).length).toBeLessThanOrEqual(3);
  expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
  return r.stderr;
}

describe('bad input: exit 2, stderr names file, step and field', () => {
  it('malformed JSON gives the line and column', async () => {
    const err = await bad('bad/malformed.json');
    expect(err).toContain('bad/malformed.json: line 5, column 5: invalid JSON:');
  });

  it('malformed YAML gives the line and column', async () => {
    const err = await bad('bad/malformed.yaml');
    expect(err).toMatch(/bad\/malformed\.yaml: line \d+, column \d+: invalid YAML: /);
  });

  it('a wrong field type (size "4XiB") inside a repeat', async () => {
    const err = await bad('bad/bad-size.yaml');
    expect(err).toContain('bad/bad-size.yaml: steps[2].steps[1] field "size": not a size: "4XiB"');
    expect(err).toMatch(/at .*bad-size\.yaml:10:\d+/);
  });

  it('a missing required field', async () => {
    const err = await bad('bad/missing-field.yaml');
    expect(err).toContain('bad/missing-field.yaml: steps[2] field "access": required field is missing');
    expect(err).toContain('"read"|"write"');
  });

  it('an unknown field', async () => {
    const err = await bad('bad/unknown-field.json');
    expect(err).toContain('bad/unknown-field.json: steps[1] field "sise": unknown field(s) "sise"');
    expect(err).toMatch(/unknown-field\.json:6:\d+/);
  });

  it('an unknown op', async () => {
    const err = await bad('bad/unknown-op.yaml');
    expect(err).toContain('bad/unknown-op.yaml: steps[2].steps[0] field "op": unknown op "tuoch"');
  });

  it('an unknown kernel preset (file and --kernel)', async () => {
    let err = await bad('bad/unknown-preset.yaml');
    expect(err).toContain(
      'bad/unknown-preset.yaml: scenario field "system.kernel": unknown kernel preset "linux-9.99"',
    );
    expect(err).toContain('linux-6.18');
    err = await bad('touch16.json', '--kernel', 'linux-1.0');
    expect(err).toContain('field "system.kernel": unknown kernel preset "linux-1.0" (from --kernel)');
    expect(err).not.toContain(' at '); // not in the file: no line
  });

  it('an unknown hardware name', async () => {
    const err = await bad('bad/unknown-hardware.yaml');
    expect(err).toContain(
      'bad/unknown-hardware.yaml: scenario field "system.hardware": unknown hardware "sparc64-no-such-model"',
    );
    const flag = await bad('touch16.json', '--hardware', './no-such-hw.mjs');
    expect(flag).toContain('field "system.hardware"');
    expect(flag).toContain('no such file');
  });

  it('an unknown plugin package', async () => {
    const err = await bad('bad/unknown-plugin.yaml');
    expect(err).toContain(
      'bad/unknown-plugin.yaml: scenario field "system.policies[1]": unknown plugin: cannot find package "@mmsim/policy-does-not-exist"',
    );
  });

  it('a module that is not a plugin, and a plugin whose apply() throws', async () => {
    expect(await bad('bad/not-a-plugin.yaml')).toContain(
      'field "system.policies[0]": plugin "../plugins/not-a-plugin.mjs" has no default export factory',
    );
    expect(await bad('bad/apply-throws.yaml')).toContain(
      'field "system.policies[1]": plugin "apply-throws" failed while applying:',
    );
  });

  it('a plugin that throws inside a hook during the run names the step', async () => {
    const err = await bad('bad/plugin-throws.yaml');
    expect(err).toContain(
      'bad/plugin-throws.yaml: steps[4]: op touch: plugin "throwing-policy" threw in hook fault.wpReuse: boom: this policy always fails',
    );
  });

  it("a plugin answering out of its hook's type exits 2 naming the plugin, the hook, the value and the step", async () => {
    const err = await bad('bad/answers-maybe.yaml');
    expect(err).toContain(
      'bad/answers-maybe.yaml: steps[4]: op touch: plugin "answers-maybe" answered "maybe" from hook fault.wpReuse: expected',
    );
  });

  it('a 0.x plugin and a plugin for another API major are refused before the run', async () => {
    const legacy = await bad('bad/legacy-0x.yaml');
    expect(legacy).toContain(
      'field "system.policies[0]": plugin "legacy-0x" (from "../plugins/legacy-0x.mjs") does not say which policy API it was built for',
    );
    const future = await bad('bad/future-api.yaml');
    expect(future).toContain(
      'field "system.policies[1]": plugin "future-api" (from "../plugins/future-api.mjs") cannot load: it was built for policy API ^2.0.0, but this @mmsim/core provides 1.0.0',
    );
  });

  it('runtime errors: an unknown region, an unmapped address, an unknown pid', async () => {
    expect(await bad('bad/unmapped-region.yaml')).toContain(
      'bad/unmapped-region.yaml: steps[3] field "region": process "p" has no region "heap"',
    );
    expect(await bad('bad/unmapped-addr.yaml')).toContain(
      'bad/unmapped-addr.yaml: steps[1] field "addr": op access: segmentation fault',
    );
    expect(await bad('bad/unknown-pid.yaml')).toContain(
      'bad/unknown-pid.yaml: steps[1] field "pid": no live process "q"',
    );
  });

  it('bad fields outside the steps are fields of the scenario', async () => {
    expect(await bad('bad/bad-system.yaml')).toContain(
      'bad/bad-system.yaml: scenario field "system.lruBatchSize": Invalid input: expected number',
    );
    expect(await bad('bad/no-name.json')).toContain(
      'bad/no-name.json: scenario field "name": required field is missing',
    );
  });

  it('a bad THP size in system.thp', async () => {
    expect(await bad('bad/bad-thp.yaml')).toContain('field "system.thp.3M": not a THP size');
  });

  it('TypeScript scenario modules: no default export, throwing while loading', async () => {
    expect(await bad('bad/no-default.ts')).toContain('bad/no-default.ts: the module has no default export');
    expect(await bad('bad/throws-on-load.ts')).toContain(
      'bad/throws-on-load.ts: cannot load the module: scenario generator is not ready',
    );
  });

  it('a missing file, an unsupported extension', async () => {
    expect(await bad('no-such-file.yaml')).toMatch(/^mmsim: .*no-such-file\.yaml: no such file\n$/);
    expect(await bad('no-such-file.ts')).toMatch(/no-such-file\.ts: no such file/);
    expect(await bad('hw')).toContain('unsupported file type "(none)"');
    expect(await bad('plugins/throwing.txt')).toContain('unsupported file type ".txt"');
  });

  it('a bad --seed is a usage error', async () => {
    const r = await mmsim('run', fixture('touch16.json'), '--json', '--seed', '1.5');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("option '--seed <n>' argument '1.5' is invalid");
  });
});
