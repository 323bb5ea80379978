import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { OP_HANDLERS, OP_NAMES, StepSchema } from '../src/index.js';

/** The op names of the scenario schema's discriminated union (StepSchema is z.lazy(() => union)). */
function schemaOps(): string[] {
  const union = (StepSchema as unknown as z.ZodLazy<z.ZodDiscriminatedUnion<z.ZodObject[]>>).unwrap();
  return union.options.map((o) => {
    const lit = o.shape.op as z.ZodLiteral<string>;
    return lit.value;
  });
}

describe('op executor', () => {
  it('has a handler for every op of the scenario schema, and no other', () => {
    const ops = schemaOps();
    expect(ops.length).toBeGreaterThan(15);
    expect(Object.keys(OP_HANDLERS).sort()).toEqual([...ops].sort());
    for (const op of ops) expect(typeof (OP_HANDLERS as Record<string, unknown>)[op]).toBe('function');
  });

  it('OP_NAMES lists the same ops', () => {
    expect([...OP_NAMES].sort()).toEqual(schemaOps().sort());
  });
});
