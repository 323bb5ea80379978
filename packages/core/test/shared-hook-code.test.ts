/**
 * Hooks of different systems share tapable's compiled `call` code when it would be the same
 * (di/instrument.ts): each system still calls its own taps, in its own order, with its own
 * interceptors, however the systems before it were tapped.
 */
import { describe, expect, it } from 'vitest';
import { definePlugin, type MmPlugin } from '../src/index.js';
import { flatSystem } from './helpers.js';

const tapping = (name: string, taps: Array<string | undefined>, log: string[]): MmPlugin =>
  definePlugin({
    name,
    api: '^1.0.0',
    apply: (sys) => {
      taps.forEach((answer, i) =>
        sys.hooks.reclaim.shouldReclaim.tap(`${name}-${i}`, () => {
          log.push(`${name}-${i}`);
          return answer === undefined ? undefined : answer === 'skip';
        }),
      );
    },
  });

/** Call reclaim.shouldReclaim of a system once (a bail hook: the first tap with an answer ends it). */
function callSkip(sys: ReturnType<typeof flatSystem>): unknown {
  const h = sys.hooks.reclaim.shouldReclaim as unknown as { call(ctx: unknown): unknown };
  return h.call({});
}

describe('shared compiled hook code', () => {
  it('systems with one, two and three taps on a hook each call their own taps', () => {
    const seen: string[][] = [];
    const answers: unknown[] = [];
    for (const taps of [['skip'], [undefined, 'keep'], [undefined, undefined, 'skip'], ['keep']]) {
      const log: string[] = [];
      const sys = flatSystem(2, { policies: [tapping(`p${taps.length}`, taps, log)] });
      answers.push(callSkip(sys));
      answers.push(callSkip(sys));
      seen.push(log);
    }
    expect(answers).toEqual([true, true, false, false, true, true, false, false]);
    expect(seen).toEqual([
      ['p1-0', 'p1-0'],
      ['p2-0', 'p2-1', 'p2-0', 'p2-1'],
      ['p3-0', 'p3-1', 'p3-2', 'p3-0', 'p3-1', 'p3-2'],
      ['p1-0', 'p1-0'],
    ]);
  });

  it('a tap added after the first call, and interceptors with and without `call`, take effect', () => {
    const log: string[] = [];
    const a = flatSystem(2, { policies: [tapping('a', [undefined], log)] });
    const b = flatSystem(2, { policies: [tapping('b', [undefined], log)] });
    const c = flatSystem(2, { policies: [tapping('c', [undefined], log)] });
    expect(callSkip(a)).toBeUndefined();
    a.hooks.reclaim.shouldReclaim.tap('late', () => true);
    expect(callSkip(a)).toBe(true);
    const intercept = (sys: ReturnType<typeof flatSystem>, i: object) =>
      (sys.hooks.reclaim.shouldReclaim as unknown as { intercept(i: object): void }).intercept(i);
    // the same number of taps and interceptors: only the interceptors' members differ
    intercept(b, { register: (t: unknown) => t });
    intercept(c, { call: () => log.push('c-intercepted') });
    expect(callSkip(b)).toBeUndefined();
    expect(callSkip(c)).toBeUndefined();
    expect(log).toEqual(['a-0', 'a-0', 'b-0', 'c-intercepted', 'c-0']);
  });
});
