import { describe, expect, it } from 'vitest';
import { createSystem, FlatHardware, OpExecutor, prng, SimError, StepSchema, type Step } from '@mmsim/core';
import { resolvePreset } from '@mmsim/presets';
import { checkInvariants } from '../src/index.js';

const P = 4096;
const REGION_PAGES = 24;

/**
 * Seeded random KSM runs (the fuzzer of `mmsim check` has no KSM steps yet): two processes and
 * their children write values from a small set (so pages merge), fork, exit, pin, mprotect,
 * madvise (mergeable, unmergeable, dontneed, pageout), mremap-free; ksmd scans a few pages at a
 * time, run toggles between 1 and 2. The invariants hold after every step.
 */
function randomRun(kernel: string, seed: number, steps: number): { merged: number; failures: string[] } {
  const { config, plugins } = resolvePreset(kernel);
  const sys = createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: plugins,
    config: { ...config, memoryPages: 1536, ksm: { run: 1, pages_to_scan: 7, use_zero_pages: true } } as never,
  });
  const x = new OpExecutor(sys.kernel, { file: 'random.json', seed });
  const rnd = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const int = (n: number) => Math.floor(rnd() * n);
  const live = new Set<string>();
  const pins = new Set<string>();
  let nextPid = 0;
  let nextPin = 0;
  let merged = 0;
  const failures: string[] = [];
  const exec = (raw: unknown, i: number) => {
    const s = StepSchema.parse(raw) as Step;
    try {
      x.exec(s, `steps[${i}]`);
    } catch (e) {
      // a step the random choice made invalid (a pin of a PROT_NONE page, ...): not the point here
      if (!(e instanceof SimError) || e.code === 'internal') throw e;
    }
    for (const v of checkInvariants(sys.kernel))
      failures.push(`seed ${seed} steps[${i}] ${JSON.stringify(raw)}: [${v.kind}] ${v.message}`);
    merged = Math.max(merged, sys.kernel.ksm?.pagesSharing ?? 0);
  };
  const spawn = (i: number) => {
    const pid = `p${nextPid++}`;
    exec({ op: 'spawn', pid, cpu: int(2) }, i);
    exec({ op: 'mmap', pid, name: 'a', size: REGION_PAGES * P }, i);
    live.add(pid);
  };
  spawn(-2);
  spawn(-1);
  for (let i = 0; i < steps && failures.length === 0; i++) {
    if (live.size === 0) spawn(i);
    const pid = pick([...live]);
    const off = int(REGION_PAGES) * P;
    const size = (1 + int(Math.min(6, REGION_PAGES - off / P))) * P;
    const r = rnd();
    if (r < 0.3)
      exec({ op: 'touch', pid, region: 'a', offset: off, size, access: 'write', value: pick([0, 7, 7, 9]) }, i);
    else if (r < 0.38) exec({ op: 'touch', pid, region: 'a', offset: off, size, access: 'read' }, i);
    else if (r < 0.55) exec({ op: 'ksmd', pages: 1 + int(12) }, i);
    else if (r < 0.62) exec({ op: 'madvise', pid, region: 'a', offset: off, size, advice: 'mergeable' }, i);
    else if (r < 0.66) exec({ op: 'madvise', pid, region: 'a', offset: off, size, advice: 'unmergeable' }, i);
    else if (r < 0.7)
      exec({ op: 'madvise', pid, region: 'a', offset: off, size, advice: pick(['dontneed', 'pageout']) }, i);
    else if (r < 0.75 && live.size < 5) {
      const child = `p${nextPid++}`;
      exec({ op: 'fork', pid, child }, i);
      live.add(child);
    } else if (r < 0.78 && live.size > 1) {
      for (const id of [...pins])
        if (id.startsWith(`${pid}:`)) {
          exec({ op: 'unpin', id }, i);
          pins.delete(id);
        }
      exec({ op: 'exit', pid }, i);
      live.delete(pid);
    } else if (r < 0.82) {
      const id = `${pid}:${nextPin++}`;
      exec({ op: 'mprotect', pid, region: 'a', offset: off, size, prot: 'rw' }, i);
      exec({ op: 'pin', pid, region: 'a', offset: off, size: P, write: rnd() < 0.5, id }, i);
      if (x.pins.has(id)) pins.add(id);
    } else if (r < 0.86 && pins.size > 0) {
      const id = pick([...pins]);
      exec({ op: 'unpin', id }, i);
      pins.delete(id);
    } else if (r < 0.9)
      exec({ op: 'mprotect', pid, region: 'a', offset: off, size, prot: pick(['r', 'rw', 'none']) }, i);
    else if (r < 0.92) exec({ op: 'ksm', run: pick([1, 1, 2]) }, i);
    else if (r < 0.94) exec({ op: 'ksm', run: 1 }, i);
    else if (r < 0.97)
      exec({ op: 'access', pid, region: 'a', offset: off, access: 'write', value: pick([7, 9, 11]) }, i);
    else exec({ op: 'drain' }, i);
  }
  return { merged, failures };
}

describe('KSM: seeded random runs keep the invariants after every step', () => {
  it.each(['linux-5.8', 'linux-5.19', 'linux-6.18'])('%s: 12 seeds x 250 steps', (kernel) => {
    let merged = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const r = randomRun(kernel, seed, 250);
      expect(r.failures).toEqual([]);
      merged += r.merged;
    }
    expect(merged).toBeGreaterThan(0); // the runs did merge pages
  });
});
