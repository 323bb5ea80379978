import { describe, expect, it } from 'vitest';
import type { AnyPlugin } from '@mmsim/core';
import { canonicalJson, dropDuplicates } from '../src/index.js';

const plugin = (name: string, options?: unknown): AnyPlugin =>
  ({ name, api: '^1.0.0', apply() {}, ...(options !== undefined ? { options } : {}) }) as unknown as AnyPlugin;

describe('dropDuplicates', () => {
  it("keeps the first of two same-named plugins with equal options (a preset's before a policy's)", () => {
    const a = plugin('p', { x: 1, y: [1, 2] });
    const b = plugin('p', { y: [1, 2], x: 1 });
    const other = plugin('q', { x: 1 });
    const r = dropDuplicates(
      [{ plugin: a, source: 'A' }],
      [
        { plugin: other, source: 'Q' },
        { plugin: b, source: 'B' },
      ],
    );
    expect(r.preset).toEqual([a]);
    expect(r.policies).toEqual([other]);
    expect(r.duplicates.map((d) => [d.name, d.first.source, d.second.source, d.same])).toEqual([['p', 'A', 'B', true]]);
  });

  it('different options are a conflict (both kept, for the caller to reject)', () => {
    const r = dropDuplicates(
      [],
      [
        { plugin: plugin('p', { x: 1 }), source: 'A' },
        { plugin: plugin('p', { x: 2 }), source: 'B' },
      ],
    );
    expect(r.policies).toHaveLength(2);
    expect(r.duplicates[0]!.same).toBe(false);
    expect(r.duplicates[0]!.detail).toBe(
      `plugin "p" is composed twice with different options: {"x":1} from A and {"x":2} from B (name it once; a preset's plugins take their options from kernelOptions)`,
    );
  });

  it('a plugin without an options property is compared by the options its source asked for', () => {
    const same = dropDuplicates(
      [],
      [
        { plugin: plugin('p'), source: 'A' },
        { plugin: plugin('p'), source: 'B', options: {} },
      ],
    );
    expect(same.duplicates.map((d) => d.same)).toEqual([true]);
    const differ = dropDuplicates(
      [],
      [
        { plugin: plugin('p'), source: 'A', options: { k: 1 } },
        { plugin: plugin('p'), source: 'B', options: { k: 2 } },
      ],
    );
    expect(differ.duplicates.map((d) => d.same)).toEqual([false]);
  });

  it('canonicalJson sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: { d: 1, c: 2 }, a: [3, 1] })).toBe('{"a":[3,1],"b":{"c":2,"d":1}}');
  });
});
