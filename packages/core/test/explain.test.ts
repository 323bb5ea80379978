import { describe, expect, it } from 'vitest';
import {
  createSystem,
  definePlugin,
  describeHolders,
  FlatHardware,
  refHolders,
  runScenario,
  ScenarioSchema,
  type DecisionRecord,
  type RunResult,
} from '../src/index.js';

/** swap out 4 pages, read them back (on readCpu), write them on cpu 0 */
const swapRound = (readCpu: number) => ({
  name: 'explain-swap',
  steps: [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'thread', pid: 'p', cpu: 1 },
    { op: 'mmap', pid: 'p', name: 'b', size: '16KiB' },
    { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 1 },
    { op: 'madvise', pid: 'p', region: 'b', advice: 'pageout' },
    { op: 'touch', pid: 'p', region: 'b', access: 'read', cpu: readCpu, phase: 'read' },
    { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 2, cpu: 0, phase: 'write' },
  ],
});

function explained(scenario: unknown, synchronousIo = true, policies = [] as never[]) {
  const sys = createSystem({ hardware: new FlatHardware(2), policies, config: { swap: { synchronousIo } } });
  const records: DecisionRecord[] = [];
  const r = runScenario(sys, ScenarioSchema.parse(scenario), { explain: { onRecord: (x) => records.push(x) } });
  return { r, sys, records };
}
const wp = (r: RunResult, phase: string) => r.phases[phase]!.decisions!['fault.wpReuse'];

describe('--explain: decisions of fault.wpReuse with the references behind them', () => {
  it('a swap-in on a synchronous device parks the page in the faulting CPU’s lru_add batch: every copy is avoidable by a local drain', () => {
    const { r, records } = explained(swapRound(0));
    expect(wp(r, 'write')).toEqual({
      copy: {
        count: 4,
        by: { lru_batch: 4, lru_batch_local: 4 },
        taps: { '(default)': 4 },
        avoidable_by_drain_local: 4,
        avoidable_by_drain_all: 4,
      },
    });
    expect(r.phases.write!.counters.cow_copy).toBe(4);
    expect(r.decisions!['fault.wpReuse']).toEqual(wp(r, 'write'));
    // the swap-in (untapped: core's default maps it read-only) found the same batch reference
    expect(r.phases.read!.decisions).toEqual({
      'fault.swapinWritable': {
        read_only: { count: 4, by: { lru_batch: 4, lru_batch_local: 4 }, taps: { '(default)': 4 } },
      },
    });
    const rec = records.find((x) => x.hook === 'fault.wpReuse')!;
    expect(rec).toMatchObject({
      hook: 'fault.wpReuse',
      answer: 'copy',
      tap: '(default)',
      cpu: 0,
      pid: 'p',
      phase: 'write',
    });
    expect(rec.step).toBe('steps[6]');
    expect(rec.holders).toMatchObject({ refcount: 2, mapped: 1, lruBatch: 1, swapcache: 0, pinned: 0, other: 0 });
    expect(rec.holders.lruBatches).toEqual([{ cpu: 0, kind: 'add', refs: 1 }]);
    expect({ ...rec.mappedBy }).toEqual({ p: 1 });
    expect(describeHolders(rec.holders)).toBe('2 = 1 mapped + 1 lru_batch(cpu0 add)');
  });

  it('read on cpu 1, write on cpu 0: the batch is remote, only lru_add_drain_all() would have avoided the copies (patch 2 limit)', () => {
    const { r } = explained(swapRound(1));
    expect(wp(r, 'write')!.copy).toEqual({
      count: 4,
      by: { lru_batch: 4, lru_batch_remote: 4 },
      taps: { '(default)': 4 },
      avoidable_by_drain_all: 4,
    });
  });

  it('through the swap cache (no synchronous I/O): the swap cache holds the extra reference, freeing it would have avoided the copy', () => {
    const { r, records } = explained(swapRound(0), false);
    const copy = wp(r, 'write')!.copy!;
    expect(copy.count).toBe(4);
    expect(copy.by?.swapcache).toBe(4);
    expect(copy.avoidable_by_free_swap).toBe(4 - (copy.by?.lru_batch ?? 0));
    expect(
      records
        .filter((x) => x.hook === 'fault.wpReuse')
        .every((x) => x.flags.includes('swapcache') && x.holders.swapcache === 1),
    ).toBe(true);
  });

  it('after fork the other mapping forces the copy: nothing avoidable; the tap that answered is named', () => {
    const v58 = definePlugin({
      name: 'v5.8-mapcount',
      api: '^1.0.0',
      apply: (ctx) => ctx.hooks.fault.wpReuse.tap('v5.8-mapcount', (f) => (f.page.mapcount === 1 ? 'reuse' : 'copy')),
    });
    const { r } = explained(
      {
        name: 'explain-fork',
        steps: [
          { op: 'spawn', pid: 'p', cpu: 0 },
          { op: 'mmap', pid: 'p', name: 'b', size: '8KiB' },
          { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 1 },
          { op: 'drain' },
          { op: 'fork', pid: 'p', child: 'c' },
          { op: 'touch', pid: 'c', region: 'b', access: 'write', value: 2, phase: 'child' },
          { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 3, phase: 'parent' },
        ],
      },
      true,
      [v58] as never[],
    );
    expect(wp(r, 'child')).toEqual({ copy: { count: 2, by: { mapped: 2 }, taps: { 'v5.8-mapcount': 2 } } });
    // the child's copies went to the batch, the parent's pages are mapped once again: reuse
    expect(wp(r, 'parent')).toEqual({ reuse: { count: 2, taps: { 'v5.8-mapcount': 2 } } });
  });

  it('the decomposition sums to the refcount of every folio between steps (pins, batches, swap cache)', () => {
    const sys = createSystem({ hardware: new FlatHardware(2), config: { swap: { synchronousIo: false } } });
    const sc = ScenarioSchema.parse({
      name: 'holders',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '32KiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 1 },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'pin', pid: 'p', region: 'b', id: 'dma', write: false },
        { op: 'madvise', pid: 'c', region: 'b', advice: 'pageout' },
      ],
    });
    let checked = 0;
    runScenario(sys, sc, {
      afterStep: () => {
        const k = sys.kernel;
        for (let pfn = 0; pfn < k.f.capacity; pfn++) {
          if (k.f.ref[pfn] === 0 || k.f.head(pfn) !== pfn || k.mem.isZeroPfn(pfn)) continue;
          const h = refHolders(k, pfn);
          expect(h.other, describeHolders(h)).toBe(0);
          checked++;
        }
      },
    });
    expect(checked).toBeGreaterThan(20);
  });

  it('off by default: no decisions in the result', () => {
    const sys = createSystem({ hardware: new FlatHardware(2), config: { swap: { synchronousIo: true } } });
    const r = runScenario(sys, ScenarioSchema.parse(swapRound(0)));
    expect(r.decisions).toBeUndefined();
    expect(r.phases.write!.decisions).toBeUndefined();
    expect(sys.kernel.explain).toBeNull();
  });
});

describe('--explain: pins and mappings are named', () => {
  it('a pinned page shared by fork (no fork.page policy): the child’s write copies; the record names both processes and the pin', () => {
    const { r, records } = explained({
      name: 'explain-pin',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 1 },
        { op: 'drain' },
        { op: 'pin', pid: 'p', region: 'b', id: 'dma', write: true },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'access', pid: 'c', region: 'b', access: 'write', value: 2, phase: 'child' },
      ],
    });
    expect(wp(r, 'child')).toEqual({ copy: { count: 1, by: { mapped: 1, gup_pin: 1 }, taps: { '(default)': 1 } } });
    expect(records).toHaveLength(1);
    const rec = records[0]!;
    expect(rec.holders).toMatchObject({ refcount: 1026, mapped: 2, pinned: 1024, pins: 1, lruBatch: 0, other: 0 });
    expect({ ...rec.mappedBy }).toEqual({ p: 1, c: 1 });
    expect({ ...rec.pinnedBy }).toEqual({ dma: 1 });
    expect(rec.avoidable).toEqual([]);
  });
});

describe('--explain: the other decision hooks', () => {
  it('tap answers of fork.* hooks are counted per answer and tap; the orders the anon and CoW faults settled on too', () => {
    const copyTables = definePlugin({
      name: 'copy-tables',
      api: '^1.0.0',
      apply: (ctx) => ctx.hooks.fork.pteTable.tap('copy-tables', () => 'copy'),
    });
    const { r } = explained(
      {
        name: 'explain-fork-hooks',
        steps: [
          { op: 'spawn', pid: 'p', cpu: 0 },
          { op: 'mmap', pid: 'p', name: 'b', size: '8KiB' },
          { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 1, phase: 'touch' },
          { op: 'drain' },
          { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
          { op: 'touch', pid: 'c', region: 'b', access: 'write', value: 2, phase: 'child' },
        ],
      },
      true,
      [copyTables] as never[],
    );
    expect(r.phases.touch!.decisions).toEqual({
      'fault.anonOrders': { order_0: { count: 2, taps: { '(waterfall)': 2 } } },
    });
    expect(r.phases.fork!.decisions).toEqual({ 'fork.pteTable': { copy: { count: 1, taps: { 'copy-tables': 1 } } } });
    expect(r.phases.child!.decisions!['fault.cowOrder']).toEqual({ order_0: { count: 2, taps: { '(waterfall)': 2 } } });
  });
});
