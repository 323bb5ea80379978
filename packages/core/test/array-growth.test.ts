import { describe, expect, it } from 'vitest';
import {
  createSystem,
  FlatHardware,
  forkProcess,
  madvise,
  mmapAnon,
  munmap,
  userAccess,
  type Kernel,
} from '../src/index.js';
import { grown, nextCapacity } from '../src/mem/typed.js';

/** The copy grown() replaces: the whole used prefix, then the fill. */
function reference<T extends Int32Array | Uint32Array | Uint16Array | Uint8Array | Float64Array>(
  a: T,
  cap: number,
  used: number,
  fill?: number,
): T {
  const n = new (a.constructor as { new (n: number): T })(cap);
  const end = Math.min(used, a.length, cap);
  n.set(a.subarray(0, end));
  if (fill !== undefined) n.fill(fill, end);
  return n;
}

function bytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe('array growth (mem/typed.ts)', () => {
  it('grown() copies exactly what a whole copy does: zero blocks skipped, -0 kept, used prefix only', () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const kinds = [Int32Array, Uint32Array, Uint16Array, Uint8Array, Float64Array] as const;
    for (const K of kinds) {
      for (const len of [0, 1, 1000, 5000, 20000]) {
        const a = new K(len);
        // runs of zeros longer and shorter than a 4 KiB block, single values, -0
        for (let i = 0; i < len; ) {
          const run = rnd() % 3000;
          if (rnd() % 2 === 0) for (let j = i; j < Math.min(len, i + run); j++) a[j] = rnd() % 5 === 0 ? rnd() : 0;
          i += run + 1;
        }
        if (a instanceof Float64Array && len > 0) a[rnd() % len] = -0;
        for (const used of [0, Math.floor(len / 3), len, len + 10]) {
          const cap = len * 2 + 100;
          for (const fill of [undefined, -1]) {
            const got = grown(a, cap, used, fill);
            expect(got.constructor).toBe(K);
            expect(got.length).toBe(cap);
            expect(Buffer.compare(bytes(got), bytes(reference(a, cap, used, fill)))).toBe(0);
          }
        }
      }
    }
  });

  it('nextCapacity() doubles from the floor, clips to the limit when that suffices, aligns', () => {
    expect(nextCapacity(0, 1, 1024, 512)).toBe(1024);
    expect(nextCapacity(1024, 1025, 1024, 512)).toBe(2048);
    expect(nextCapacity(1024, 9000, 1024, 512)).toBe(16384);
    expect(nextCapacity(1024, 9000, 1024, 512, 10240)).toBe(10240);
    expect(nextCapacity(1024, 9000, 1024, 512, 9100)).toBe(9216);
    expect(nextCapacity(1024, 20000, 1024, 512, 10240)).toBe(32768);
    expect(nextCapacity(64, 65, 64, 1)).toBe(128);
  });
});

/** A workload with several growths of the frame and table arrays, COW, frees and swap. */
function workload(k: Kernel): void {
  const p = k.spawn('p', 0);
  const a = mmapAnon(k, p.mm, 5000, 'a');
  for (let v = a.start; v < a.end; v++) userAccess(k, p.main, v, true, v * 3 + 1);
  const c = forkProcess(k, p, 'c', 0);
  for (let v = a.start; v < a.end; v += 3) userAccess(k, c.main, v, true, v ^ 0x55);
  munmap(k, p.mm, a.start + 1000, a.start + 2000);
  madvise(k, c.mm, a.start + 3000, a.start + 3500, 'pageout');
  const b = mmapAnon(k, c.mm, 3000, 'b');
  for (let v = b.start; v < b.end; v += 2) userAccess(k, c.main, v, true, v);
  for (let v = a.start + 3000; v < a.start + 3500; v++) userAccess(k, c.main, v, false, 0);
}

function state(k: Kernel) {
  const span = k.mem.pfnSpan;
  const f = k.f;
  const frames = [f.ref, f.mapcount, f.largeMapcount, f.entireMapcount, f.pincount, f.flags, f.order, f.data, f.swap];
  const tables = k.pt.span;
  return {
    span,
    frames: frames.map((x) => Array.from(x.subarray(0, span))),
    anonVma: Array.from(f.anonVma.subarray(0, span)),
    index: Array.from(f.index.subarray(0, span)),
    tables,
    val: Array.from(k.pt.val.subarray(0, tables * 512)),
    fl: Array.from(k.pt.fl.subarray(0, tables * 512)),
    level: Array.from(k.pt.level.subarray(0, tables)),
    refcount: Array.from(k.pt.refcount.subarray(0, tables)),
    used: Array.from(k.pt.used.subarray(0, tables)),
    allocated: k.mem.allocatedPages,
  };
}

describe('frame arrays: reserved up front vs grown', () => {
  it('a bounded memory reserves its frames at boot (arrays never replaced), with the same state as growing', () => {
    const bounded = createSystem({ hardware: new FlatHardware(2), config: { memoryPages: 60000 } }).kernel;
    const unbounded = createSystem({ hardware: new FlatHardware(2) }).kernel;
    const arrays = [bounded.f.ref, bounded.f.data, bounded.f.swap, bounded.f.index];
    const cap0 = bounded.f.capacity;
    expect(cap0).toBeGreaterThanOrEqual(60000);
    const unboundedCap0 = unbounded.f.capacity;
    workload(bounded);
    workload(unbounded);
    expect(bounded.f.capacity).toBe(cap0);
    expect(arrays.every((x, i) => x === [bounded.f.ref, bounded.f.data, bounded.f.swap, bounded.f.index][i])).toBe(
      true,
    );
    expect(unbounded.f.capacity).toBeGreaterThan(unboundedCap0);
    expect(unbounded.mem.pfnSpan).toBeGreaterThan(8192);
    expect(state(bounded)).toEqual(state(unbounded));
  });
});

describe('page-table pool: fork reserves its tables before copying', () => {
  it('the pool grows once, before the copy; the tables and their ids are what growing mid-copy gives', () => {
    const run = (reserve: boolean) => {
      const k = createSystem({ hardware: new FlatHardware(2) }).kernel;
      if (!reserve) k.pt.reserve = () => {};
      const p = k.spawn('p', 0);
      const vma = mmapAnon(k, p.mm, 512 * 100, 'buf'); // 100 PTE tables
      for (let v = vma.start; v < vma.end; v++) userAccess(k, p.main, v, true, v & 0xffff);
      const before = k.pt.capacity;
      forkProcess(k, p, 'c', 0);
      return { k, before, tables: k.pt.span };
    };
    const a = run(true);
    const b = run(false);
    // the child's copy of the parent's 100 PTE tables does not fit in the room left: the pool grows
    expect(a.before).toBeLessThan(a.tables);
    expect(a.k.pt.capacity).toBeGreaterThanOrEqual(a.tables);
    expect(state(a.k)).toEqual(state(b.k));
    expect(a.k.stats.snapshot()).toEqual(b.k.stats.snapshot());
  });

  it('reserve(n) leaves room for n more tables, counting the freed ids it will reuse first', () => {
    const k = createSystem({ hardware: new FlatHardware(2) }).kernel;
    const pool = k.pt;
    pool.reserve(1000);
    const cap = pool.capacity;
    expect(cap).toBeGreaterThanOrEqual(pool.span + 1000);
    const ids = Array.from({ length: 1000 }, () => pool.alloc(3, 0));
    expect(pool.capacity).toBe(cap);
    for (const id of ids.slice(0, 10)) pool.free(id);
    const span = pool.span;
    pool.reserve(10); // the ten freed ids are enough
    expect(pool.capacity).toBe(cap);
    expect(pool.span).toBe(span);
  });
});

describe('mmap makes room for its pages (unbounded memory)', () => {
  it('touching the whole mapping never replaces the frame or PTE arrays; the state is what growing gives', () => {
    const run = (hint: boolean) => {
      const k = createSystem({ hardware: new FlatHardware(2) }).kernel;
      if (!hint) {
        k.mem.reserveFor = () => {};
        k.pt.reserve = () => {};
      }
      const p = k.spawn('p', 0);
      const vma = mmapAnon(k, p.mm, 512 * 40 + 7, 'buf');
      const arrays = [k.f.ref, k.f.index, k.pt.val, k.pt.fl];
      for (let v = vma.start; v < vma.end; v++) userAccess(k, p.main, v, true, v & 0xffff);
      const same = arrays.every((x, i) => x === [k.f.ref, k.f.index, k.pt.val, k.pt.fl][i]);
      return { k, same };
    };
    const a = run(true);
    const b = run(false);
    expect(a.same).toBe(true);
    expect(b.same).toBe(false); // without the room, the touch grows them
    expect(state(a.k)).toEqual(state(b.k));
    expect(a.k.stats.snapshot()).toEqual(b.k.stats.snapshot());
  });
});
