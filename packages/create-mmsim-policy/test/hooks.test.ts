import { describe, expect, it } from 'vitest';
import { HOOK_SPECS } from '@mmsim/core';
import { SCENARIO_CALLS } from '../src/calls.js';
import { counterName, DEFAULT_HOOK, knownHooks, selectHooks, tapSource } from '../src/hooks.js';

const hook = (name: string) => knownHooks().find((h) => h.name === name)!;

describe('the hook catalogue', () => {
  it("is core's HOOK_SPECS, in its order, with kinds and answers", () => {
    expect(knownHooks().map((h) => h.name)).toEqual(Object.keys(HOOK_SPECS));
    expect(hook('fault.wpReuse')).toEqual({
      name: 'fault.wpReuse',
      group: 'fault',
      member: 'wpReuse',
      kind: 'bail',
      expected: "'reuse', 'copy', ctx.reuseRange(start, nr) or undefined",
      models: 'do_wp_page(): reuse the write-protected anonymous page in place, or copy it',
    });
    expect(hook('fault.cowOrder').kind).toBe('waterfall');
    expect(hook('tlbFlush.request')).toMatchObject({ group: 'tlbFlush', member: 'request', kind: 'notify' });
  });

  it('names the kernel function of every hook', () => {
    expect(knownHooks().filter((h) => h.models === null)).toEqual([]);
  });

  it('counts the template scenario for every hook, and only for hooks of the catalogue', () => {
    expect(Object.keys(SCENARIO_CALLS).sort()).toEqual(Object.keys(HOOK_SPECS).sort());
  });
});

describe('selectHooks', () => {
  it(`defaults to ${DEFAULT_HOOK}`, () => {
    expect(selectHooks([])).toEqual({ hooks: [hook('fault.wpReuse')] });
  });
  it('keeps the order given and drops repeats', () => {
    expect(selectHooks(['fork.page', 'fault.cowOrder', 'fork.page'])).toEqual({
      hooks: [hook('fork.page'), hook('fault.cowOrder')],
    });
  });
  it('reports every unknown hook', () => {
    expect(selectHooks(['fault.wpReuse', 'fault.wpreuse', 'madvise.pageout'])).toEqual({
      unknown: ['fault.wpreuse', 'madvise.pageout'],
    });
  });
});

describe('the generated taps', () => {
  it('counter names: prefix + snake_case hook', () => {
    expect(counterName('my_policy', 'fault.wpReuse')).toBe('my_policy_fault_wp_reuse');
    expect(counterName('p', 'tlbFlush.request')).toBe('p_tlb_flush_request');
    expect(counterName('p', 'mm.created')).toBe('p_mm_created');
  });

  it('a bail tap counts and passes (returns undefined)', () => {
    expect(tapSource(hook('fork.page'), 'my-policy', 'my_policy', '')).toBe(
      [
        '// fork.page (bail): copy_present_pte(): share the page or copy it into the child now',
        "// answers: 'share', 'copy' or undefined",
        "// (undefined: the next tap, e.g. the kernel preset's rule, decides)",
        "const forkPage = stats.define('my_policy_fork_page');",
        "hooks.fork.page.tap('my-policy', (ctx) => {",
        '  forkPage.inc();',
        '  return undefined;',
        '});',
      ].join('\n'),
    );
  });

  it('a waterfall tap counts and returns the value it got', () => {
    expect(tapSource(hook('fault.cowOrder'), 'x', 'x', '  ')).toBe(
      [
        '  // fault.cowOrder (waterfall): wp_page_copy(): the order of the replacement folio',
        '  // value: a folio order (integer 0..9)',
        '  // return it refined (unchanged: the value so far stands)',
        "  const faultCowOrder = stats.define('x_fault_cow_order');",
        "  hooks.fault.cowOrder.tap('x', (value) => {",
        '    faultCowOrder.inc();',
        '    return value;',
        '  });',
      ].join('\n'),
    );
  });

  it('a notification tap counts', () => {
    expect(tapSource(hook('sched.switchMm'), 'x', 'x', '')).toBe(
      [
        '// sched.switchMm (notify): switch_mm(): a CPU switched address space',
        '// a notification: the return value is ignored',
        "const schedSwitchMm = stats.define('x_sched_switch_mm');",
        "hooks.sched.switchMm.tap('x', () => {",
        '  schedSwitchMm.inc();',
        '});',
      ].join('\n'),
    );
  });
});
