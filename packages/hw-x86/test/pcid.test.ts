import { describe, expect, test } from 'vitest';
import { madvise, mmapAnon, userAccess } from '@mmsim/core';
import { x86System } from './helpers.js';

/** n processes on cpu 0 taking turns touching 4 pages each, `rounds` times. */
function alternate(pcid: boolean, n: number, rounds: number) {
  const sys = x86System({ cpus: 1, pcid });
  const k = sys.kernel;
  const procs = Array.from({ length: n }, (_, i) => k.spawn(`p${i}`, 0));
  const vmas = procs.map((p) => {
    k.runOn(p.main);
    return mmapAnon(k, p.mm, 4, 'buf');
  });
  for (let r = 0; r < rounds; r++) {
    procs.forEach((p, i) => {
      for (let j = 0; j < 4; j++) userAccess(k, p.main, vmas[i]!.start + j, true, r);
    });
  }
  return sys;
}

describe('PCID', () => {
  test('with PCID a switch keeps the other address space: only first switches flush', () => {
    const sys = alternate(true, 2, 10);
    expect(sys.stats.get('context_switch')).toBe(22); // 2 at setup + 2 per round
    expect(sys.stats.get('tlb_switch_flush')).toBe(2);
    expect(sys.stats.get('tlb_miss')).toBe(8); // first touch of each page only
  });

  test('without PCID every switch flushes and every round misses again', () => {
    const sys = alternate(false, 2, 10);
    expect(sys.stats.get('tlb_switch_flush')).toBe(22);
    expect(sys.stats.get('tlb_miss')).toBe(80);
    expect(sys.stats.get('page_walk')).toBe(80);
  });

  test('6 dynamic ASIDs: a 7th mm evicts one round-robin, which then needs a flush', () => {
    const six = alternate(true, 6, 5);
    expect(six.stats.get('tlb_switch_flush')).toBe(6);
    const seven = alternate(true, 7, 5);
    expect(seven.stats.get('tlb_switch_flush')).toBe(42); // every switch finds its slot taken
  });

  test('switching back to an mm flushed meanwhile (stale tlb_gen) flushes its ASID', () => {
    const sys = x86System({ cpus: 2 });
    const k = sys.kernel;
    const a = k.spawn('a', 0);
    const b = k.spawn('b', 0);
    k.runOn(a.main);
    const va = mmapAnon(k, a.mm, 1, 'x');
    userAccess(k, a.main, va.start, true, 7);
    k.runOn(b.main);
    const vb = mmapAnon(k, b.mm, 1, 'y');
    userAccess(k, b.main, vb.start, true, 1); // a's entries stay cached on cpu 0 under its ASID
    const a1 = k.addThread(a, 1, false);
    k.runOn(a1);
    // a's page is zapped from cpu 1; cpu 0 is not in a's mm_cpumask: no IPI
    madvise(k, a.mm, va.start, va.end, 'dontneed');
    expect(sys.stats.get('ipi_sent')).toBe(0);
    const before = sys.stats.get('tlb_switch_flush');
    userAccess(k, a.main, va.start, false, 0); // switch back: the ASID's tlb_gen is stale
    expect(sys.stats.get('tlb_switch_flush')).toBe(before + 1);
    expect(k.lastValue).toBe(0);
  });
});
