import { describe, expect, it } from 'vitest';
import {
  createHooks,
  definePlugin,
  mmapAnon,
  PluginError,
  ScenarioError,
  userAccess,
  type MmPlugin,
  type WpAnswer,
} from '../src/index.js';
import { ctr, ctrs, flatSystem, mem, run } from './helpers.js';

const wpPlugin = (name: string, answer: WpAnswer | undefined): MmPlugin =>
  definePlugin({ name, api: '^1.0.0', apply: (sys) => sys.hooks.fault.wpReuse.tap(name, () => answer) });

/** One page written, drained, write-protected and written again: one do_wp_page() on an exclusive page. */
const rewrite = {
  name: 'rewrite',
  steps: [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
    { op: 'touch', pid: 'p', region: 'b', access: 'write' },
    { op: 'drain' },
    { op: 'mprotect', pid: 'p', region: 'b', prot: 'r' },
    { op: 'mprotect', pid: 'p', region: 'b', prot: 'rw' },
    { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'wp' },
  ],
};

describe('hooks', () => {
  it('the catalogue is frozen', () => {
    const h = createHooks();
    expect(Object.isFrozen(h)).toBe(true);
    for (const g of ['fault', 'fork', 'reclaim', 'tlbFlush', 'pgtable', 'pte', 'sched', 'mm'] as const)
      expect(Object.isFrozen(h[g])).toBe(true);
    expect(() => {
      (h.fault as unknown as Record<string, unknown>).wpReuse = null;
    }).toThrow(TypeError);
    expect(() => {
      (h as unknown as Record<string, unknown>).extra = {};
    }).toThrow(TypeError);
    expect(Object.keys(h.fault).sort()).toEqual([
      'anonOrders',
      'beforeWpReuse',
      'cowOrder',
      'entered',
      'exited',
      'gupUnshare',
      'handled',
      'swapinSkipCache',
      'swapinWritable',
      'wpReuse',
    ]);
  });

  it('untapped wpReuse: the default rule reuses an exclusive, drained page', () => {
    expect(ctrs(run(rewrite), 'wp', ['pgreuse', 'cow_copy'])).toEqual({ pgreuse: 1, cow_copy: 0 });
  });

  it('a research policy takes precedence over a preset plugin on the same bail hook', () => {
    const preset = wpPlugin('preset-copy', 'copy');
    expect(ctrs(run(rewrite, { presetPlugins: [preset] }), 'wp', ['pgreuse', 'cow_copy'])).toEqual({
      pgreuse: 0,
      cow_copy: 1,
    });
    const research = wpPlugin('research-reuse', 'reuse');
    expect(
      ctrs(run(rewrite, { presetPlugins: [preset], policies: [research] }), 'wp', ['pgreuse', 'cow_copy']),
    ).toEqual({ pgreuse: 1, cow_copy: 0 });
    // the other way round too: the research policy's 'copy' beats the preset's 'reuse'
    expect(
      ctrs(
        run(rewrite, {
          presetPlugins: [wpPlugin('preset-reuse', 'reuse')],
          policies: [wpPlugin('research-copy', 'copy')],
        }),
        'wp',
        ['pgreuse', 'cow_copy'],
      ),
    ).toEqual({ pgreuse: 0, cow_copy: 1 });
    // a policy answering undefined passes the decision on to the preset
    expect(
      ctrs(run(rewrite, { presetPlugins: [preset], policies: [wpPlugin('research-pass', undefined)] }), 'wp', [
        'pgreuse',
        'cow_copy',
      ]),
    ).toEqual({ pgreuse: 0, cow_copy: 1 });
  });

  it('a plugin that throws in a hook becomes a PluginError, and a ScenarioError naming the plugin and the step', () => {
    const boom = definePlugin({
      name: 'boom',
      api: '^1.0.0',
      apply: (sys) =>
        sys.hooks.fault.wpReuse.tap('boom', () => {
          throw new Error('kaboom');
        }),
    });
    let err: unknown;
    try {
      run(rewrite, { policies: [boom] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    const se = err as ScenarioError;
    expect(se.where).toBe('steps[6]');
    expect(se.message).toContain('plugin "boom"');
    expect(se.message).toContain('fault.wpReuse');
    expect(se.message).toContain('kaboom');
    // directly on the kernel: the PluginError itself
    const sys = flatSystem(1, { policies: [boom] });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 1, 'b');
    userAccess(k, p.main, vma.start, false, 0);
    let perr: unknown;
    try {
      userAccess(k, p.main, vma.start, true, 1); // zero page: wp_page_copy, no wpReuse call
      userAccess(k, p.main, vma.start, true, 1);
      k.lruAddDrain(0);
      // write-protect by hand and write again: do_wp_page asks wpReuse
      k.pt.fl[k.pteTable(p.mm, vma.start) * 512 + (vma.start & 511)]! &= ~2;
      userAccess(k, p.main, vma.start, true, 2);
    } catch (e) {
      perr = e;
    }
    expect(perr).toBeInstanceOf(PluginError);
    expect((perr as PluginError).plugin).toBe('boom');
    expect((perr as PluginError).hook).toBe('fault.wpReuse');
    expect(((perr as PluginError).cause as Error).message).toBe('kaboom');
  });

  it('fault.anonOrders waterfall: 16-page folios take 1/16 of the faults', () => {
    const mthp = definePlugin({
      name: 'mthp64',
      api: '^1.0.0',
      apply: (sys) => sys.hooks.fault.anonOrders.tap('mthp64', () => 1 << 4),
    });
    const r = run(
      {
        name: 'mthp',
        steps: [
          { op: 'spawn', pid: 'p', cpu: 0 },
          { op: 'mmap', pid: 'p', name: 'b', size: '256KiB' },
          { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'touch' },
          { op: 'access', pid: 'p', region: 'b', offset: '68KiB', access: 'read', expect: 18 },
        ],
      },
      { policies: [mthp] },
    );
    expect(ctrs(r, 'touch', ['pgfault', 'mthp_64kB_anon_fault_alloc', 'pgalloc', 'lru_batch_drain'])).toEqual({
      pgfault: 4,
      mthp_64kB_anon_fault_alloc: 4,
      pgalloc: 64,
      lru_batch_drain: 4, // a large folio never waits in the batch
    });
    expect(mem(r, 'touch')).toMatchObject({ AnonPages: 256, MemUsed: 256 });
    expect(r.checks).toEqual({ passed: 1, failed: 0, failures: [] });
  });

  it('fault.anonOrders falls back to order 0 where the aligned block leaves the VMA or is not all none', () => {
    const mthp = definePlugin({
      name: 'mthp64',
      api: '^1.0.0',
      apply: (sys) => sys.hooks.fault.anonOrders.tap('mthp64', () => 1 << 4),
    });
    // 40 pages ending at a PMD boundary: [B-40, B-32) lies in a block that starts before the VMA
    const edge = run(
      {
        name: 'edge',
        steps: [
          { op: 'spawn', pid: 'p', cpu: 0 },
          { op: 'mmap', pid: 'p', name: 'b', size: '160KiB' },
          { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 't' },
        ],
      },
      { policies: [mthp] },
    );
    expect(ctrs(edge, 't', ['pgfault', 'mthp_64kB_anon_fault_alloc', 'pgalloc'])).toEqual({
      pgfault: 8 + 2,
      mthp_64kB_anon_fault_alloc: 2,
      pgalloc: 40,
    });
    // a zero-page PTE inside the first block: that block falls back (15 order-0 faults + 1 cow_zero)
    const hole = run(
      {
        name: 'hole',
        steps: [
          { op: 'spawn', pid: 'p', cpu: 0 },
          { op: 'mmap', pid: 'p', name: 'b', size: '256KiB' },
          { op: 'access', pid: 'p', region: 'b', offset: '12KiB', access: 'read' },
          { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 't' },
        ],
      },
      { policies: [mthp] },
    );
    expect(ctrs(hole, 't', ['pgfault', 'mthp_64kB_anon_fault_alloc', 'cow_zero', 'pgalloc'])).toEqual({
      pgfault: 16 + 3,
      mthp_64kB_anon_fault_alloc: 3,
      cow_zero: 1,
      pgalloc: 64,
    });
  });

  it('fault.anonOrders is a waterfall: each tap refines the previous value', () => {
    const offer = definePlugin({
      name: 'offer',
      api: '^1.0.0',
      apply: (sys) => sys.hooks.fault.anonOrders.tap('offer', (o) => o | (1 << 4) | (1 << 2)),
    });
    const veto = definePlugin({
      name: 'veto',
      api: '^1.0.0',
      apply: (sys) => sys.hooks.fault.anonOrders.tap('veto', (o) => o & ~(1 << 4)),
    });
    const steps = [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'b', size: '256KiB' },
      { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 't' },
    ];
    const both = run({ name: 'wf', steps }, { presetPlugins: [offer], policies: [veto] });
    // the research policy takes precedence on a waterfall too: it runs after the preset and vetoes 64K
    expect(ctrs(both, 't', ['pgfault', 'mthp_16kB_anon_fault_alloc', 'mthp_64kB_anon_fault_alloc'])).toEqual({
      pgfault: 16,
      mthp_16kB_anon_fault_alloc: 16,
      mthp_64kB_anon_fault_alloc: 0,
    });
    // pinned before the preset with enforce: 'pre', it sees the untapped value and vetoes nothing
    const pre = run({ name: 'wf', steps }, { presetPlugins: [offer], policies: [{ ...veto, enforce: 'pre' }] });
    expect(ctr(pre, 't', 'pgfault')).toBe(4);
    const ordered = run({ name: 'wf2', steps }, { presetPlugins: [offer, veto] });
    expect(ctrs(ordered, 't', ['pgfault', 'mthp_16kB_anon_fault_alloc', 'mthp_64kB_anon_fault_alloc'])).toEqual({
      pgfault: 16,
      mthp_16kB_anon_fault_alloc: 16,
      mthp_64kB_anon_fault_alloc: 0,
    });
  });
});

describe('plugin errors name the plugin', () => {
  it('a tap with its own name inside plugin "outer" is reported as "outer"', () => {
    const plugin = {
      name: 'outer',
      api: '^1.0.0',
      apply(sys: import('../src/index.js').PolicyContext) {
        sys.hooks.fault.anonOrders.tap('inner-tap-name', () => {
          throw new Error('boom');
        });
      },
    };
    let err: unknown;
    try {
      run(
        {
          name: 'x',
          steps: [
            { op: 'spawn', pid: 'p' },
            { op: 'mmap', pid: 'p', name: 'a', size: '4KiB' },
            { op: 'touch', pid: 'p', region: 'a', access: 'write' },
          ],
        },
        { policies: [plugin] },
      );
    } catch (e) {
      err = e;
    }
    expect(String((err as Error).message)).toContain('plugin "outer" threw in hook fault.anonOrders: boom');
    expect(String((err as Error).message)).toContain('steps[2]');
  });
});

describe('fault.entered / fault.exited', () => {
  it('one pair per pgfault, in order, with the outcome; handled events fall in between', () => {
    const log: string[] = [];
    const tracer = definePlugin({
      name: 'tracer',
      api: '^1.0.0',
      apply(ctx) {
        ctx.hooks.fault.entered.tap('tracer', (e) => void log.push(`enter ${e.vpn} ${e.write ? 'w' : 'r'}`));
        ctx.hooks.fault.handled.tap('tracer', (e) => void log.push(`handled ${e.kind}`));
        ctx.hooks.fault.exited.tap('tracer', (e) => void log.push(`exit ${e.vpn} ${e.outcome}`));
      },
    });
    const r = run(rewrite, { policies: [tracer] });
    const enters = log.filter((l) => l.startsWith('enter')).length;
    expect(enters).toBe(r.total.counters.pgfault);
    expect(log.filter((l) => l.startsWith('exit')).length).toBe(enters);
    // properly paired: never two entries without an exit between them
    let open = 0;
    for (const l of log) {
      if (l.startsWith('enter')) expect(++open).toBe(1);
      if (l.startsWith('exit')) expect(--open).toBe(0);
    }
    expect(log.slice(-3)).toEqual([
      expect.stringMatching(/^enter \d+ w$/),
      'handled wp-reuse',
      expect.stringMatching(/ ok$/),
    ]);
  });
});
