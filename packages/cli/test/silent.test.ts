import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../dist/bin.js');
const hasCli = existsSync(BIN);

/** Run the built CLI (bin.ts: `mmsim run` in its worker, the rest on the main thread). */
function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const f = (name: string) => fixture(`silent/${name}`);
const NEVER = 'never settles (the event loop emptied while awaiting it)';
const ASYNC_APPLY =
  'its apply() returned a Promise: apply must be synchronous (do asynchronous set-up in the module, e.g. an async factory, which is awaited at load time)';

describe.skipIf(!hasCli)('plugins and scenario modules: what they print goes to stderr', () => {
  it('mmsim run --json: a plugin printing while it loads, applies and answers leaves one JSON document on stdout', () => {
    const r = cli('run', f('noisy.yaml'), '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.scenario).toBe('noisy');
    expect(doc.system.policies).toContain('noisy');
    expect(r.stderr).toBe(
      [
        'noisy-plugin: loading',
        'noisy-plugin: raw write',
        'noisy-plugin: factory',
        'noisy-plugin: apply',
        'noisy-plugin: tap',
        'noisy-plugin: tap',
        '',
      ].join('\n'),
    );
  });

  it('mmsim run --json: a .ts scenario module printing while it loads and in its factory', () => {
    const r = cli('run', f('noisy-scenario.ts'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).scenario).toBe('noisy-scenario');
    expect(r.stderr).toBe('noisy-scenario: loading\nnoisy-scenario: factory\n');
  });

  it('mmsim check --json: a noisy --policy leaves one JSON document on stdout', () => {
    const r = cli('check', '-k', 'linux-6.18', '--policy', `./${f('noisy-plugin.mjs')}`, '--runs', '2', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toHaveLength(1);
    expect(doc[0].runs).toBe(2);
    expect(r.stderr).toContain('noisy-plugin: loading\n');
    expect(r.stderr).toContain('noisy-plugin: apply\n');
  }, 120_000);
});

describe.skipIf(!hasCli)(
  'a module whose Promise never settles: exit 2 naming it (was: exit 13 or 3, no message)',
  () => {
    it('a plugin module whose default export is such a Promise', () => {
      const r = cli('run', f('stalled-plugin.yaml'), '--json');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `mmsim: ${f('stalled-plugin.yaml')}: scenario field "system.policies[0]": plugin "./stalled-plugin.mjs": the default export of ${f('stalled-plugin.mjs')} is a Promise that ${NEVER}\n  at ${f('stalled-plugin.yaml')}:4:14\n`,
      );
    });

    it('a plugin module whose top-level await never settles', () => {
      const r = cli('run', f('stalled-tla.yaml'));
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(
        `field "system.policies[0]": plugin "./stalled-tla.mjs": the top-level await of ${f('stalled-tla.mjs')} ${NEVER}\n`,
      );
    });

    it('a .ts scenario module whose default export is such a Promise', () => {
      const r = cli('run', f('stalled-scenario.ts'), '--json');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `mmsim: ${f('stalled-scenario.ts')}: cannot load the module: the default export of ${f('stalled-scenario.ts')} is a Promise that ${NEVER}\n`,
      );
    });

    it('a .ts scenario module whose factory returns such a Promise: one line naming the module', () => {
      const r = cli('run', f('stalled-factory.ts'), '--json');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`mmsim: ${f('stalled-factory.ts')}: a Promise this module made ${NEVER}\n`);
    });

    it('mmsim check --policy with such a default export', () => {
      const r = cli('check', '-k', 'linux-6.18', '--policy', `./${f('stalled-plugin.mjs')}`, '--runs', '1', '--json');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `mmsim check: --policy ./${f('stalled-plugin.mjs')}: the default export of ${f('stalled-plugin.mjs')} is a Promise that ${NEVER}\n`,
      );
    });
  },
);

describe.skipIf(!hasCli)('apply() must be synchronous; async factories are awaited at load time', () => {
  it('an async apply that rejects: exit 2 naming the plugin, nothing on stdout (was: a document, then exit 3)', () => {
    const r = cli('run', f('async-apply.yaml'), '--json');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `mmsim: ${f('async-apply.yaml')}: scenario field "system.policies[0]": plugin "./async-apply.mjs": plugin "async-apply" cannot load: ${ASYNC_APPLY}\n  at ${f('async-apply.yaml')}:4:14\n`,
    );
  });

  it('a plain apply returning a rejecting Promise: refused when applied, the rejection is not left unhandled', () => {
    const r = cli('run', f('promise-apply.yaml'), '--json');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `mmsim: ${f('promise-apply.yaml')}: scenario field "system.policies[0]": plugin "promise-apply" cannot load: ${ASYNC_APPLY}\n  at ${f('promise-apply.yaml')}:4:14\n`,
    );
  });

  it('an async factory is awaited: its plugin is applied with its options', () => {
    const r = cli('run', f('async-factory.yaml'), '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.system.policies).toContain('async-factory');
    // the policy answers copy: the parent's writes after the child exited copy instead of reusing
    expect(doc.phases.after.counters.cow_copy).toBe(2);
    expect(doc.phases.after.counters.pgreuse).toBeUndefined();
  });

  it('mmsim check --policy: an async apply, an async factory are load errors (exit 2, nothing on stdout)', () => {
    const a = cli('check', '-k', 'linux-6.18', '--policy', `./${f('async-apply.mjs')}`, '--runs', '1', '--json');
    expect(a.code).toBe(2);
    expect(a.stdout).toBe('');
    expect(a.stderr).toBe(
      `mmsim check: --policy ./${f('async-apply.mjs')}: plugin "async-apply" cannot load: ${ASYNC_APPLY}\n`,
    );
    const b = cli('check', '-k', 'linux-6.18', '--policy', `./${f('async-factory.mjs')}`, '--runs', '1', '--json');
    expect(b.code).toBe(2);
    expect(b.stdout).toBe('');
    expect(b.stderr).toBe(
      `mmsim check: --policy ./${f('async-factory.mjs')}: the factory returned a Promise: mmsim check needs a synchronous factory (it makes the plugins anew for every fuzzing run; mmsim run awaits an async one)\n`,
    );
  }, 120_000);
});

describe.skipIf(!hasCli)(
  'a plugin whose name getter throws: a load error naming the module (was: internal error, exit 3)',
  () => {
    it('mmsim run', () => {
      const r = cli('run', f('name-throws.yaml'), '--json');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `mmsim: ${f('name-throws.yaml')}: scenario field "system.policies[0]": plugin "./name-throws.mjs": reading the plugin's name threw: no name today\n  at ${f('name-throws.yaml')}:4:14\n`,
      );
    });

    it('mmsim check --policy', () => {
      const r = cli('check', '-k', 'linux-6.18', '--policy', `./${f('name-throws.mjs')}`, '--runs', '1', '--json');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `mmsim check: --policy ./${f('name-throws.mjs')}: reading the plugin's name threw: no name today\n`,
      );
    }, 120_000);
  },
);
