import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSystem, FlatHardware, runScenario, ScenarioSchema } from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import { openTrace, traceToSteps } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function replay(file: string, extra: Record<string, unknown>[] = []) {
  const r = await openTrace(path.join(here, 'fixtures', file));
  const out = await traceToSteps(r, { pid: 'app', cpus: 2 });
  const sc = ScenarioSchema.parse({ name: 'replay', steps: [...out.steps, ...extra] });
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
      { op: 'touch', pid: 'app', region: 'm100000', offset: 0, size: 4096, access: 'write' },
      { op: 'touch', pid: 'app', region: 'm100000', offset: 4096, size: 4096, access: 'read' },
      { op: 'touch', pid: 'app', region: 'm100000', offset: 4096, size: 4096, access: 'write' },
      { op: 'fork', pid: 'app', child: 'app-8' },
      { op: 'touch', pid: 'app-8', region: 'm100000', offset: 0, size: 4096, access: 'write' },
      { op: 'munmap', pid: 'app', region: 'm100000', offset: 4096, size: 4096 },
      { op: 'touch', pid: 'app', region: 'm100000', offset: 8192, size: 4096, access: 'write' },
      { op: 'mmap', pid: 'app', name: 'm800000', size: 8192 },
      { op: 'touch', pid: 'app', region: 'm800000', offset: 0, size: 4096, access: 'write' },
      { op: 'touch', pid: 'app', region: 'm800000', offset: 4096, size: 4096, access: 'write' },
      { op: 'munmap', pid: 'app', region: 'm800000', offset: 4096, size: 4096 },
      { op: 'mmap', pid: 'app', name: 'm1000000', size: 4096, prot: 'r' },
      { op: 'touch', pid: 'app', region: 'm1000000', offset: 0, size: 4096, access: 'read' },
      { op: 'exit', pid: 'app-8' },
    ]);
    expect(out.counters).toEqual({ replay_repeats: 2, replay_unmapped_accesses: 1, replay_file_mappings: 1 });
    expect(out.warnings).toEqual([
      'an access outside every traced mapping: skipped (counted in replay_unmapped_accesses)',
      'a file mapping: replayed as an anonymous mapping of the same size (file pages not modelled by replay yet) (counted in replay_file_mappings)',
    ]);
    const c = result.total.counters as Record<string, number>;
    // write 256, read 257 (zero page), write 257 (CoW of the zero page), child write 256 (CoW),
    // write 258, heap 2048 and 2049, read of the file-less r mapping: 8 faults
    expect(c.pgfault).toBe(8);
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
      { op: 'touch', pid: 'app', region: 'm402000', offset: 0x1000, size: 4096, access: 'write' },
    ]);
  });
});
