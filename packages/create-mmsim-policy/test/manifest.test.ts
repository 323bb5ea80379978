import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { POLICY_API_VERSION } from '@mmsim/core';
import { policyManifest } from '../src/manifest.js';
import { parsePackageName, type PackageName } from '../src/name.js';
import { apiRange, PACKAGE_DIR, pin, pinnedVersions } from '../src/versions.js';

const root = path.resolve(PACKAGE_DIR, '../..');
const json = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
const versionOf = (dir: string) => json(path.join(root, 'packages', dir, 'package.json')).version as string;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'create-mmsim-policy-manifest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the versions a scaffold pins', () => {
  it("records the workspace's tool versions in its own package.json", () => {
    const own = json(path.join(PACKAGE_DIR, 'package.json'));
    const ws = json(path.join(root, 'package.json'));
    for (const name of ['vitest', 'typescript', '@changesets/cli']) {
      expect([name, own.devDependencies[name]]).toEqual([name, ws.devDependencies[name]]);
    }
  });

  it('reads them from its package.json; workspace: ones from the workspace packages', () => {
    const ws = json(path.join(root, 'package.json')).devDependencies;
    expect(pinnedVersions()).toEqual({
      '@mmsim/core': versionOf('core'),
      '@mmsim/check': versionOf('check'),
      '@mmsim/cli': versionOf('cli'),
      '@changesets/cli': ws['@changesets/cli'],
      typescript: ws.typescript,
      vitest: ws.vitest,
    });
  });

  it('as published (concrete specs): pins ^/~ ranges to their version, keeps anything else', () => {
    const dir = path.join(tmp, 'published');
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({
        dependencies: { '@mmsim/core': '^1.2.0', commander: '14.0.3' },
        devDependencies: {
          '@mmsim/check': '1.2.0',
          '@mmsim/cli': '~1.3.1',
          '@changesets/cli': '2.31.1',
          typescript: '5.9.3',
          vitest: '>=4.1.0 <5',
        },
      }),
    );
    expect(pinnedVersions(dir)).toEqual({
      '@mmsim/core': '1.2.0',
      '@mmsim/check': '1.2.0',
      '@mmsim/cli': '1.3.1',
      '@changesets/cli': '2.31.1',
      typescript: '5.9.3',
      vitest: '>=4.1.0 <5',
    });
  });

  it('a package missing from its package.json is an error naming it', () => {
    const dir = path.join(tmp, 'missing');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ dependencies: { '@mmsim/core': '^1.0.0' } }));
    expect(() => pinnedVersions(dir)).toThrow(`${path.join(dir, 'package.json')} records no version of @mmsim/check`);
  });

  it('pin()', () => {
    expect(pin('^1.2.3')).toBe('1.2.3');
    expect(pin('~0.1.0-rc.1')).toBe('0.1.0-rc.1');
    expect(pin('1.x')).toBe('1.x');
  });

  it("the API range is ^MAJOR.0.0 of core's POLICY_API_VERSION", () => {
    expect(apiRange('1.4.2')).toBe('^1.0.0');
    expect(apiRange('2.0.0')).toBe('^2.0.0');
    expect(apiRange()).toBe(`^${POLICY_API_VERSION.split('.')[0]}.0.0`);
  });
});

describe('policyManifest', () => {
  const versions = {
    '@mmsim/core': '1.0.0',
    '@mmsim/check': '1.0.1',
    '@mmsim/cli': '1.1.0',
    '@changesets/cli': '2.31.1',
    typescript: '5.9.3',
    vitest: '4.1.12',
  };
  const name = (n: string) => parsePackageName(n) as PackageName;

  it('is found by `mmsim list` and peer-depends on core in the API range', () => {
    const m = policyManifest({
      name: name('my-policy'),
      hooks: ['fault.wpReuse'],
      api: '^1.0.0',
      versions,
      kernel: 'k',
    });
    expect(m).toEqual({
      name: 'my-policy',
      version: '0.1.0',
      description: 'An mmsim policy plugin (policy API ^1.0.0) tapping fault.wpReuse.',
      keywords: ['mmsim-policy', 'mmsim'],
      mmsim: { api: '^1.0.0' },
      license: 'MIT',
      type: 'module',
      exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
      main: './dist/index.js',
      types: './dist/index.d.ts',
      files: ['dist', 'README.md'],
      sideEffects: false,
      engines: { node: '>=20' },
      scripts: {
        build: 'tsc -p tsconfig.build.json',
        typecheck: 'tsc -p tsconfig.json',
        test: 'vitest run',
        check: 'mmsim check --policy ./dist/index.js --kernel k',
        changeset: 'changeset',
        'version-packages': 'changeset version',
        release: 'npm run build && changeset publish',
        prepublishOnly: 'npm run build',
      },
      peerDependencies: { '@mmsim/core': '^1.0.0' },
      devDependencies: {
        '@changesets/cli': '2.31.1',
        '@mmsim/check': '1.0.1',
        '@mmsim/cli': '1.1.0',
        '@mmsim/core': '1.0.0',
        typescript: '5.9.3',
        vitest: '4.1.12',
      },
    });
  });

  it('a scoped package is published public', () => {
    const m = policyManifest({
      name: name('@me/p'),
      hooks: ['fork.page', 'fork.done'],
      api: '^1.0.0',
      versions,
      kernel: 'k',
    });
    expect(m.name).toBe('@me/p');
    expect(m.publishConfig).toEqual({ access: 'public' });
    expect(m.description).toBe('An mmsim policy plugin (policy API ^1.0.0) tapping fork.page, fork.done.');
  });
});
