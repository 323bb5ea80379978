/**
 * `mmsim check` as a function, and the real `mmsim run` replaying what it writes (when the CLI
 * package is present in this checkout: the CLI registers checkCommand, see README).
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkCommand, checkComposition, parseCheckArgs } from '../src/index.js';
import { captureIO } from './helpers.js';
import leakyPolicy from './fixtures/leaky-policy.js';

const io = captureIO;

describe('checkCommand', () => {
  it('parses the flags', () => {
    expect(
      parseCheckArgs([
        '--kernel',
        'linux-6.18',
        '-k',
        'linux-6.8',
        '--policy=no-flush-cow',
        '--runs',
        '10',
        '--seed',
        '3',
        '--out',
        'x',
        '--large-folios',
        'never',
      ]),
    ).toEqual({
      kernel: ['linux-6.18', 'linux-6.8'],
      policy: ['no-flush-cow'],
      runs: 10,
      seed: 3,
      out: 'x',
      largeFolios: 'never',
    });
  });

  it('--lru-gen: the multi-gen LRU; without --kernel the v6.1+ presets; an older one is exit 2', async () => {
    const t = io();
    expect(await checkCommand(['--kernel', 'linux-6.18', '--lru-gen', '--runs', '20'], t.io)).toBe(0);
    expect(t.out.join('')).toMatch(/linux-6\.18 on strict-tlb: 20 runs, \d+ steps, 0 violation/);
    const all = io();
    expect(await checkCommand(['--lru-gen', '--runs', '2', '--json'], all.io)).toBe(0);
    const kernels = JSON.parse(all.out.join('')).map((r: { kernel: string }) => r.kernel);
    expect(kernels).toContain('linux-6.8');
    expect(kernels).not.toContain('linux-5.19');
    const old = io();
    expect(await checkCommand(['--kernel', 'linux-5.19', '--lru-gen'], old.io)).toBe(2);
    expect(old.err.join('')).toContain(
      'mmsim check: --lru-gen: kernel preset "linux-5.19" (v5.19) has no multi-gen LRU',
    );
  });

  it('exits 0 on a sound composition and prints the figures', async () => {
    const t = io();
    expect(await checkCommand(['--kernel', 'linux-6.18', '--runs', '50'], t.io)).toBe(0);
    expect(t.out.join('')).toMatch(/linux-6\.18 on strict-tlb: 50 runs, \d+ steps, 0 violation/);
  });

  it('exits 1 and writes the shrunk scenario when it finds a bug', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-check-'));
    const t = io();
    expect(await checkCommand(['--kernel', 'linux-5.8', '--runs', '300', '--out', dir], t.io)).toBe(1);
    expect(t.out.join('')).toMatch(/replay: mmsim run .*\.json/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
  });

  it('exits 2 on bad usage, with the usage line', async () => {
    const t = io();
    expect(await checkCommand(['--kernel', 'linux-0.01'], t.io)).toBe(2);
    expect(await checkCommand(['--frobnicate'], t.io)).toBe(2);
    expect(await checkCommand(['--hardware', 'x86'], t.io)).toBe(2); // no loader given
    expect(t.err.join('')).toMatch(/usage: mmsim check/);
  });

  it('--pressure always|never|random; anything else is bad usage', async () => {
    expect(parseCheckArgs(['--pressure', 'random'])).toEqual({ pressure: 'random' });
    const t = io();
    expect(await checkCommand(['--pressure', 'sometimes'], t.io)).toBe(2);
    expect(t.err.join('')).toContain('--pressure: always, never or random');
    const u = io();
    expect(await checkCommand(['--kernel', 'linux-6.18', '--runs', '40', '--pressure', 'always', '--json'], u.io)).toBe(
      0,
    );
    const doc = JSON.parse(u.out.join(''));
    const r = Array.isArray(doc) ? doc[0] : (doc.results?.[0] ?? doc);
    expect(r.counters.pgscan_kswapd).toBeGreaterThan(0);
  });
});

const cliSrc = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../cli/src/cli.ts');

describe.skipIf(!existsSync(cliSrc))('the real `mmsim run` replays a found scenario and fails', () => {
  it('exit code 1 (a failed expect) for a shrunk linux-5.8 pin bug', async (ctx) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-check-'));
    const t = io();
    expect(await checkCommand(['--kernel', 'linux-5.8', '--runs', '300', '--out', dir], t.io)).toBe(1);
    const file = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.json'))!);
    let runCli: (argv: string[], io: unknown) => Promise<number>;
    try {
      ({ runCli } = (await import(/* @vite-ignore */ cliSrc)) as { runCli: typeof runCli });
    } catch (e) {
      ctx.skip(`the CLI does not load yet (it is being written concurrently): ${(e as Error).message}`);
      return;
    }
    const r = io();
    const code = await runCli(['run', file, '--json'], { ...r.io, env: {} });
    expect(code, r.err.join('')).toBe(1);
    expect(JSON.parse(r.out.join('')).checks.failed).toBeGreaterThan(0);
  });

  it('exit code 1 (a failed check: the invariants plugin) for an invariant violation', async (ctx) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-check-'));
    const leaky = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'leaky-policy.ts');
    const c = checkComposition({
      kernel: 'linux-6.18',
      policies: [{ ref: leaky, create: () => leakyPolicy() }],
      runs: 200,
      seed: 1,
      maxSteps: 30,
      outDir: dir,
    });
    const file = c.violations[0]!.file!;
    let runCli: (argv: string[], io: unknown) => Promise<number>;
    try {
      ({ runCli } = (await import(/* @vite-ignore */ cliSrc)) as { runCli: typeof runCli });
    } catch (e) {
      ctx.skip(`the CLI does not load yet: ${(e as Error).message}`);
      return;
    }
    const r = io();
    expect(await runCli(['run', file], { ...r.io, env: {} })).toBe(1);
    expect(r.err.join('')).toMatch(/^mmsim: check failed: .*: steps\[\d+\]: invariant violated .*refcount/);
  });
});
