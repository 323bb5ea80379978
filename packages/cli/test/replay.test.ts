import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertTrace } from '@mmsim/program-trace';
import { describe, expect, it } from 'vitest';
import { mmsim } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const trace = path.join(here, '..', '..', 'program-trace', 'test', 'fixtures', 'replay.mmtrace.jsonl');
const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-cli-replay-'));

describe('mmsim replay', () => {
  it('runs a JSON Lines trace like `mmsim run`: the faults, the warnings, the trace named in the output', async () => {
    const r = await mmsim('replay', trace, '--json', '--hardware', 'flat');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.scenario).toBe('replay.mmtrace.jsonl');
    expect(doc.total.counters.pgfault).toBe(8);
    expect(doc.total.counters.cow_copy).toBe(1);
    expect(r.stdout).not.toContain('mmsim-replay-');
    expect(r.stderr).toContain('warning: a file mapping: replayed over a scenario file named by the path');
  });
  it('the binary form replays the same', async () => {
    const bin = path.join(dir, 'replay.mmtrace');
    await convertTrace(trace, bin);
    const a = await mmsim('replay', trace, '--json', '--hardware', 'flat');
    const b = await mmsim('replay', bin, '--json', '--hardware', 'flat');
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout).total).toEqual(JSON.parse(a.stdout).total);
  });
  it('a malformed trace is exit 2 naming the file, the line and the field', async () => {
    const bad = path.join(dir, 'bad.mmtrace.jsonl');
    writeFileSync(bad, '{"mmtrace":1}\n{"t":"access","pid":1,"page":-3}\n');
    const r = await mmsim('replay', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`mmsim: ${bad}: line 2 field "page": Too small: expected number to be >=0\n`);
    const badMagic = path.join(dir, 'bad.mmtrace');
    writeFileSync(badMagic, 'MMTX0000000000000000000000');
    const m = await mmsim('replay', badMagic);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('bad magic');
  });
});

describe('the replay step in a scenario', () => {
  it('a trace path relative to the scenario, composed with synthetic steps; the document lists what it read', async () => {
    const sc = path.join(dir, 'compose.yaml');
    writeFileSync(
      sc,
      [
        'name: compose',
        'steps:',
        '  - {op: spawn, pid: app}',
        `  - {op: replay, trace: ${path.relative(dir, trace)}, pid: app}`,
        '  - {op: fork, pid: app, child: c}',
        '  - {op: touch, pid: c, region: m100000, offset: 8KiB, size: 4KiB, access: write}',
        '',
      ].join('\n'),
    );
    const r = await mmsim('run', sc, '--json', '--hardware', 'flat');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.total.counters.pgfault).toBe(9);
    expect(doc.replay).toEqual([expect.objectContaining({ step: 'steps[1]', pid: 'app', records: 17, steps: 12 })]);
    expect(doc.replay[0].counters).toEqual({ replay_repeats: 2, replay_unmapped_accesses: 1, replay_file_mappings: 1 });
    const text = await mmsim('run', sc, '--hardware', 'flat');
    expect(text.stdout).toContain('replay    steps[1]: ');
    expect(text.stdout).toContain('replay_unmapped_accesses=1, replay_file_mappings=1, replay_repeats=2');
  });
  it('a missing trace is exit 2 naming the scenario file, the step and the field', async () => {
    const sc = path.join(dir, 'missing.yaml');
    writeFileSync(sc, 'name: m\nsteps:\n  - {op: replay, trace: nope.mmtrace}\n');
    const r = await mmsim('run', sc);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${sc}`);
    expect(r.stderr).toContain('steps[0]');
    expect(r.stderr).toContain('"trace"');
    expect(r.stderr).toContain('(ENOENT)');
  });
});
