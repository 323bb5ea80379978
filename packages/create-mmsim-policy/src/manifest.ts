/**
 * The scaffold's package.json: a publishable ESM package that `mmsim list` finds (the
 * `mmsim-policy` keyword, `mmsim.api`; packages/cli/src/discover.ts) and that peer-depends on
 * @mmsim/core in the policy API range.
 */
import type { PackageName } from './name.js';
import type { Pinned } from './versions.js';

export const POLICY_KEYWORD = 'mmsim-policy';

export interface ManifestOptions {
  name: PackageName;
  hooks: readonly string[];
  /** the policy API range, e.g. `^1.0.0` */
  api: string;
  versions: Record<Pinned, string>;
  /** the kernel preset the scaffold's test and check script use */
  kernel: string;
}

export function policyManifest(o: ManifestOptions): Record<string, unknown> {
  const v = o.versions;
  return {
    name: o.name.full,
    version: '0.1.0',
    description: `An mmsim policy plugin (policy API ${o.api}) tapping ${o.hooks.join(', ')}.`,
    keywords: [POLICY_KEYWORD, 'mmsim'],
    mmsim: { api: o.api },
    license: 'MIT',
    type: 'module',
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    main: './dist/index.js',
    types: './dist/index.d.ts',
    files: ['dist', 'README.md'],
    ...(o.name.scope !== null ? { publishConfig: { access: 'public' } } : {}),
    sideEffects: false,
    engines: { node: '>=20' },
    scripts: {
      build: 'tsc -p tsconfig.build.json',
      typecheck: 'tsc -p tsconfig.json',
      test: 'vitest run',
      check: `mmsim check --policy ./dist/index.js --kernel ${o.kernel}`,
      changeset: 'changeset',
      'version-packages': 'changeset version',
      release: 'npm run build && changeset publish',
      prepublishOnly: 'npm run build',
    },
    peerDependencies: { '@mmsim/core': o.api },
    devDependencies: {
      '@changesets/cli': v['@changesets/cli'],
      '@mmsim/check': v['@mmsim/check'],
      '@mmsim/cli': v['@mmsim/cli'],
      '@mmsim/core': v['@mmsim/core'],
      typescript: v.typescript,
      vitest: v.vitest,
    },
  };
}
