import { describe, expect, test } from 'vitest';
import { forceswap } from './helpers.js';

/** Seed 000 (Nadav Amit, "mm: unnecessary COW phenomenon"): KVM guest on Haswell. */
const SEED = { v58: { cycles: 1606, remotePer100k: 300_000 }, mainline: { cycles: 10_534, remotePer100k: 399_935 } };
const ROUNDS = 2000;

function remotePerRound(r: ReturnType<typeof forceswap>): number {
  // steady state: the repeat's phases, minus the first round (no batched flush pending yet)
  let n = 0;
  for (const ph of ['pageout', 'read', 'write']) n += r.phases[ph]?.counters.nr_tlb_remote_flush ?? 0;
  return n;
}

describe('forceswap (seed 000)', () => {
  test('v5.8 rule (reuse on mapcount 1): 3 remote flushes per round in steady state', () => {
    const r = forceswap({ threads: 2, rounds: ROUNDS, v58: true });
    expect(remotePerRound(r)).toBe(3 * ROUNDS - 1);
    expect(r.phases.write!.counters.nr_tlb_remote_flush ?? 0).toBe(0);
    expect(r.phases.write!.counters.pgreuse).toBe(ROUNDS);
  });

  test('default v5.9 rule (refcount 1): the copy adds a 4th remote flush', () => {
    const r = forceswap({ threads: 2, rounds: ROUNDS, v58: false });
    expect(remotePerRound(r)).toBe(4 * ROUNDS - 1);
    expect(r.phases.write!.counters.nr_tlb_remote_flush).toBe(ROUNDS);
    expect(r.phases.write!.counters.cow_copy).toBe(ROUNDS);
  });

  test('one thread: no remote flushes at all', () => {
    for (const v58 of [true, false]) {
      const r = forceswap({ threads: 1, rounds: 200, v58 });
      expect(r.total.counters.nr_tlb_remote_flush ?? 0).toBe(0);
      expect(r.total.counters.ipi_sent ?? 0).toBe(0);
    }
  });

  test('cycles per timed write against the seed (kvm-guest, ±25%)', () => {
    const rows: string[] = [];
    const per: Record<string, number> = {};
    for (const profile of ['kvm-guest', 'bare-metal'] as const) {
      for (const v58 of [true, false]) {
        const r = forceswap({ threads: 2, rounds: ROUNDS, v58, profile });
        const c = r.phases.write!.cycles / ROUNDS;
        const key = `${profile} ${v58 ? 'v5.8' : 'v5.9+'}`;
        per[key] = c;
        const seed = v58 ? SEED.v58.cycles : SEED.mainline.cycles;
        const remote = (remotePerRound(r) / ROUNDS) * 100_000;
        rows.push(
          `${key.padEnd(20)} ${c.toFixed(0).padStart(6)} cycles/write` +
            (profile === 'kvm-guest' ? ` (seed ${seed}, ${(((c - seed) / seed) * 100).toFixed(1)}%)` : '') +
            `, nr_tlb_remote_flush per 100k rounds ${remote.toFixed(0)}`,
        );
      }
    }
    console.log(`forceswap, ${ROUNDS} rounds, 2 threads:\n${rows.join('\n')}`);
    expect(Math.abs(per['kvm-guest v5.8']! / SEED.v58.cycles - 1)).toBeLessThanOrEqual(0.25);
    expect(Math.abs(per['kvm-guest v5.9+']! / SEED.mainline.cycles - 1)).toBeLessThanOrEqual(0.25);
    // the IPI is what makes the copy expensive in a guest
    expect(per['kvm-guest v5.9+']! / per['kvm-guest v5.8']!).toBeGreaterThan(
      per['bare-metal v5.9+']! / per['bare-metal v5.8']!,
    );
  });
});
