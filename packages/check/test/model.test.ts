import { describe, expect, it } from 'vitest';
import { ReferenceModel } from '../src/index.js';

describe('reference model', () => {
  it('fork copies, writes stay private, exit drops', () => {
    const m = new ReferenceModel();
    m.spawn('p');
    m.mmap('p', 100, 4);
    m.write('p', 100, 1);
    m.fork('p', 'c');
    m.write('c', 100, 2);
    expect(m.read('p', 100)).toBe(1);
    expect(m.read('c', 100)).toBe(2);
    m.exit('c');
    expect(m.procs.has('c')).toBe(false);
  });

  it('dontfork pages are not in the child, wipeonfork pages are empty there', () => {
    const m = new ReferenceModel();
    m.spawn('p');
    m.mmap('p', 0, 3);
    for (const v of [0, 1, 2]) m.write('p', v, 10 + v);
    m.setAttrs('p', 0, 1, (a) => (a.dontfork = true));
    m.setAttrs('p', 1, 2, (a) => (a.wipeonfork = true));
    m.fork('p', 'c');
    expect(m.attrs('c', 0)).toBeUndefined();
    expect(m.read('c', 1)).toBe(0);
    expect(m.read('c', 2)).toBe(12);
  });

  it('munmap / dontneed reset to 0, mremap moves values and pin bindings', () => {
    const m = new ReferenceModel();
    m.spawn('p');
    m.mmap('p', 0, 4);
    m.write('p', 0, 5);
    m.write('p', 1, 6);
    m.pin('x', 'p', 1, 2, true);
    m.mremap('p', 0, 2, 50);
    expect(m.read('p', 50)).toBe(5);
    expect(m.read('p', 0)).toBe(0);
    m.write('p', 51, 7);
    expect(m.pinExpectations('x')).toEqual([{ exact: 7 }]);
    m.dontneed('p', 50, 52);
    expect(m.read('p', 51)).toBe(0);
    m.write('p', 51, 8);
    // unbound by the zap: the pin keeps what the page held
    expect(m.pinExpectations('x')).toEqual([{ exact: 7 }]);
  });

  it('a pin follows its owner, not the other process; a R/O pin after unmap keeps the old value', () => {
    const m = new ReferenceModel();
    m.spawn('p');
    m.mmap('p', 0, 1);
    m.write('p', 0, 100);
    m.fork('p', 'c');
    m.pin('vmsplice', 'c', 0, 1, false);
    m.munmap('c', 0, 1);
    m.write('p', 0, 200);
    expect(m.pinExpectations('vmsplice')).toEqual([{ exact: 100 }]);
    // 200 is the parent's write after the fork: data the child never could see
    expect(m.mayHaveSeen(m.pinLineage('vmsplice', 0), 200)).toBe(false);
    expect(m.mayHaveSeen(m.pinLineage('vmsplice', 0), 100)).toBe(true);
  });

  it('a R/O pin of a never-written page is lenient (it may pin the zero page)', () => {
    const m = new ReferenceModel();
    m.spawn('p');
    m.mmap('p', 0, 1);
    m.pin('z', 'p', 0, 1, false);
    m.write('p', 0, 9);
    expect(m.pinExpectations('z')).toEqual([{ oneOf: [0, 9] }]);
  });
});
