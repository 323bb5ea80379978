/**
 * Issue 16, findings a policy author can act on: a finding of a path policy replays from any
 * working directory with the policy's options, a replayed broken invariant is a failed check
 * (exit 1) naming the same invariant, `--policy 'NAME={"opt":1}'` passes options, and a policy
 * that cannot be loaded or applied is bad input naming --policy. Runs the real CLI
 * (packages/cli/dist/bin.js) in a project directory of its own.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatCheckResult } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../../cli/dist/bin.js');
const CLI_DIR = path.resolve(here, '../../cli');
const FIX = (f: string) => path.join(here, 'fixtures', f);

function mmsim(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A researcher's directory with their policy as ./my-policy.ts (the reuse-if fixture). */
function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-findings-'));
  copyFileSync(FIX('reuse-if.ts'), path.join(dir, 'my-policy.ts'));
  return dir;
}

/** `after step 4 (access): page 1 ...` → `[exclusive] page 1 ...`, as the invariants plugin words it. */
const asPluginSays = (v: { kind: string; message: string }) =>
  `[${v.kind}] ${v.message.replace(/^after step \d+ \(\w+\): /, '')}`;

describe.skipIf(!existsSync(BIN))('mmsim check: findings of a path policy are self-contained', () => {
  it('the finding names ./my-policy.ts relative to itself, with its options, and replays from another directory (exit 1)', () => {
    const proj = project();
    const r = mmsim(
      proj,
      'check',
      '-k',
      'linux-6.18',
      '--policy',
      './my-policy.ts={"reuse":true}',
      '--runs',
      '50',
      '--out',
      'failures/',
      '--json',
    );
    expect(r.code, r.stderr).toBe(1);
    const [v] = JSON.parse(r.stdout)[0].violations;
    expect(v.kind).toBe('exclusive');
    const files = readdirSync(path.join(proj, 'failures'));
    expect(files).toHaveLength(1);
    const file = path.join(proj, 'failures', files[0]!);
    expect(v.file).toBe(file);
    const finding = JSON.parse(readFileSync(file, 'utf8'));
    expect(finding.system.policies[0]).toEqual({ name: '../my-policy.ts', options: { reuse: true } });

    for (const cwd of [mkdtempSync(path.join(tmpdir(), 'mmsim-elsewhere-')), path.join(proj, 'failures')]) {
      const replay = mmsim(cwd, 'run', cwd === path.join(proj, 'failures') ? files[0]! : file);
      expect(replay.stderr).not.toContain('no such file');
      expect(replay.code, replay.stderr).toBe(1);
      expect(replay.stderr).toContain(`steps[${v.shrunkSteps - 1}]: invariant violated`);
      expect(replay.stderr).toContain(asPluginSays(v));
    }
  });

  it('the options decide: without {"reuse":true} the same policy passes (exit 0)', () => {
    const r = mmsim(project(), 'check', '-k', 'linux-6.18', '--policy', './my-policy.ts', '--runs', '50', '--json');
    expect(r.code, r.stderr).toBe(0);
    const [res] = JSON.parse(r.stdout);
    expect(res.policies).toEqual(['./my-policy.ts']);
    expect(res.violations).toEqual([]);
  });

  it('options that are not JSON are bad input naming --policy (exit 2, nothing on stdout)', () => {
    const r = mmsim(project(), 'check', '-k', 'linux-6.18', '--policy', './my-policy.ts={"reuse":', '--runs', '5');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^mmsim check: --policy \.\/my-policy\.ts=\{"reuse":: the options are not valid JSON: .+\n$/,
    );
  });
});

describe.skipIf(!existsSync(BIN))('mmsim check: replaying a finding of the always-reuse fixture', () => {
  it('exits 1 (a failed check) and names the same invariant as the finding', () => {
    const proj = mkdtempSync(path.join(tmpdir(), 'mmsim-findings-'));
    const r = mmsim(
      proj,
      'check',
      '-k',
      'linux-6.18',
      '--policy',
      FIX('always-reuse.ts'),
      '--runs',
      '50',
      '--out',
      'f',
      '--json',
    );
    expect(r.code, r.stderr).toBe(1);
    const [v] = JSON.parse(r.stdout)[0].violations;
    expect(v.message).toBe('after step 4 (access): page 1 (folio 1) is PageAnonExclusive but mapped 2 times');
    const replay = mmsim(tmpdir(), 'run', v.file, '--json');
    expect(replay.code, replay.stderr).toBe(1);
    expect(replay.stdout).toBe('');
    expect(replay.stderr.split('\n')[0]).toBe(
      `mmsim: check failed: ${v.file}: steps[4]: invariant violated (after a wp-reuse fault at page 0x7effffff0): [exclusive] page 1 (folio 1) is PageAnonExclusive but mapped 2 times; [exclusive] page 1 (folio 1) is mapped writable while mapped 2 times (mapcount 2)`,
    );
  });
});

describe.skipIf(!existsSync(BIN))('mmsim check: a policy that cannot be loaded is bad input (exit 2), one line', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-badpolicy-'));
  const write = (f: string, text: string) => writeFileSync(path.join(dir, f), text);
  write('throws.ts', "export default function () { throw new Error('boom in the factory'); }\n");
  write('toplevel.ts', "throw new Error('boom at import');\n");
  write(
    'applies.ts',
    "export default () => ({ name: 'a', api: '^1.0.0', apply() { throw new Error('boom in apply'); } });\n",
  );
  write('noapi.ts', "export default () => ({ name: 'b', apply() {} });\n");
  write('nothing.js', 'export const x = 1;\n');
  for (const [file, line] of [
    ['./missing.ts', 'mmsim check: --policy ./missing.ts: no such file: missing.ts'],
    ['./throws.ts', 'mmsim check: --policy ./throws.ts: boom in the factory'],
    ['./toplevel.ts', 'mmsim check: --policy ./toplevel.ts: failed to load toplevel.ts: boom at import'],
    [
      './applies.ts',
      'mmsim check: --policy ./applies.ts: cannot build a linux-6.18 system with it: plugin "a" threw in hook apply: boom in apply',
    ],
    [
      './noapi.ts',
      'mmsim check: --policy ./noapi.ts: cannot build a linux-6.18 system with it: plugin "b" cannot load: it does not say which policy API it was built for. Plugins of mmsim 0.x (apply(system) with system.kernel) must be ported: add `api: "^1.0.0"` and use the PolicyContext (docs/policy-api.md, "Porting from 0.x")',
    ],
    [
      './nothing.js',
      `mmsim check: --policy ./nothing.js: ${path.join(dir, 'nothing.js')} has no default export factory, "plugin" or "plugins" export`,
    ],
    [
      'no-such-package-x',
      `mmsim check: --policy no-such-package-x: cannot find package "no-such-package-x" (searched ${dir} (node_modules from there up), ${CLI_DIR} (the mmsim CLI's dependencies); is it installed?)`,
    ],
  ] as const) {
    it(file, () => {
      const r = mmsim(dir, 'check', '-k', 'linux-6.18', '--policy', file, '--runs', '5');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`${line}\n`);
    });
  }
});

describe.skipIf(!existsSync(BIN))('mmsim check --baseline: the finding on the preset alone', () => {
  it('linux-5.9 (a historical pin bug) with a harmless policy: "also fails without your policy"', () => {
    const r = mmsim(
      here,
      'check',
      '-k',
      'linux-5.9',
      '--policy',
      FIX('reuse-if.ts'),
      '--runs',
      '500',
      '--baseline',
      '--json',
    );
    expect(r.code, r.stderr).toBe(1);
    const [res] = JSON.parse(r.stdout);
    const [v] = res.violations;
    expect(v.kind).toBe('pin');
    expect(v.blame).toEqual(['reuse-if']); // its tap ran (answering nothing): blame alone would mislead
    expect(v.baseline).toEqual({ fails: true, kind: v.kind, message: v.message });
    expect(formatCheckResult(res).split('\n')).toContain(
      `    baseline: also fails without your policy (linux-5.9 alone: [pin] ${v.message})`,
    );
  });

  it('linux-6.18 with the always-reuse fixture: "only with it" (text and --json)', () => {
    const args = ['check', '-k', 'linux-6.18', '--policy', FIX('always-reuse.ts'), '--runs', '50', '--baseline'];
    const text = mmsim(here, ...args);
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout.split('\n')).toContain('    baseline: only with it (linux-6.18 alone passes the same 5 steps)');
    const json = mmsim(here, ...args, '--json');
    expect(json.code).toBe(1);
    const [v] = JSON.parse(json.stdout)[0].violations;
    expect(v.shrunkSteps).toBe(5);
    expect(v.baseline).toEqual({ fails: false });
  });

  it('without --baseline there is no baseline field; --baseline without --policy is bad input (exit 2)', () => {
    const r = mmsim(here, 'check', '-k', 'linux-6.18', '--policy', FIX('always-reuse.ts'), '--runs', '50', '--json');
    expect(JSON.parse(r.stdout)[0].violations[0].baseline).toBeUndefined();
    const bad = mmsim(here, 'check', '-k', 'linux-6.18', '--baseline');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.split('\n')[0]).toBe(
      'mmsim check: --baseline compares a finding with the preset alone: give a --policy',
    );
  });
});
