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
    expect(r.stderr).toContain('warning: a file mapping: replayed as an anonymous mapping');
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
