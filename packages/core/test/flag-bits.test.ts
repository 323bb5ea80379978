/** Every flag of the typed-array state has a bit of its own (merges of features once gave two flags one bit). */
import { describe, expect, it } from 'vitest';
import { PG, PM, PTE, VM } from '../src/index.js';

describe('flag bits', () => {
  for (const [name, flags, width] of [
    ['VM', VM, 32],
    ['PG', PG, 32],
    ['PTE', PTE, 32],
    ['PM', PM, 32],
  ] as const)
    it(`${name}: one bit each, none shared, all below bit ${width}`, () => {
      const vals = Object.values(flags) as number[];
      for (const v of vals) {
        expect(v & (v - 1), `${name} value ${v} is one bit`).toBe(0);
        expect(v).toBeLessThan(2 ** width);
      }
      expect(new Set(vals).size).toBe(vals.length);
    });
});
