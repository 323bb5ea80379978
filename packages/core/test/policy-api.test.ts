import { describe, expect, it } from 'vitest';
import { SyncHook } from 'tapable';
import {
  TOKENS,
  PluginError,
  ScenarioError,
  POLICY_API_VERSION,
  defineService,
  definePluginHooks,
  type MmPlugin,
  type WpAnswer,
} from '../src/index.js';
import { ctr, ctrs, flatSystem, run, runError } from './helpers.js';

/** One page written, write-protected by a fork whose child exits, then written again: one do_wp_page(). */
const rewrite = {
  name: 'rewrite',
  steps: [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
    { op: 'touch', pid: 'p', region: 'b', access: 'write' },
    { op: 'drain' },
    { op: 'fork', pid: 'p', child: 'c' },
    { op: 'exit', pid: 'c' },
    { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'wp' },
  ],
};

const answering = (name: string, answer: unknown): MmPlugin => ({
  name,
  api: '^1.0.0',
  apply: (ctx) => ctx.hooks.fault.wpReuse.tap(name, () => answer as WpAnswer),
});

describe('policy API: answers are validated', () => {
  for (const [label, value, shown] of [
    ['a string outside the union', 'maybe', '"maybe"'],
    ['a Promise', Promise.resolve('reuse'), 'a Promise'],
    ['a number', 1, '1'],
    ['a made-up range object', { reuse: 'range', start: 0, nr: 1 }, '{"reuse":"range","start":0,"nr":1}'],
  ] as const) {
    it(`${label} from fault.wpReuse is a PluginError naming the plugin, the hook, the value and the step`, () => {
      const e = runError(rewrite, { policies: [answering('liar', value)] });
      expect(e).toBeInstanceOf(ScenarioError);
      expect(e.message).toContain('steps[6]');
      expect(e.message).toContain('plugin "liar"');
      expect(e.message).toContain('fault.wpReuse');
      expect(e.message).toContain(shown);
      const cause = (e as Error & { cause?: unknown }).cause;
      expect(cause).toBeInstanceOf(PluginError);
      expect((cause as PluginError).kind).toBe('answer');
    });
  }

  it('an order outside 0..9 from fault.cowOrder is refused too', () => {
    const bad: MmPlugin = {
      name: 'order-99',
      api: '^1.0.0',
      apply: (ctx) => ctx.hooks.fault.cowOrder.tap('x', () => 99),
    };
    expect(runError(rewrite, { policies: [answering('copy', 'copy'), bad] }).message).toMatch(
      /plugin "order-99" answered 99 from hook fault\.cowOrder: expected a folio order/,
    );
  });

  it('valid answers pass: reuse and copy decide', () => {
    expect(ctrs(run(rewrite, { policies: [answering('r', 'reuse')] }), 'wp', ['pgreuse', 'cow_copy'])).toEqual({
      pgreuse: 1,
      cow_copy: 0,
    });
    expect(ctrs(run(rewrite, { policies: [answering('c', 'copy')] }), 'wp', ['pgreuse', 'cow_copy'])).toEqual({
      pgreuse: 0,
      cow_copy: 1,
    });
  });
});

describe('policy API: loading checks the API range', () => {
  it('a plugin built for another major is refused, naming it and both versions', () => {
    const e = (() => {
      try {
        flatSystem(1, { policies: [{ ...answering('future', 'reuse'), api: '^2.0.0' }] });
      } catch (x) {
        return x as PluginError;
      }
      throw new Error('loaded');
    })();
    expect(e).toBeInstanceOf(PluginError);
    expect(e.message).toContain('plugin "future" cannot load');
    expect(e.message).toContain('^2.0.0');
    expect(e.message).toContain(POLICY_API_VERSION);
  });

  it('a 0.x plugin (no api field) is refused with a porting hint', () => {
    const legacy = { name: 'legacy', apply: () => {} } as unknown as MmPlugin;
    expect(() => flatSystem(1, { policies: [legacy] })).toThrow(
      /plugin "legacy" cannot load: .*api: "\^1\.0\.0".*Porting/,
    );
  });

  it('a plugin whose apply() throws is a PluginError naming it', () => {
    const p: MmPlugin = {
      name: 'fragile',
      api: '^1.0.0',
      apply: () => {
        throw new Error('no');
      },
    };
    expect(() => flatSystem(1, { policies: [p] })).toThrow(/plugin "fragile" threw in hook apply: no/);
  });
});

describe('policy API: hooks and context', () => {
  it('fault.beforeWpReuse runs before fault.wpReuse, with the same context', () => {
    const seen: string[] = [];
    const p: MmPlugin = {
      name: 'order',
      api: '^1.0.0',
      apply(ctx) {
        ctx.hooks.fault.beforeWpReuse.tap('order', (f) => void seen.push(`before:${f.folio.refcount}`));
        ctx.hooks.fault.wpReuse.tap('order', (f) => void seen.push(`decide:${f.folio.refcount}`));
      },
    };
    run(rewrite, { policies: [p] });
    expect(seen).toEqual(['before:1', 'decide:1']);
  });

  it('a drain in beforeWpReuse changes what the untapped rule sees (the page parked in the batch is reused)', () => {
    // the write fault comes from mprotect(r) + mprotect(rw) while the page still sits in cpu 0's batch
    const parked = {
      name: 'parked',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write' },
        { op: 'mprotect', pid: 'p', region: 'b', prot: 'r' },
        { op: 'mprotect', pid: 'p', region: 'b', prot: 'rw' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'wp' },
      ],
    };
    // without a drain the page still sits in cpu 0's lru_add batch: refcount 2, copied
    expect(ctrs(run(parked), 'wp', ['pgreuse', 'cow_copy'])).toEqual({ pgreuse: 0, cow_copy: 1 });
    const drain: MmPlugin = {
      name: 'drain',
      api: '^1.0.0',
      apply: (ctx) => ctx.hooks.fault.beforeWpReuse.tap('drain', (f) => f.lruAddDrainAll()),
    };
    expect(ctrs(run(parked, { policies: [drain] }), 'wp', ['pgreuse', 'cow_copy'])).toEqual({
      pgreuse: 1,
      cow_copy: 0,
    });
  });

  it('a range answer makes the whole range of a large folio writable at once', () => {
    const sc = {
      name: 'range',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '64KiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', stride: '64KiB' },
        { op: 'fork', pid: 'p', child: 'c' },
        { op: 'exit', pid: 'c' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', phase: 'wp' },
      ],
    };
    const orders: MmPlugin = {
      name: 'o16',
      api: '^1.0.0',
      apply: (ctx) => ctx.hooks.fault.anonOrders.tap('o16', (o) => o | (1 << 4)),
    };
    const whole: MmPlugin = {
      name: 'whole',
      api: '^1.0.0',
      apply: (ctx) =>
        ctx.hooks.fault.wpReuse.tap('whole', (f) =>
          f.folio.refcount === f.folio.mapcount && f.folio.mappingsIn(f.mm) === f.folio.mapcount
            ? f.reuseRange(f.address - (f.address % 16), 16)
            : 'copy',
        ),
    };
    const r = run(sc, { policies: [orders, whole] });
    expect(ctrs(r, 'wp', ['pgfault', 'pgreuse', 'cow_copy'])).toEqual({ pgfault: 1, pgreuse: 1, cow_copy: 0 });
    // one page at a time without the range: 16 faults
    const page: MmPlugin = {
      name: 'page',
      api: '^1.0.0',
      apply: (ctx) => ctx.hooks.fault.wpReuse.tap('page', () => 'reuse'),
    };
    expect(ctrs(run(sc, { policies: [orders, page] }), 'wp', ['pgfault', 'pgreuse'])).toEqual({
      pgfault: 16,
      pgreuse: 16,
    });
    // a range that leaves the folio is refused
    const wide: MmPlugin = {
      name: 'wide',
      api: '^1.0.0',
      apply: (ctx) => ctx.hooks.fault.wpReuse.tap('wide', (f) => f.reuseRange(f.address - (f.address % 32), 32)),
    };
    expect(runError(sc, { policies: [orders, wide] }).message).toMatch(
      /plugin "wide" answered .* from hook fault\.wpReuse: range .* is not 1\.\.16 pages/,
    );
  });

  it('pgtable.freed reports freed page-table pages', () => {
    let freed = 0;
    const p: MmPlugin = {
      name: 'pt',
      api: '^1.0.0',
      apply: (ctx) => ctx.hooks.pgtable.freed.tap('pt', (e) => void (freed += e.refcount === 0 ? 1 : 0)),
    };
    const r = run(rewrite, { policies: [p] });
    // the child's PTE, PMD and PUD tables and its PGD go at exit
    expect(freed).toBe(ctr(r, 'total', 'pgtable_free'));
    expect(freed).toBeGreaterThan(0);
  });

  it('enforce pins the order on every hook kind; a tap can override its plugin', () => {
    const order: string[] = [];
    const tapper = (name: string, enforce?: 'pre' | 'post'): MmPlugin => ({
      name,
      api: '^1.0.0',
      ...(enforce ? { enforce } : {}),
      apply: (ctx) => ctx.hooks.fault.handled.tap(name, () => void order.push(name)),
    });
    const perTap: MmPlugin = {
      name: 'late',
      api: '^1.0.0',
      enforce: 'pre',
      apply: (ctx) => ctx.hooks.fault.handled.tap({ name: 'late', enforce: 'post' }, () => void order.push('late')),
    };
    run(
      {
        name: 'one',
        steps: [
          { op: 'spawn', pid: 'p' },
          { op: 'mmap', pid: 'p', name: 'a', size: '4KiB' },
          { op: 'touch', pid: 'p', region: 'a', access: 'write' },
        ],
      },
      {
        presetPlugins: [tapper('preset'), tapper('first', 'pre')],
        policies: [perTap, tapper('last', 'post')],
      },
    );
    expect(order).toEqual(['first', 'preset', 'late', 'last']);
  });

  it('a plugin can provide a service and another can resolve it; the kernel is not a service', () => {
    const Budget = defineService<{ left: number }>('test.budget');
    let got = -1;
    let refused = '';
    const provider: MmPlugin = { name: 'provider', api: '^1.0.0', apply: (ctx) => ctx.provide(Budget, { left: 7 }) };
    const user: MmPlugin = {
      name: 'user',
      api: '^1.0.0',
      apply(ctx) {
        got = ctx.resolve(Budget).left;
        try {
          ctx.resolve(TOKENS.Kernel);
        } catch (e) {
          refused = (e as Error).message;
        }
        expect(ctx.resolve(TOKENS.KernelConfig).lruBatchSize).toBeGreaterThan(0);
      },
    };
    flatSystem(1, { policies: [provider, user] });
    expect(got).toBe(7);
    expect(refused).toMatch(/plugin "user" threw in hook resolve: the kernel is not a policy service/);
  });

  it('plugin-owned hooks: one set per system, tapped by other plugins', () => {
    const getHooks = definePluginHooks('owner', () => ({ ping: new SyncHook<[number]>(['n']) }));
    const pings: number[] = [];
    const owner: MmPlugin = {
      name: 'owner',
      api: '^1.0.0',
      apply: (ctx) => ctx.hooks.fault.handled.tap('owner', (e) => getHooks(ctx).ping.call(e.vpn)),
    };
    const listener: MmPlugin = {
      name: 'listener',
      api: '^1.0.0',
      apply: (ctx) => getHooks(ctx).ping.tap('listener', (n) => void pings.push(n)),
    };
    const a = flatSystem(1, { policies: [owner, listener] });
    const b = flatSystem(1, { policies: [owner] });
    expect(getHooks(a.key)).not.toBe(getHooks(b.key));
    getHooks(b.key).ping.call(4);
    getHooks(a.key).ping.call(5);
    expect(pings).toEqual([5]);
  });

  it('the faulting entry is readable: a present, write-protected, dirty PTE at the write fault', () => {
    const seen: unknown[] = [];
    const p: MmPlugin = {
      name: 'entry',
      api: '^1.0.0',
      apply: (ctx) =>
        ctx.hooks.fault.wpReuse.tap('entry', (f) => {
          const e = f.entry;
          seen.push({
            present: e.present,
            writable: e.writable,
            dirty: e.dirty,
            swap: e.swap,
            uffdWp: e.uffdWp,
            level: f.level,
          });
          return undefined;
        }),
    };
    run(rewrite, { policies: [p] });
    expect(seen).toEqual([{ present: true, writable: false, dirty: true, swap: false, uffdWp: false, level: 'pte' }]);
  });

  it('an instrumented hook counts as used only once something taps it (no event built per fault otherwise)', () => {
    const sys = flatSystem(1);
    expect(sys.hooks.fault.handled.isUsed()).toBe(false);
    expect(sys.hooks.pgtable.freed.isUsed()).toBe(false);
    sys.hooks.fault.handled.tap('probe', () => {});
    expect(sys.hooks.fault.handled.isUsed()).toBe(true);
  });

  it('counters defined through the context show in the output', () => {
    const p: MmPlugin = {
      name: 'counting',
      api: '^1.0.0',
      apply(ctx) {
        const c = ctx.stats.define('my_wp_faults');
        ctx.hooks.fault.wpReuse.tap('counting', () => void c.inc());
      },
    };
    expect(ctr(run(rewrite, { policies: [p] }), 'wp', 'my_wp_faults')).toBe(1);
  });
});
