import { describe, expect, it } from 'vitest';
import { AsidAllocator, type AsidContext } from '../src/index.js';
import { region, rig, touch } from './helpers.js';

const ctx = (n: number): AsidContext => ({ id: 0, touched: new Uint8Array(n) });

describe('ASIDs (context.c)', () => {
  it('hands out ASIDs from 1 and keeps them across switches', () => {
    const a = new AsidAllocator(16, 4);
    const x = ctx(4);
    const y = ctx(4);
    a.switchTo(x, 0);
    a.switchTo(y, 1);
    expect(a.asidOf(x.id)).toBe(1);
    expect(a.asidOf(y.id)).toBe(2);
    a.switchTo(x, 1);
    expect(a.asidOf(x.id)).toBe(1);
    expect(a.rollovers).toBe(0);
  });

  it('rolls the generation over, keeps the running ASIDs reserved and queues local flushes', () => {
    const a = new AsidAllocator(3, 2); // ASIDs 1..7
    const running = ctx(2);
    a.switchTo(running, 1);
    const others = Array.from({ length: 7 }, () => ctx(2));
    for (const o of others) a.switchTo(o, 0);
    expect(a.rollovers).toBe(1);
    // the mm still running on cpu 1 keeps its ASID in the new generation
    const before = a.asidOf(running.id);
    expect(a.switchTo(running, 1)).toBe(true); // cpu 1's pending local flush
    expect(a.asidOf(running.id)).toBe(before);
    expect(a.switchTo(running, 1)).toBe(false);
  });

  it('a system with 3-bit ASIDs stays coherent through rollovers', () => {
    const r = rig({ asidBits: 3 }, 0);
    const procs = Array.from({ length: 12 }, (_, i) => r.k.spawn(`p${i}`, 0));
    const vmas = procs.map((p) => region(r, p, 4));
    for (let round = 0; round < 3; round++) {
      procs.forEach((p, i) => touch(r, p, vmas[i]!.start, 4, round === 0, 1, i + 1));
    }
    procs.forEach((p, i) => {
      touch(r, p, vmas[i]!.start, 1, false);
      expect(r.k.lastValue).toBe(i + 1);
    });
    expect(r.sys.stats.get('asid_rollover')).toBeGreaterThan(0);
    expect(r.sys.stats.get('tlb_local_flush_all')).toBeGreaterThan(0);
  });
});
