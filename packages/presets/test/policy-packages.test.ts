import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cowpte from '@mmsim/policy-cowpte';
import largeFolio from '@mmsim/policy-large-folio';
import refcount from '@mmsim/policy-refcount';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const pkg = (dir: string) => JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8'));

describe('first-party policy packages are discoverable', () => {
  it.each([
    ['packages/policy-refcount', refcount()],
    ['packages/policy-large-folio', largeFolio()],
    ['packages/policy-cowpte', cowpte()],
  ])('%s: keyword "mmsim-policy", and package.json mmsim.api is the plugin’s api', (dir, plugin) => {
    const p = pkg(dir);
    expect(p.keywords).toContain('mmsim-policy');
    expect(p.mmsim.api).toBe((plugin as { api: string }).api);
  });
});
