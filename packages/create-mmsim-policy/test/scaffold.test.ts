/**
 * End to end, as a user would: pack the workspace packages a scaffold needs (`pnpm pack`), run
 * the built generator in a temp dir, point the scaffold's @mmsim devDependencies (and, through
 * `overrides`, their own @mmsim dependencies) at the tarballs, `npm install`, and run the
 * scaffold's build, tests and the installed `mmsim check`. Two scaffolds: the default one (a
 * scoped name, fault.wpReuse) and one tapping every hook of the catalogue (so every generated
 * tap compiles, and src/calls.ts's counts are checked against core by the scaffold's own test).
 * Needs `pnpm build` first and npm's registry for vitest, typescript and the other tools.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOOK_SPECS } from '@mmsim/core';
import { publint } from 'publint';
import { BIN, INSTALL_FLAGS, json, packTarballs, ROOT, run, useTarballs, type Ran } from './workspace.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'create-mmsim-policy-scaffold-'));
const TGZ = path.join(tmp, 'tgz');

const DEFAULT_DIR = path.join(tmp, 'my-policy');
const EVERY_DIR = path.join(tmp, 'every-hook');
let generated: Ran[] = [];
let installed: Ran;

beforeAll(async () => {
  const tarballs = await packTarballs(TGZ);
  generated = [
    await run('node', [BIN, '@scaffold-test/my-policy'], tmp),
    await run('node', [BIN, 'every-hook', ...Object.keys(HOOK_SPECS).flatMap((h) => ['--hook', h])], tmp),
  ];
  if (generated.some((g) => g.code !== 0)) return;
  useTarballs(DEFAULT_DIR, tarballs);
  useTarballs(EVERY_DIR, tarballs);
  installed = await run('npm', ['install', ...INSTALL_FLAGS], DEFAULT_DIR);
  // the two scaffolds install the same packages (checked below): the second shares the first's
  symlinkSync(path.join(DEFAULT_DIR, 'node_modules'), path.join(EVERY_DIR, 'node_modules'), 'dir');
}, 300_000);

// ~300 installed packages: removing them can take a while on a busy machine
afterAll(() => rm(tmp, { recursive: true, force: true }), 120_000);

describe('a scaffold, built and tested like a user would', () => {
  it('the generator writes both scaffolds and npm installs them', () => {
    expect(generated.map((g) => g.code)).toEqual([0, 0]);
    expect(generated[0]!.out.split('\n')[0]).toBe(
      'created @scaffold-test/my-policy in my-policy (10 files), tapping fault.wpReuse',
    );
    const deps = (d: string) => {
      const p = json(path.join(d, 'package.json'));
      return { devDependencies: p.devDependencies, peerDependencies: p.peerDependencies, overrides: p.overrides };
    };
    expect(deps(EVERY_DIR)).toEqual(deps(DEFAULT_DIR));
    expect([installed.code, installed.out]).toEqual([0, expect.stringContaining('added')]);
    expect(json(path.join(DEFAULT_DIR, 'node_modules/@mmsim/core/package.json')).name).toBe('@mmsim/core');
  });

  describe.each([
    ['the default scaffold', DEFAULT_DIR],
    ['the scaffold tapping every hook', EVERY_DIR],
  ])('%s', (_, dir) => {
    it('npm run build compiles it to dist/ (tsc)', async () => {
      const r = await run('npm', ['run', 'build'], dir);
      expect([r.code, r.out]).toEqual([0, expect.any(String)]);
      expect(readdirSync(path.join(dir, 'dist')).sort()).toEqual(['index.d.ts', 'index.js']);
    }, 120_000);

    it('npm test passes: the scenario counters and assertPolicySound', async () => {
      const r = await run('npm', ['test'], dir);
      expect([r.code, r.out]).toEqual([0, expect.stringMatching(/Tests\s+2 passed \(2\)/)]);
    }, 180_000);

    it('the installed mmsim check fuzzes the built policy: no violation', async () => {
      const r = await run(
        path.join(dir, 'node_modules', '.bin', 'mmsim'),
        ['check', '--policy', './dist/index.js', '--kernel', 'linux-6.18'],
        dir,
      );
      expect([r.code, r.out]).toEqual([
        0,
        expect.stringMatching(/^linux-6\.18 on strict-tlb \+ index\.js: 200 runs, \d+ steps, 0 violation\(s\)/),
      ]);
    }, 180_000);

    it('publint finds nothing to fix, and the policy uses the policy API only', async () => {
      const { messages } = await publint({ pkgDir: dir, level: 'warning', strict: true, pack: 'npm' });
      expect(messages).toEqual([]);
      const r = await run(
        'node',
        [path.join(ROOT, 'scripts', 'check-policy-boundary.mjs'), path.join(dir, 'src')],
        ROOT,
      );
      expect([r.code, r.out.trim()]).toEqual([0, 'policy boundary: 0 violation(s)']);
    }, 60_000);
  });

  it('installed beside a scenario: mmsim list finds it, a scenario loads it by package name', async () => {
    // a consumer project with the built default scaffold in its node_modules
    const consumer = path.join(tmp, 'consumer');
    mkdirSync(path.join(consumer, 'node_modules', '@scaffold-test'), { recursive: true });
    symlinkSync(DEFAULT_DIR, path.join(consumer, 'node_modules', '@scaffold-test', 'my-policy'), 'dir');
    const scenario = readFileSync(path.join(DEFAULT_DIR, 'test', 'scenario.yaml'), 'utf8');
    expect(scenario).toContain('    - ../src/index.ts\n');
    writeFileSync(
      path.join(consumer, 'scenario.yaml'),
      scenario.replace('    - ../src/index.ts\n', '    - "@scaffold-test/my-policy"\n'),
    );
    const mmsim = path.join(DEFAULT_DIR, 'node_modules', '.bin', 'mmsim');
    const list = await run(mmsim, ['list', 'policies', '--json'], consumer);
    expect(list.code).toBe(0);
    const found = JSON.parse(list.out).policies.packages.filter((p: { name: string }) =>
      p.name.startsWith('@scaffold'),
    );
    expect(found).toEqual([
      {
        name: '@scaffold-test/my-policy',
        version: '0.1.0',
        description: 'An mmsim policy plugin (policy API ^1.0.0) tapping fault.wpReuse.',
        api: '^1.0.0',
        incompatible: null,
        dir: DEFAULT_DIR,
      },
    ]);
    const r = await run(mmsim, ['run', 'scenario.yaml', '--json'], consumer);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.total.counters.my_policy_fault_wp_reuse).toBe(18);
    expect(doc.phases['child-write'].counters.cow_copy).toBe(16);
  }, 60_000);
});
