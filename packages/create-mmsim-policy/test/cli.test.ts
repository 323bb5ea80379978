import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOOK_SPECS } from '@mmsim/core';
import { createPolicy } from '../src/cli.js';
import { render } from '../src/scaffold.js';
import { pinnedVersions } from '../src/versions.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'create-mmsim-policy-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

async function run(argv: string[]) {
  const cwd = path.join(tmp, `case-${n++}`);
  mkdirSync(cwd);
  let stdout = '';
  let stderr = '';
  const code = await createPolicy(argv, {
    cwd,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr, cwd };
}

function files(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]))
    .sort();
}

const read = (...p: string[]) => readFileSync(path.join(...p), 'utf8');

describe('create-mmsim-policy NAME', () => {
  it('writes a policy package into ./NAME tapping fault.wpReuse', async () => {
    const r = await run(['my-policy']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      'created my-policy in my-policy (10 files), tapping fault.wpReuse\n\n' +
        '  cd my-policy\n  npm install\n  npm run build && npm test && npm run check\n',
    );
    const dir = path.join(r.cwd, 'my-policy');
    expect(files(dir)).toEqual([
      '.changeset/README.md',
      '.changeset/config.json',
      '.gitignore',
      'README.md',
      'package.json',
      'src/index.ts',
      'test/policy.test.ts',
      'test/scenario.yaml',
      'tsconfig.build.json',
      'tsconfig.json',
    ]);
    for (const f of files(dir)) expect([f, read(dir, f).includes('{{')]).toEqual([f, false]);
    const pkg = JSON.parse(read(dir, 'package.json'));
    expect(pkg.name).toBe('my-policy');
    expect(pkg.devDependencies).toEqual(pinnedVersions());
    const src = read(dir, 'src/index.ts');
    expect(src).toContain('export default function myPolicy(): MmPlugin {');
    expect(src).toContain("    name: 'my-policy',\n    api: '^1.0.0',\n");
    expect(src).toContain("      const faultWpReuse = stats.define('my_policy_fault_wp_reuse');\n");
    expect(src.match(/\.tap\(/g)).toHaveLength(1);
    const test = read(dir, 'test/policy.test.ts');
    expect(test).toContain("    expect(total['my_policy_fault_wp_reuse'] ?? 0).toBe(18); // fault.wpReuse\n");
    expect(test).toContain("assertPolicySound(() => myPolicy(), { kernel: 'linux-6.18', ref: 'my-policy' })");
    expect(read(dir, 'test/scenario.yaml')).toContain('name: "my-policy smoke"\nsystem:\n  kernel: linux-6.18\n');
    expect(read(dir, 'README.md')).toContain(
      "- `fault.wpReuse` (bail: 'reuse', 'copy', ctx.reuseRange(start, nr) or undefined) — do_wp_page(): reuse the write-protected anonymous page in place, or copy it; counter `my_policy_fault_wp_reuse`",
    );
    expect(JSON.parse(read(dir, '.changeset/config.json')).access).toBe('public');
  });

  it('--hook (repeatable) and --dir; a scoped name', async () => {
    const r = await run(['@me/x.y', '--hook', 'fork.page', '--hook', 'fault.cowOrder', '--dir', 'out/p']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('created @me/x.y in out/p (10 files), tapping fork.page, fault.cowOrder');
    const dir = path.join(r.cwd, 'out/p');
    const src = read(dir, 'src/index.ts');
    expect(src).toContain(
      ' * @me/x.y: an mmsim policy plugin (policy API ^1.0.0). It taps fork.page and fault.cowOrder.\n',
    );
    expect(src).toContain('export default function xY(): MmPlugin {');
    expect([...src.matchAll(/hooks\.(\w+\.\w+)\.tap\('x\.y'/g)].map((m) => m[1])).toEqual([
      'fork.page',
      'fault.cowOrder',
    ]);
    const test = read(dir, 'test/policy.test.ts');
    expect(test).toContain("    expect(total['x_y_fork_page'] ?? 0).toBe(16); // fork.page\n");
    expect(test).toContain("    expect(total['x_y_fault_cow_order'] ?? 0).toBe(16); // fault.cowOrder\n");
  });

  it('an existing empty directory is fine', async () => {
    const cwd = path.join(tmp, 'empty-target');
    mkdirSync(path.join(cwd, 'p'), { recursive: true });
    const code = await createPolicy(['p'], { cwd, stdout: { write: () => 0 }, stderr: { write: () => 0 } });
    expect(code).toBe(0);
    expect(files(path.join(cwd, 'p'))).toHaveLength(10);
  });
});

describe('bad input: exit 2, nothing written', () => {
  it('an invalid package name', async () => {
    const r = await run(['My-Policy']);
    expect(r).toMatchObject({
      code: 2,
      stdout: '',
      stderr:
        'create-mmsim-policy: invalid package name: the name "My-Policy" has uppercase letters (new packages are lowercase)\n',
    });
    expect(readdirSync(r.cwd)).toEqual([]);
  });

  it('an unknown hook, listing the known ones', async () => {
    const r = await run(['p', '--hook', 'fault.wpReuse', '--hook', 'fault.wpreuse']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `create-mmsim-policy: unknown hook "fault.wpreuse" (known: ${Object.keys(HOOK_SPECS).join(', ')})\n`,
    );
    expect(readdirSync(r.cwd)).toEqual([]);
  });

  it('a target that exists and is not empty', async () => {
    const cwd = path.join(tmp, 'non-empty');
    mkdirSync(path.join(cwd, 'p'), { recursive: true });
    writeFileSync(path.join(cwd, 'p', 'keep.txt'), 'mine');
    let stderr = '';
    const code = await createPolicy(['@me/q', '--dir', 'p'], {
      cwd,
      stdout: { write: () => 0 },
      stderr: { write: (s: string) => (stderr += s) },
    });
    expect(code).toBe(2);
    expect(stderr).toBe('create-mmsim-policy: --dir p: p exists and is not empty\n');
    expect(readdirSync(path.join(cwd, 'p'))).toEqual(['keep.txt']);
  });

  it('a target that is a file', async () => {
    const cwd = path.join(tmp, 'a-file');
    mkdirSync(cwd);
    writeFileSync(path.join(cwd, 'p'), '');
    let stderr = '';
    const code = await createPolicy(['p'], {
      cwd,
      stdout: { write: () => 0 },
      stderr: { write: (s: string) => (stderr += s) },
    });
    expect([code, stderr]).toEqual([2, 'create-mmsim-policy: --dir p: p exists and is not a directory\n']);
  });

  it('no NAME, or an unknown option', async () => {
    expect(await run([])).toMatchObject({ code: 2, stderr: "create-mmsim-policy: missing required argument 'name'\n" });
    const r = await run(['p', '--hooks', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("create-mmsim-policy: unknown option '--hooks'");
  });

  it('--help is exit 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: create-mmsim-policy [options] <name>');
    expect(r.stdout).toContain('Exit codes: 0 written, 2 bad input, 3 internal error.');
  });
});

describe('render', () => {
  it('fills placeholders and refuses one without a value', () => {
    expect(render('a {{X}} b {{X}}', { X: '1' })).toBe('a 1 b 1');
    expect(() => render('{{NOPE}}', {}, 'src/index.ts')).toThrow('src/index.ts: no value for {{NOPE}}');
  });
});
