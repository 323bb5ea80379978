import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSystem, FlatHardware, runScenario, ScenarioSchema } from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import { openTrace, traceToSteps } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** an `accesses` ref: page `page` of the batch's region `ri`, a write when `w` is 1 */
const ref = (page: number, w: 0 | 1, ri = 0) => (page * 2 + w) * 256 + ri;

async function replay(file: string, extra: Record<string, unknown>[] = []) {
  const r = await openTrace(path.join(here, 'fixtures', file));
  const out = await traceToSteps(r, { pid: 'app', cpus: 2 });
  const sc = ScenarioSchema.parse({ name: 'replay', files: out.files, steps: [...out.steps, ...extra] });
  const sys = createSystem({ hardware: new FlatHardware(2), policies: [], presetPlugins: [], config: {} });
  return { out, result: runScenario(sys, sc) };
}

describe('program trace: replay', () => {
  it('maps, faults, CoW after fork, partial munmap, brk growth and shrink: exact steps and faults', async () => {
    const { out, result } = await replay('replay.mmtrace.jsonl', [
      // after the child's CoW (and its exit) the parent's page is exclusive again
      { op: 'pagemap', pid: 'app', region: 'm100000', size: '4KiB', expect: { present: true, exclusive: true } },
    ]);
    expect(out.steps).toEqual([
      { op: 'spawn', pid: 'app', cpu: 0 },
      { op: 'mmap', pid: 'app', name: 'm100000', size: 16384 },
      // page 0 written (a run of 3), page 1 read, then written
      { op: 'accesses', pid: 'app', regions: ['m100000'], refs: [ref(0, 1), ref(1, 0), ref(1, 1)] },
      { op: 'fork', pid: 'app', child: 'app-8' },
      { op: 'accesses', pid: 'app-8', regions: ['m100000'], refs: [ref(0, 1)] },
      { op: 'munmap', pid: 'app', region: 'm100000', offset: 4096, size: 4096 },
      // page 2 written; the read of the unmapped page 1 is skipped
      { op: 'accesses', pid: 'app', regions: ['m100000'], refs: [ref(2, 1)] },
      { op: 'mmap', pid: 'app', name: 'm800000', size: 8192 },
      { op: 'accesses', pid: 'app', regions: ['m800000'], refs: [ref(0, 1), ref(1, 1)] },
      { op: 'munmap', pid: 'app', region: 'm800000', offset: 4096, size: 4096 },
      { op: 'mmap', pid: 'app', name: 'm1000000', size: 4096, prot: 'r', file: '/usr/lib/libc.so.6' },
      { op: 'accesses', pid: 'app', regions: ['m1000000'], refs: [ref(0, 0)] },
      { op: 'exit', pid: 'app-8' },
    ]);
    expect(out.counters).toEqual({ replay_repeats: 2, replay_unmapped_accesses: 1, replay_file_mappings: 1 });
    expect(out.warnings).toEqual([
      'an access outside every traced mapping: skipped (counted in replay_unmapped_accesses)',
      "a file mapping: replayed over a scenario file named by the path, as large as the trace maps of it, in the page cache from the start; its contents are a hash of the name, not the file's (counted in replay_file_mappings)",
    ]);
    const c = result.total.counters as Record<string, number>;
    // write 256, read 257 (zero page), write 257 (CoW of the zero page), child write 256 (CoW),
    // write 258, heap 2048 and 2049, read of the file-less r mapping: 8 faults
    expect(c.pgfault).toBe(8);
    // the file mapping is a scenario file in a warm page cache: a minor fault, nothing read
    expect(out.files).toEqual({ '/usr/lib/libc.so.6': { size: 4096, cached: true } });
    expect(c.pgmajfault ?? 0).toBe(0);
    expect(result.checks).toMatchObject({ passed: 1, failed: 0 });
  });

  it('an mmap over a mapping (MAP_FIXED, as ld.so maps segments over a reservation) replaces it', async () => {
    const { TraceReplayer } = await import('../src/index.js');
    const t = new TraceReplayer({ pid: 'app', cpus: 1 });
    t.add({ t: 'mmap', pid: 1, addr: 0x400000, len: 0x5000, prot: 'r' });
    t.add({ t: 'mmap', pid: 1, addr: 0x402000, len: 0x2000, prot: 'rw' });
    t.add({ t: 'access', pid: 1, page: 0x403, w: true });
    expect(t.result().steps).toEqual([
      { op: 'spawn', pid: 'app', cpu: 0 },
      { op: 'mmap', pid: 'app', name: 'm400000', size: 0x5000, prot: 'r' },
      { op: 'munmap', pid: 'app', region: 'm400000', offset: 0x2000, size: 0x2000 },
      { op: 'mmap', pid: 'app', name: 'm402000', size: 0x2000 },
      { op: 'accesses', pid: 'app', regions: ['m402000'], refs: [ref(1, 1)] },
    ]);
  });

  it('an access outside every traced mapping maps its 2 MiB block (clamped to the mappings around it) over a cached file; a hole the trace unmapped stays a hole', async () => {
    const { TraceReplayer } = await import('../src/index.js');
    const t = new TraceReplayer({ pid: 'app' });
    t.add({ t: 'mmap', pid: 1, addr: 0x600000, len: 0x1000, prot: 'rw' });
    t.add({ t: 'mmap', pid: 1, addr: 0x402000, len: 0x1000, prot: 'rw' });
    t.add({ t: 'munmap', pid: 1, addr: 0x402000, len: 0x1000 });
    // the stack-like access at 0x7ff000 (never mapped in the trace): [0x601000, 0x800000)
    t.add({ t: 'access', pid: 1, page: 0x7ff, w: true });
    t.add({ t: 'access', pid: 1, page: 0x7fe, w: true });
    // the access into the unmapped 0x402000: skipped (it would be a SIGSEGV)
    t.add({ t: 'access', pid: 1, page: 0x402 });
    // the executable-like access at 0x401000: [0x400000, 0x600000)
    t.add({ t: 'access', pid: 1, page: 0x401 });
    expect(t.result().steps).toEqual([
      { op: 'spawn', pid: 'app', cpu: 0 },
      { op: 'mmap', pid: 'app', name: 'm600000', size: 0x1000 },
      { op: 'mmap', pid: 'app', name: 'm402000', size: 0x1000 },
      { op: 'munmap', pid: 'app', region: 'm402000', offset: 0, size: 0x1000 },
      { op: 'mmap', pid: 'app', name: 'i601000', size: 0x1ff000, file: '(implicit app i601000)' },
      { op: 'accesses', pid: 'app', regions: ['i601000'], refs: [ref(0x1fe, 1), ref(0x1fd, 1)] },
      { op: 'mmap', pid: 'app', name: 'i400000', size: 0x200000, file: '(implicit app i400000)' },
      { op: 'accesses', pid: 'app', regions: ['i400000'], refs: [ref(1, 0)] },
    ]);
    expect(t.result().counters).toEqual({ replay_implicit_mappings: 2, replay_unmapped_accesses: 1 });
    // each over a cached file of its own
    expect(t.result().files).toEqual({
      '(implicit app i400000)': { size: 0x200000, cached: true },
      '(implicit app i601000)': { size: 0x1ff000, cached: true },
    });
    const off = new TraceReplayer({ pid: 'app', implicitMappings: false });
    off.add({ t: 'access', pid: 1, page: 0x7ff, w: true });
    expect(off.result().steps).toEqual([{ op: 'spawn', pid: 'app', cpu: 0 }]);
    expect(off.result().counters).toEqual({ replay_unmapped_accesses: 1 });
  });
});
