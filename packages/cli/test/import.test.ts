import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTrace, type TraceRecord } from '@mmsim/program-trace';
import { describe, expect, it } from 'vitest';
import { champsimSample } from '../../program-trace/test/champsim-fixture.js';
import { mmsim } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '..', '..', 'program-trace', 'test', 'fixtures', 'import');
const dir = mkdtempSync(path.join(tmpdir(), 'mmsim-cli-import-'));
const sample = path.join(dir, 'sample.champsim');
writeFileSync(sample, champsimSample());

async function records(file: string): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of await openTrace(file)) out.push(r);
  return out;
}

describe('mmsim import', () => {
  it('--from champsim: an mmsim trace; replayed, the faults derived by hand', async () => {
    const out = path.join(dir, 'sample.jsonl');
    const r = await mmsim('import', '--from', 'champsim', sample, '-o', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`mmsim: import: 31 records (28 accesses, 3 mmaps) from ${sample} (champsim) in ${out}\n`);
    expect(readFileSync(out, 'utf8').split('\n').slice(1, 4)).toEqual([
      '{"t":"mmap","pid":1,"addr":268435456,"len":2097152,"prot":"rw"}',
      '{"t":"access","pid":1,"page":65536,"w":false,"n":512}',
      '{"t":"access","pid":1,"page":65537,"w":false,"n":488}',
    ]);
    const rep = await mmsim('replay', out, '--json', '--hardware', 'flat', '--kernel', 'linux-6.18');
    expect(rep.code).toBe(0);
    const c = JSON.parse(rep.stdout).total.counters;
    // heap: 2 read faults (the zero page), 4 write faults (4 pages allocated); stack: a read
    // fault then a write fault copying the zero page (cow_zero), 2 more read faults; the
    // repeats (n) and the alternating r/w on the stack page after the first write never fault
    expect(c.pgfault).toBe(10);
    expect(c.pgalloc).toBe(5);
    expect(c.cow_zero).toBe(1);
    expect(JSON.parse(rep.stdout).total.meminfo.AnonPages).toBe(20);
  });
  it('the binary form and replay --from give the same run as the JSON Lines import', async () => {
    const bin = path.join(dir, 'sample.mmtrace');
    expect((await mmsim('import', '--from', 'champsim', sample, '-o', bin)).code).toBe(0);
    expect(await records(bin)).toEqual(await records(path.join(dir, 'sample.jsonl')));
    const a = await mmsim('replay', path.join(dir, 'sample.jsonl'), '--json', '--hardware', 'flat');
    const b = await mmsim('replay', sample, '--from', 'champsim', '--json', '--hardware', 'flat');
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout).total).toEqual(JSON.parse(a.stdout).total);
  });
  it('--from lackey into .jsonl.gz: the log’s syscalls and accesses', async () => {
    const out = path.join(dir, 'true.jsonl.gz');
    const r = await mmsim('import', '--from', 'lackey', path.join(fixtures, 'lackey-true.log'), '-o', out);
    expect(r.code).toBe(0);
    const recs = await records(out);
    expect(recs.filter((x) => x.t === 'mmap')).toEqual([
      { t: 'mmap', pid: 6934, addr: 0x4835000, len: 8192, prot: 'rw', shared: false },
    ]);
    expect(recs.at(-1)).toEqual({ t: 'end', pid: 6934, truncated: false, status: 0 });
  });
  it('--from strace: the mapping structure only; replayed, no faults', async () => {
    const out = path.join(dir, 'sh.mmtrace');
    expect((await mmsim('import', '--from', 'strace', path.join(fixtures, 'strace-sh.log'), '-o', out)).code).toBe(0);
    const rep = await mmsim('replay', out, '--json', '--hardware', 'flat');
    expect(rep.code).toBe(0);
    expect(JSON.parse(rep.stdout).total.counters.pgfault ?? 0).toBe(0);
    expect(rep.stderr).toContain('warning: a file mapping: replayed over a scenario file named by the path');
  });
  it('bad input is exit 2: an unknown or missing format, a missing file, a truncated ChampSim trace (the byte offset; no output left)', async () => {
    let r = await mmsim('import', '--from', 'pin', sample);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('mmsim: import: unknown format "pin" (one of champsim, lackey, strace)\n');
    r = await mmsim('replay', sample, '--from', 'pin');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('mmsim: replay: unknown format "pin" (one of champsim, lackey, strace)\n');
    r = await mmsim('import', sample);
    expect(r.code).toBe(2);
    const missing = path.join(dir, 'none.champsim');
    r = await mmsim('import', '--from', 'champsim', missing, '-o', path.join(dir, 'none.mmtrace'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`mmsim: ${missing}: cannot read the trace (ENOENT)\n`);
    const cut = path.join(dir, 'cut.champsim');
    writeFileSync(cut, champsimSample().subarray(0, 64 * 7 + 5));
    const out = path.join(dir, 'cut.mmtrace');
    r = await mmsim('import', '--from', 'champsim', cut, '-o', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `mmsim: ${cut}: byte 448: truncated instruction record: 5 of 64 bytes (the file is not a whole number of ChampSim input_instr records)\n`,
    );
    expect(existsSync(out)).toBe(false);
    r = await mmsim('replay', cut, '--from', 'champsim');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('byte 448: truncated instruction record');
  });
});
