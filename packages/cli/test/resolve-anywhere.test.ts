import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_DIR, resolvePackage, searchDirs } from '../src/search.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../dist/bin.js');
const PACKAGES = path.resolve(here, '../..');

// outside the repository: nothing under it (or above it) has node_modules/@mmsim
const tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'mmsim-resolve-')));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function scenario(name: string, system: string): string {
  const file = path.join(tmp, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'system:',
      system,
      'steps:',
      '  - { op: spawn, pid: p, cpu: 0 }',
      '  - { op: mmap, pid: p, name: heap, size: 2MiB }',
      '  - { op: touch, pid: p, region: heap, access: write }',
      '  - { op: fork, pid: p, child: c }',
      '  - { op: touch, pid: c, region: heap, size: 4KiB, access: write }',
      '',
    ].join('\n'),
  );
  return file;
}

/** the built CLI, run from the temp directory */
function mmsimBin(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('first-party packages resolve from a scenario outside the repository', () => {
  it('policies: ["@mmsim/policy-cowpte"] in a temp dir loads the policy: it shares the PTE table at fork', () => {
    const file = scenario('cowpte', '  kernel: linux-6.18\n  policies: ["@mmsim/policy-cowpte"]');
    const r = mmsimBin('run', file, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.system.policies).toContain('policy-cowpte');
    // the child's write breaks the one shared table: the policy took effect
    expect(doc.total.counters.cow_pte_share).toBe(1);
    expect(doc.total.counters.cow_pte_break).toBe(1);
  });

  it('the same scenario without the policy shares nothing (the counters above are the policy)', () => {
    const file = scenario('plain', '  kernel: linux-6.18');
    const r = mmsimBin('run', file, '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.system.policies).not.toContain('policy-cowpte');
    expect(doc.total.counters.cow_pte_share).toBeUndefined();
  });

  it('hardware: "@mmsim/hw-x86" by package name resolves from the CLI too', () => {
    const file = scenario('hw', '  hardware: "@mmsim/hw-x86"');
    const r = mmsimBin('run', file, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).system.hardware).toBe('x86');
  });

  it('an unknown @mmsim/nope: exit 2, naming the specifier, the field and every directory searched', () => {
    const file = scenario('nope', '  policies: ["@mmsim/nope"]');
    const r = mmsimBin('run', file);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(
      `mmsim: ${file}: scenario field "system.policies[0]": unknown plugin: cannot find package "@mmsim/nope" (searched ${tmp} (node_modules from there up), ${path.join(PACKAGES, 'cli')} (the mmsim CLI's dependencies), ${PACKAGES} (@mmsim packages next to the CLI); is it installed?)`,
    );
    expect(r.stderr).toContain(`${file}:3:`);
  });

  it('an unknown non-@mmsim hardware package lists the two directories it was looked for from', () => {
    const file = scenario('nohw', '  hardware: no-such-hardware-pkg');
    const r = mmsimBin('run', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `scenario field "system.hardware": unknown hardware "no-such-hardware-pkg" (built in: flat, x86, arm64; or a package name or ./path exporting createHardware): cannot find package "no-such-hardware-pkg" (searched ${tmp} (node_modules from there up), ${path.join(PACKAGES, 'cli')} (the mmsim CLI's dependencies); is it installed?)`,
    );
  });
});

describe('search order (search.ts)', () => {
  const requireFrom = (spec: string, from: string): string | undefined => {
    try {
      return createRequire(from).resolve(spec);
    } catch (e) {
      if ((e as { code?: string }).code === 'MODULE_NOT_FOUND') return undefined;
      throw e;
    }
  };
  // a fake workspace: <root>/cli next to <root>/policy-extra (not a dependency of cli)
  const root = path.join(tmp, 'ws', 'packages');
  const writePkg = (dir: string, pkg: object, index?: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
    if (index !== undefined) writeFileSync(path.join(dir, 'index.js'), index);
  };

  it('the CLI directory is the package root (src/.. or dist/..)', () => {
    expect(CLI_DIR).toBe(path.join(PACKAGES, 'cli'));
  });

  it('an @mmsim package next to the CLI that is not its dependency resolves through self-reference', () => {
    writePkg(path.join(root, 'cli'), { name: '@mmsim/cli' });
    writePkg(path.join(root, 'policy-extra'), { name: '@mmsim/policy-extra', exports: './index.js' }, '');
    const elsewhere = path.join(tmp, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    expect(resolvePackage('@mmsim/policy-extra', elsewhere, requireFrom, path.join(root, 'cli'))).toBe(
      path.join(root, 'policy-extra', 'index.js'),
    );
  });

  it('a sibling directory holding another package is not looked in; other scopes get no sibling step', () => {
    writePkg(path.join(root, 'impostor'), { name: 'something-else', exports: './index.js' }, '');
    const dirs = searchDirs('@mmsim/impostor', tmp, path.join(root, 'cli'));
    expect(dirs.map((d) => [d.dir, !!d.skip])).toEqual([
      [tmp, false],
      [path.join(root, 'cli'), false],
      [root, true],
    ]);
    expect(() => resolvePackage('@mmsim/impostor', tmp, requireFrom, path.join(root, 'cli'))).toThrow(
      `cannot find package "@mmsim/impostor" (searched ${tmp} (node_modules from there up), ${path.join(root, 'cli')} (the mmsim CLI's dependencies), ${root} (@mmsim packages next to the CLI); is it installed?)`,
    );
    expect(searchDirs('left-pad', tmp, path.join(root, 'cli')).map((d) => d.dir)).toEqual([
      tmp,
      path.join(root, 'cli'),
    ]);
  });

  it('the scenario directory wins over the CLI', () => {
    writePkg(
      path.join(tmp, 'local', 'node_modules', '@mmsim', 'policy-cowpte'),
      {
        name: '@mmsim/policy-cowpte',
        main: 'index.js',
      },
      'module.exports = {};',
    );
    expect(resolvePackage('@mmsim/policy-cowpte', path.join(tmp, 'local'), requireFrom)).toBe(
      path.join(tmp, 'local', 'node_modules', '@mmsim', 'policy-cowpte', 'index.js'),
    );
    // (dist/index.js, or src/index.ts under the test runner's source condition)
    const fromCli = resolvePackage('@mmsim/policy-cowpte', tmp, requireFrom);
    expect(path.dirname(path.dirname(fromCli))).toBe(path.join(PACKAGES, 'policy-cowpte'));
  });
});
