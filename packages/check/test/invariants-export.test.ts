/**
 * `@mmsim/check/invariants`: the invariants plugin by package name, from the built package
 * (packages/check/dist, as installed: node_modules/@mmsim/check) and in a scenario's
 * `system.policies` run by the real CLI (packages/cli/dist/bin.js).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const PKG = path.resolve(here, '..');
const BIN = path.resolve(here, '../../cli/dist/bin.js');
const built = existsSync(path.join(PKG, 'dist', 'plugins', 'invariants.js'));

/** A project with @mmsim/check installed (a link to this package, as pnpm does). */
function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-inv-export-'));
  mkdirSync(path.join(dir, 'node_modules', '@mmsim'), { recursive: true });
  symlinkSync(PKG, path.join(dir, 'node_modules', '@mmsim', 'check'), 'dir');
  writeFileSync(path.join(dir, 'package.json'), '{ "name": "researcher", "type": "module", "private": true }\n');
  return dir;
}

describe.skipIf(!built)('@mmsim/check/invariants', () => {
  it('imports from the built package (the default condition: dist)', () => {
    const dir = project();
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import('@mmsim/check/invariants');
         const p = m.default();
         console.log(JSON.stringify({ url: import.meta.resolve('@mmsim/check/invariants'), name: p.name, same: m.invariantsPlugin === m.default, error: typeof m.InvariantViolationError }));`,
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.url).toMatch(/\/check\/dist\/plugins\/invariants\.js$/);
    expect(out).toMatchObject({ name: 'check-invariants', same: true, error: 'function' });
  });

  it.skipIf(!existsSync(BIN))('a scenario names it in system.policies (mmsim run lists it, exit 0)', () => {
    const dir = project();
    const file = path.join(dir, 'with-invariants.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'with-invariants',
        system: { kernel: 'linux-6.18', policies: ['@mmsim/check/invariants'] },
        steps: [
          { op: 'spawn', pid: 'a', cpu: 0 },
          { op: 'mmap', pid: 'a', name: 'r', size: '16KiB' },
          { op: 'touch', pid: 'a', region: 'r', access: 'write' },
          { op: 'fork', pid: 'a', child: 'b' },
          { op: 'touch', pid: 'b', region: 'r', access: 'write' },
          { op: 'exit', pid: 'b' },
          { op: 'spawn', pid: 'c', cpu: 1 },
        ],
      }),
    );
    const r = spawnSync(process.execPath, [BIN, 'run', file, '--json'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.system.policies).toContain('check-invariants');
    expect(doc.checks.failed).toBe(0);
    expect(doc.total.counters.cow_copy).toBe(4);
  });
});
