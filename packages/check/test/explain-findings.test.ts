import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkComposition, formatCheckResult } from '../src/index.js';
import alwaysReuse from './fixtures/always-reuse.js';

const FIX = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));

describe('mmsim check: a finding carries the decision records of the shrunk run (--explain)', () => {
  const policy = { ref: `file:${FIX('always-reuse.ts')}`, create: () => alwaysReuse() };

  it('the wrong reuse is recorded with its tap and the references that should have forced a copy', () => {
    const r = checkComposition({ kernel: 'linux-6.18', policies: [policy], runs: 50, seed: 1, maxSteps: 40 });
    const v = r.violations[0]!;
    const last = v.explained!.at(-1)!;
    expect(last).toMatchObject({ step: 'steps[4]', hook: 'fault.wpReuse', answer: 'reuse', tap: 'always-reuse' });
    // the folio is mapped by both processes after fork (and still in cpu 0's lru_add batch)
    expect(last.holders).toMatchObject({ refcount: 3, mapped: 2, lruBatch: 1, swapcache: 0, pinned: 0, other: 0 });
    expect(last.holders.lruBatches).toEqual([{ cpu: 0, kind: 'add', refs: 1 }]);
    // per process: the parent and the forked child map it once each
    expect({ ...last.mappedBy }).toEqual({ p0: 1, p1: 1 });
    const text = formatCheckResult(r).split('\n');
    const i = text.indexOf('    write-fault decisions of the shrunk run (last ones, --explain):');
    expect(i).toBeGreaterThan(0);
    expect(text.at(i + v.explained!.length)).toBe(
      `      steps[4] cpu${last.cpu} ${last.pid} ${last.addr}: fault.wpReuse → reuse (by always-reuse), refcount 3 = 2 mapped + 1 lru_batch(cpu0 add)`,
    );
  });
});
