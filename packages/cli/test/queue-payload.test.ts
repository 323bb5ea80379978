/**
 * What a queue job carries (queue/payload.ts) and where the worker finds it (queue/worker.ts):
 * a local plugin's own relative imports go with it; absolute request paths point into the
 * job's tree. No Redis needed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSet, relativeImports } from '../src/queue/payload.js';
import { inTree } from '../src/queue/worker.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-payload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const put = (f: string, text: string) => {
  const at = path.join(dir, f);
  mkdirSync(path.dirname(at), { recursive: true });
  writeFileSync(at, text);
  return at;
};

describe('relativeImports()', () => {
  it('resolves ./x.js to x.ts, adds extensions, finds index files, skips packages and dynamic names', () => {
    put('a.ts', '');
    put('b.mjs', '');
    put('lib/index.ts', '');
    put('c.json', '{}');
    const src = [
      "import { a } from './a.js';",
      "import b from './b.mjs'",
      "export * from './lib';",
      "const c = require('./c.json');",
      "await import('./a.js');",
      "import type { MmPlugin } from '@mmsim/core';",
      "import './missing.js';",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
      'await import(`./${name}.js`);',
    ].join('\n');
    expect(relativeImports(src, path.join(dir, 'p.ts'))).toEqual([
      path.join(dir, 'a.ts'),
      path.join(dir, 'b.mjs'),
      path.join(dir, 'lib/index.ts'),
      path.join(dir, 'c.json'),
      path.join(dir, 'a.ts'),
    ]);
  });

  it('a FileSet follows imports transitively, each file once, cycles included', () => {
    const p = put('cyc/p.ts', "import { q } from './q.js';");
    put('cyc/q.ts', "import { r } from './sub/r.js';");
    put('cyc/sub/r.ts', "import { q } from '../q.js';");
    const set = new FileSet();
    set.addReference(p, [dir]);
    expect([...set.contents.keys()]).toEqual([p, path.join(dir, 'cyc/q.ts'), path.join(dir, 'cyc/sub/r.ts')]);
  });
});

describe('inTree()', () => {
  it('moves absolute paths the job shipped under the root; relative ones, names and missing files stay', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'mmsim-root-'));
    try {
      for (const f of ['/src/s.yaml', '/src/p.ts', '/src/hw.mjs']) {
        mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
        writeFileSync(path.join(root, f), '');
      }
      expect(
        inTree(
          {
            file: '/src/s.yaml',
            hardware: '/src/hw.mjs',
            policies: ['/src/p.ts={"x":1}', 'file:/src/p.ts', './rel.ts', '@scope/pkg', '/not/shipped.ts'],
            kernel: 'linux-6.18',
          },
          root,
        ),
      ).toEqual({
        file: `${root}/src/s.yaml`,
        hardware: `${root}/src/hw.mjs`,
        policies: [`${root}/src/p.ts={"x":1}`, `file:${root}/src/p.ts`, './rel.ts', '@scope/pkg', '/not/shipped.ts'],
        kernel: 'linux-6.18',
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
