import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChromeTrace } from '@mmsim/trace';
import { fixture, mmsim } from './helpers.js';

const FILE = fixture('explain/swap-round.yaml');

describe('mmsim run --explain', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('--json gains decisions (total and per phase): every copy attributed to cpu 1’s batch, avoidable only by draining all CPUs', async () => {
    const r = await mmsim('run', FILE, '--explain', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const copy = {
      count: 8,
      by: { lru_batch: 8, lru_batch_remote: 8 },
      taps: { 'policy-refcount(refcount)': 8 },
      avoidable_by_drain_all: 8,
    };
    expect(doc.decisions['fault.wpReuse']).toEqual({ copy });
    expect(doc.phases.write.decisions).toEqual({
      'fault.wpReuse': { copy },
      // the copies' order (after the fault.cowOrder waterfall)
      'fault.cowOrder': { order_0: { count: 8, taps: { '(waterfall)': 8 } } },
    });
    // the swap-in on cpu 1 maps the pages read-only (v5.9: reuse_swap_page() is not asked on a read)
    expect(doc.phases.read.decisions).toEqual({
      'fault.swapinWritable': {
        read_only: { count: 8, by: { lru_batch: 8, lru_batch_local: 8 }, taps: { 'policy-refcount(refcount)': 8 } },
      },
    });
    expect(doc.decisions['fault.swapinWritable']).toEqual(doc.phases.read.decisions['fault.swapinWritable']);
    expect(doc.phases.write.counters.cow_copy).toBe(8);
  });

  it('without --explain the document has no decisions, and the counters are the same', async () => {
    const plain = JSON.parse((await mmsim('run', FILE, '--json')).stdout);
    const explained = JSON.parse((await mmsim('run', FILE, '--json', '--explain')).stdout);
    expect(plain.decisions).toBeUndefined();
    expect(plain.phases.write.decisions).toBeUndefined();
    expect(explained.total.counters).toEqual(plain.total.counters);
    expect(explained.total.cycles).toBe(plain.total.cycles);
  });

  it('the table prints a why section', async () => {
    const r = await mmsim('run', FILE, '--explain');
    const lines = r.stdout.split('\n');
    const i = lines.findIndex((l) => l.startsWith('  write      fault.wpReuse'));
    expect(lines.findIndex((l) => l.startsWith('why ('))).toBeGreaterThan(0);
    expect(lines.slice(i, i + 4)).toEqual([
      '  write      fault.wpReuse copy 8',
      '      with   lru_batch 8, lru_batch_remote 8',
      '      avoidable by drain_all 8',
      '      taps   policy-refcount(refcount) 8',
    ]);
  });

  it('with --trace-out, the fault slices carry the explanation', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mmsim-explain-'));
    dirs.push(dir);
    const out = path.join(dir, 't.json');
    expect((await mmsim('run', FILE, '--explain', '--trace-out', out)).code).toBe(0);
    const t = JSON.parse(await readFile(out, 'utf8')) as ChromeTrace;
    const explained = t.traceEvents.filter(
      (e) => e.cat === 'fault' && (e.args?.explain as { hook?: string } | undefined)?.hook === 'fault.wpReuse',
    );
    expect(explained).toHaveLength(8);
    // the swap-in faults of the read phase carry their fault.swapinWritable decision
    expect(t.traceEvents.filter((e) => e.cat === 'fault' && e.args?.explain).length).toBe(16);
    expect(explained[0]!.args!.explain).toEqual({
      hook: 'fault.wpReuse',
      answer: 'copy',
      tap: 'policy-refcount(refcount)',
      step: 'steps[6]',
      refcount: '2 = 1 mapped + 1 lru_batch(cpu1 add)',
      avoidable: 'avoidable_by_drain_all',
    });
  });

  it('mmsim compare --explain: decision paths as --counters', async () => {
    const r = await mmsim(
      'compare',
      FILE,
      '-k',
      'linux-5.8',
      '-k',
      'linux-5.9',
      '--explain',
      '-j',
      '1',
      '--json',
      '--counters',
      'write:fault.wpReuse.copy.lru_batch_remote',
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const by = Object.fromEntries(doc.configs.map((c: any) => [c.kernel, c.result.decisions['fault.wpReuse']]));
    expect(by['linux-5.9'].copy.by.lru_batch_remote).toBe(8);
    // v5.8's mapcount rule reuses with the batch references present
    expect(by['linux-5.8']).toEqual({
      reuse: { count: 8, by: { lru_batch: 8, lru_batch_remote: 8 }, taps: { 'policy-refcount(mapcount)': 8 } },
    });
    const table = await mmsim(
      'compare',
      FILE,
      '-k',
      'linux-5.8',
      '-k',
      'linux-5.9',
      '--explain',
      '-j',
      '1',
      '--counters',
      'write:fault.wpReuse.copy.lru_batch_remote',
    );
    expect(table.stdout).toMatch(/linux-5\.9\/x86\s+8\s/);
  });
});
