import { describe, expect, it } from 'vitest';
import type { Step } from '@mmsim/core';
import { Concretizer } from '../src/fuzz/concretize.js';
import { drive, P } from './helpers.js';

/** A driver with p0 and a 4-page region `a`, plus `steps`; a Concretizer on it. */
function setup(...steps: Step[]) {
  const { d, violation } = drive([
    { op: 'spawn', pid: 'p0', cpu: 0 },
    { op: 'mmap', pid: 'p0', name: 'a', size: 4 * P },
    ...steps,
  ]);
  expect(violation).toBeNull();
  return { d, cz: new Concretizer(d, 2) };
}
const copy = (wp: boolean, off = 0, len = 4) => ({ t: 'uffdCopy' as const, p: 0, r: 0, off, len, wp });

describe('fuzzer: UFFDIO_COPY only on ranges userfaultfd covers (mfill_atomic: ENOENT / EINVAL otherwise)', () => {
  it('no copy on a region never registered', () => {
    const { cz } = setup();
    expect(cz.step(copy(false))).toBeNull();
    expect(cz.step(copy(true))).toBeNull();
  });

  it('a copy over a partly registered region is cut at the end of the registered VMA, and the kernel takes it', () => {
    const { d, cz } = setup({ op: 'uffdRegister', pid: 'p0', region: 'a', size: 2 * P, mode: 'missing' });
    const s = cz.step(copy(false));
    expect(s).toEqual({ op: 'uffdCopy', pid: 'p0', region: 'a', offset: 0, size: 2 * P, value: 0x1001 });
    expect(d.exec(s!)).toEqual([]);
    // starting in the unregistered part: nothing to copy
    expect(cz.step(copy(false, 2))).toBeNull();
  });

  it('a wp copy only where the range is registered in wp mode', () => {
    const missing = setup({ op: 'uffdRegister', pid: 'p0', region: 'a', mode: 'missing' });
    expect(missing.cz.step(copy(true))).toBeNull();
    expect(missing.cz.step(copy(false))).toMatchObject({ op: 'uffdCopy', size: 4 * P });
    const wp = setup({ op: 'uffdRegister', pid: 'p0', region: 'a', mode: 'wp' });
    const s = wp.cz.step(copy(true, 1, 2));
    expect(s).toEqual({ op: 'uffdCopy', pid: 'p0', region: 'a', offset: P, size: 2 * P, wp: true, value: 0x1001 });
    expect(wp.d.exec(s!)).toEqual([]);
  });
});
