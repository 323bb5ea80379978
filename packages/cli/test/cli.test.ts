import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { fixture, mmsim } from './helpers.js';

describe('mmsim commands and usage errors', () => {
  it('list shows presets, hardware and ops', async () => {
    const r = await mmsim('list');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('linux-6.18 *');
    expect(r.stdout).toContain('linux-5.8');
    expect(r.stdout).toMatch(/^ {2}flat \*/m);
    expect(r.stdout).toMatch(/^ {2}x86\b/m);
    expect(r.stdout).toMatch(/^ {2}arm64\b/m);
    expect(r.stdout).toContain('uffdWriteProtect');
    const j = await mmsim('list', '--json');
    const l = JSON.parse(j.stdout);
    expect(l.presets.map((p: { name: string }) => p.name)).toContain('linux-6.18');
    expect(l.hardware.find((h: { name: string }) => h.name === 'flat')).toMatchObject({
      available: true,
      default: true,
    });
    expect(l.ops).toContain('repeat');
  });

  it('--help and --version exit 0 on stdout', async () => {
    const h = await mmsim('--help');
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Usage: mmsim');
    const rh = await mmsim('run', '--help');
    expect(rh.stdout).toContain('--kernel <preset>');
    expect(rh.stdout).toContain('Exit codes');
    const v = await mmsim('--version');
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('an unknown command or option is a usage error (exit 2, stderr only)', async () => {
    for (const args of [['frobnicate'], ['run', fixture('touch16.json'), '--jsno'], ['run'], []]) {
      const r = await mmsim(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.length).toBeGreaterThan(0);
    }
    expect((await mmsim('frobnicate')).stderr).toContain("mmsim: unknown command 'frobnicate'");
    expect((await mmsim('run', 'x.yaml', '--jsno')).stderr).toContain("unknown option '--jsno'");
  });

  it('internal errors are one line (exit 3); MMSIM_DEBUG=1 adds the stack', async () => {
    let err = '';
    const io = {
      stdout: {
        write: () => {
          throw new Error('stdout exploded');
        },
      },
      stderr: { write: (s: string) => (err += s) },
      env: {},
    };
    expect(await runCli(['run', fixture('touch16.json')], io)).toBe(3);
    expect(err).toBe('mmsim: internal error: stdout exploded (set MMSIM_DEBUG=1 for the stack)\n');
    err = '';
    expect(await runCli(['run', fixture('touch16.json')], { ...io, env: { MMSIM_DEBUG: '1' } })).toBe(3);
    expect(err).toMatch(/^mmsim: internal error: stdout exploded\nError: stdout exploded\n\s+at /);
  });
});
