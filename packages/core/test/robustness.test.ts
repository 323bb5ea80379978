import { describe, expect, it } from 'vitest';
import { run } from './helpers.js';

describe('robustness: no silent wrong results', () => {
  it('access with an offset beyond its region is an error naming the step and "offset"', () => {
    const sc = (offset: string) => ({
      name: 'off',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'a', size: '16KiB' },
        { op: 'mmap', pid: 'p', name: 'b', size: '16KiB' },
        { op: 'access', pid: 'p', region: 'a', offset, access: 'write', value: 7 },
      ],
    });
    expect(() => run(sc('16KiB'))).toThrow(/steps\[3\] field "offset": .*beyond the region "a" \(16384 bytes\)/);
    expect(() => run(sc('1MiB'))).toThrow(/steps\[3\] field "offset"/);
    // b mapped first: a lies just below it, so a[16KiB] was b's first page
    const below = sc('16KiB');
    below.steps = [below.steps[0]!, below.steps[2]!, below.steps[1]!, below.steps[3]!];
    expect(() => run(below)).toThrow(/steps\[3\] field "offset"/);
    // the last byte is still fine
    expect(() => run(sc('16383'))).not.toThrow();
  });
});
