import { describe, expect, it } from 'vitest';
import {
  createSystem,
  FlatHardware,
  forkProcess,
  mmapAnon,
  exitMmap,
  madvise,
  pinUserPages,
  userAccess,
  GUP_PIN_COUNTING_BIAS,
  describeHolders,
  refHolders,
} from '@mmsim/core';
import { resolvePreset } from '@mmsim/presets';
import { checkInvariants } from '../src/index.js';

function system(kernel = 'linux-6.18') {
  const { config, plugins } = resolvePreset(kernel);
  return createSystem({
    hardware: new FlatHardware(2),
    presetPlugins: plugins,
    config: { ...config, swap: { slots: 256, synchronousIo: false } } as never,
  });
}

/** A busy state: two processes sharing pages after fork, one page swapped out, one pinned. */
function busy() {
  const sys = system();
  const k = sys.kernel;
  const p = k.spawn('p', 0);
  const v = mmapAnon(k, p.mm, 8, 'a');
  for (let i = 0; i < 8; i++) userAccess(k, p.main, v.start + i, true, 100 + i);
  const pin = pinUserPages(k, p.mm, v.start, v.start + 1, true, true, 'x');
  const c = forkProcess(k, p, 'c', 1);
  userAccess(k, c.main, v.start + 2, true, 7);
  k.runOn(p.main);
  madvise(k, p.mm, v.start + 2, v.start + 3, 'pageout');
  if (k.swap.used !== 1) throw new Error('setup: the page-out did not happen');
  return { sys, k, p, c, v, pin };
}

describe('invariants', () => {
  it('hold on a busy but correct state', () => {
    const { k } = busy();
    expect(checkInvariants(k)).toEqual([]);
  });

  it('hold once everything exited, and see no leak', () => {
    const { k, p, c } = busy();
    exitMmap(k, c.mm);
    c.alive = false;
    exitMmap(k, p.mm);
    p.alive = false;
    // the pin outlives the process: its page is still allocated, legitimately
    expect(checkInvariants(k)).toEqual([]);
  });

  it('catch a refcount leak', () => {
    const { k, v, p } = busy();
    const pfn = k.pt.val[k.pteTable(p.mm, v.start + 3) * 512 + ((v.start + 3) & 511)]!;
    k.f.ref[pfn]!++;
    const vs = checkInvariants(k);
    expect(vs.map((x) => x.kind)).toContain('refcount');
    expect(vs[0]!.message).toMatch(/refcount \d+, expected \d+ = \d+ PTE/);
    // the decomposition by holder (what --explain reports) names the untracked reference
    const h = refHolders(k, k.f.head(pfn));
    expect(h.other).toBe(1);
    expect(vs[0]!.message).toContain(`(by holder: ${describeHolders(h)})`);
    expect(describeHolders(h)).toMatch(/ \+ 1 other$/);
  });

  it('catch a wrong mapcount, RSS and AnonPages', () => {
    const { k, p, v } = busy();
    const pfn = k.pt.val[k.pteTable(p.mm, v.start + 4) * 512 + ((v.start + 4) & 511)]!;
    k.f.mapcount[pfn]!++;
    p.mm.rssAnon--;
    k.nrAnonMapped++;
    const kinds = checkInvariants(k).map((x) => x.kind);
    expect(kinds).toEqual(expect.arrayContaining(['mapcount', 'rss']));
  });

  it('catch a shared page mapped writable (PageAnonExclusive)', () => {
    const { k, p, v } = busy();
    const t = k.pteTable(p.mm, v.start + 7);
    k.pt.fl[t * 512 + ((v.start + 7) & 511)]! |= 2; // PTE.write on a page the child shares
    expect(checkInvariants(k).map((x) => x.kind)).toContain('exclusive');
  });

  it('catch page-table and swap accounting errors', () => {
    const { k, p } = busy();
    p.mm.pgtablesBytes += 4096;
    k.swap.count[0]!++;
    const kinds = checkInvariants(k).map((x) => x.kind);
    expect(kinds).toEqual(expect.arrayContaining(['pagetables', 'swap']));
  });

  it('catch a pin count that does not match the live pins', () => {
    const { k, pin } = busy();
    expect(checkInvariants(k, { pinnedPfns: pin.pfns })).toEqual([]);
    expect(checkInvariants(k, { pinnedPfns: [] }).map((x) => x.kind)).toContain('pin');
    expect(k.f.ref[pin.pfns[0]!]).toBeGreaterThanOrEqual(GUP_PIN_COUNTING_BIAS);
  });

  it('catch a frame leaked after every process exited', () => {
    const { k, p, c, v } = busy();
    const pfn = k.pt.val[k.pteTable(p.mm, v.start + 6) * 512 + ((v.start + 6) & 511)]!;
    exitMmap(k, c.mm);
    c.alive = false;
    k.f.ref[pfn]!++; // an extra reference nobody will drop
    exitMmap(k, p.mm);
    p.alive = false;
    expect(checkInvariants(k).map((x) => x.kind)).toContain('leak');
  });
});
