import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { traceProblems, type ChromeTrace } from '@mmsim/trace';
import { fixture, mmsim } from './helpers.js';

describe('mmsim run --trace-out', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const tmp = async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'mmsim-trace-'));
    dirs.push(d);
    return d;
  };

  it('writes a trace-event JSON file, and stdout is the same as without it', async () => {
    const dir = await tmp();
    const out = path.join(dir, 'trace.json');
    const plain = await mmsim('run', fixture('fork-cow.yaml'), '--json');
    const traced = await mmsim('run', fixture('fork-cow.yaml'), '--json', '--trace-out', out);
    expect(traced.code).toBe(0);
    expect(traced.stdout).toBe(plain.stdout);
    expect(traced.stderr).toBe('');
    const t = JSON.parse(await readFile(out, 'utf8')) as ChromeTrace;
    expect(traceProblems(t)).toEqual([]);
    const pgfault = JSON.parse(plain.stdout).total.counters.pgfault;
    expect(t.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'fault').length).toBe(pgfault);
    // no temp file left beside it
    expect(await readdir(dir)).toEqual(['trace.json']);
  });

  it('on x86 (--hardware x86)', async () => {
    const dir = await tmp();
    const out = path.join(dir, 't.json');
    const r = await mmsim('run', fixture('fork-cow.yaml'), '--hardware', 'x86', '--trace-out', out);
    expect(r.code).toBe(0);
    const t = JSON.parse(await readFile(out, 'utf8')) as ChromeTrace;
    expect(traceProblems(t)).toEqual([]);
    expect(t.metadata.hardware).toBe('x86');
  });

  it('a directory that does not exist: an error, exit 3, nothing on stdout', async () => {
    const r = await mmsim('run', fixture('touch16.json'), '--trace-out', '/nonexistent-dir/x/trace.json');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/mmsim: .*ENOENT/);
  });
});
