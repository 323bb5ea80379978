// tools/realkernel/KHUGEPAGED.md is what its generator makes from the committed real-kernel
// results and the current model (`--sim-only --check`): a change to mmsim that moves a cell
// must regenerate it (node tools/realkernel/khugepaged.mjs --sim-only).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const built = existsSync(path.join(root, 'packages/cli/dist/index.js'));

describe.skipIf(!built)('tools/realkernel/KHUGEPAGED.md', () => {
  it('regenerates byte for byte from khugepaged-results.json and the built model', () => {
    const r = spawnSync(process.execPath, ['tools/realkernel/khugepaged.mjs', '--sim-only', '--check'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.stderr + r.stdout).toContain('KHUGEPAGED.md is up to date');
    expect(r.status).toBe(0);
  });
});
