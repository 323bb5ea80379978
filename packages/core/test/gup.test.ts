import { describe, expect, it } from 'vitest';
import {
  createSystem,
  definePlugin,
  FlatHardware,
  GUP_PIN_COUNTING_BIAS,
  mmapAnon,
  munmap,
  pinUserPages,
  readPin,
  unpinUserPages,
  userAccess,
  PG,
  type MmPlugin,
} from '../src/index.js';
import { ctr, ctrs, mem, run } from './helpers.js';

/** The v5.8 do_wp_page rule: reuse when mapped once, whatever the refcount says. */
const v58: MmPlugin = definePlugin({
  name: 'wp-v5.8',
  api: '^1.0.0',
  apply(ctx) {
    ctx.hooks.fault.wpReuse.tap('wp-v5.8', (vmf) => (vmf.page.mapcount === 1 ? 'reuse' : undefined));
  },
});

/** The CVE-2020-29374 fixes: unshare on R/O pins of shared pages, copy maybe-pinned pages at fork. */
const pinSafe: MmPlugin = definePlugin({
  name: 'pin-safe',
  api: '^1.0.0',
  apply(ctx) {
    ctx.hooks.fault.gupUnshare.tap('pin-safe', () => true);
    ctx.hooks.fork.page.tap('pin-safe', (f) => (f.page.exclusive && f.folio.maybePinned ? 'copy' : undefined));
  },
});

describe('GUP pins (FOLL_PIN)', () => {
  it('a pin adds GUP_PIN_COUNTING_BIAS (1024) to a small folio; unpin takes it back', () => {
    const sys = createSystem({ hardware: new FlatHardware(1) });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 2, 'b');
    userAccess(k, p.main, vma.start, true, 5);
    k.lruAddDrain(0);
    const pfn = k.translate(p.mm, vma.start, false);
    expect(GUP_PIN_COUNTING_BIAS).toBe(1024);
    const pin = pinUserPages(k, p.mm, vma.start, vma.start + 1, false, true, 'x');
    expect(pin.pfns).toEqual([pfn]);
    expect(k.f.ref[pfn]).toBe(1 + 1024);
    expect(k.f.pincount[pfn]).toBe(1);
    expect(k.f.maybeDmaPinned(pfn)).toBe(true);
    expect(p.mm.hasPinned).toBe(true);
    const pin2 = pinUserPages(k, p.mm, vma.start, vma.start + 1, true, false, 'y');
    expect(k.f.ref[pfn]).toBe(1 + 2048);
    unpinUserPages(k, pin);
    unpinUserPages(k, pin2);
    expect(k.f.ref[pfn]).toBe(1);
    expect(k.f.pincount[pfn]).toBe(0);
    // a write pin of an unpopulated page faults it in writable first
    const pin3 = pinUserPages(k, p.mm, vma.start + 1, vma.start + 2, true, false, 'z');
    expect(pin3.pfns[0]).toBe(k.translate(p.mm, vma.start + 1, true));
    expect(k.f.ref[pin3.pfns[0]!]).toBe(2 + 1024); // mapping + LRU batch + pin
  });

  it('the pin survives munmap: readPin still reads the old value; unpin frees the page', () => {
    const sys = createSystem({ hardware: new FlatHardware(1) });
    const k = sys.kernel;
    const p = k.spawn('p', 0);
    const vma = mmapAnon(k, p.mm, 1, 'b');
    userAccess(k, p.main, vma.start, true, 77);
    const pin = pinUserPages(k, p.mm, vma.start, vma.end, false, true, 'x');
    munmap(k, p.mm, vma.start, vma.end);
    expect(k.nrAnonMapped).toBe(0);
    expect(k.mem.allocatedPages).toBe(1);
    expect(readPin(k, pin)).toEqual([77]);
    expect(k.f.ref[pin.pfns[0]!]).toBe(1024); // munmap drained the batch: only the pin is left
    unpinUserPages(k, pin);
    expect(k.mem.allocatedPages).toBe(0);
  });

  it('a pinned exclusive page is not unmapped by pageout; the owner’s writes stay visible through the pin', () => {
    const r = run({
      name: 'pin-pageout',
      steps: [
        { op: 'spawn', pid: 'p', cpu: 0 },
        { op: 'mmap', pid: 'p', name: 'b', size: '8KiB' },
        { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 5 },
        { op: 'pin', pid: 'p', region: 'b', size: '4KiB', write: false, longterm: true, id: 'x' },
        { op: 'madvise', pid: 'p', region: 'b', advice: 'pageout', phase: 'pageout' },
        { op: 'access', pid: 'p', region: 'b', offset: 0, access: 'write', value: 6, phase: 'write' },
        { op: 'readPin', id: 'x', expect: 6 },
        { op: 'access', pid: 'p', region: 'b', offset: '4KiB', access: 'read', expect: 5, phase: 'read' },
      ],
    });
    expect(ctrs(r, 'read', ['pgfault', 'pswpin'])).toEqual({ pgfault: 1, pswpin: 1 });
    // page 1 goes out, the pinned page 0 stays mapped (folio_try_share_anon_rmap_pte fails)
    expect(ctrs(r, 'pageout', ['pswpout', 'pgsteal', 'reclaim_keep'])).toEqual({
      pswpout: 1,
      pgsteal: 1,
      reclaim_keep: 1,
    });
    // Untapped reclaim.shouldReclaim: the pinned folio still enters the swap cache (as before
    // v5.11's "don't put pinned pages into the swap cache"; later eras tap shouldReclaim), then
    // try_to_unmap() refuses it: it stays mapped, in the swap cache, and both slots are taken.
    expect(mem(r, 'pageout')).toMatchObject({ AnonPages: 4, SwapCached: 4, MemUsed: 4 });
    expect(mem(r, 'pageout').SwapTotal - mem(r, 'pageout').SwapFree).toBe(8);
    expect(ctr(r, 'pageout', 'swap_cache_add')).toBe(2);
    expect(mem(r, 'pageout').processes.p).toMatchObject({ VmSwap: 4, RssAnon: 4 });
    // still mapped writable: the write needs no fault
    expect(ctr(r, 'write', 'pgfault')).toBe(0);
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
  });

  /*
   * CVE-2020-29374 (vmsplice): the child takes a R/O pin on a page it shares with the parent,
   * then unmaps it; the parent's later write must not show through the child's pin.
   */
  const vmsplice = {
    name: 'vmsplice',
    steps: [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
      { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 1 },
      { op: 'fork', pid: 'p', child: 'c' },
      { op: 'pin', pid: 'c', region: 'b', write: false, id: 'splice', phase: 'pin' },
      { op: 'munmap', pid: 'c', region: 'b' },
      { op: 'drain' },
      { op: 'access', pid: 'p', region: 'b', access: 'write', value: 2, phase: 'parent-write' },
      { op: 'readPin', id: 'splice', expect: 1 },
      { op: 'access', pid: 'p', region: 'b', access: 'read', expect: 2 },
    ],
  };

  it('vmsplice under the v5.8 rule with fault.gupUnshare untapped: the parent’s write leaks into the child’s pin', () => {
    const r = run(vmsplice, { policies: [v58] });
    expect(ctrs(r, 'parent-write', ['pgreuse', 'cow_copy'])).toEqual({ pgreuse: 1, cow_copy: 0 });
    expect(r.checks.failed).toBe(1);
    expect(r.checks.failures[0]!.message).toBe('read 2, expected 1');
  });

  it('vmsplice with gupUnshare + fork.page copy: the pin gets the child’s own copy, nothing leaks', () => {
    const r = run(vmsplice, { policies: [pinSafe, v58] });
    expect(ctrs(r, 'pin', ['gup_unshare', 'cow_copy', 'gup_pin'])).toEqual({ gup_unshare: 1, cow_copy: 1, gup_pin: 1 });
    expect(ctrs(r, 'parent-write', ['pgreuse', 'cow_copy'])).toEqual({ pgreuse: 1, cow_copy: 0 });
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
  });

  it('vmsplice under the default v5.9 rule: the pin’s reference alone makes the parent copy', () => {
    const r = run(vmsplice);
    expect(ctrs(r, 'parent-write', ['pgreuse', 'cow_copy'])).toEqual({ pgreuse: 0, cow_copy: 1 });
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
  });

  /* A pin taken before fork: the pinning process must keep seeing its own writes through it. */
  const pinThenFork = {
    name: 'pin-fork',
    steps: [
      { op: 'spawn', pid: 'p', cpu: 0 },
      { op: 'mmap', pid: 'p', name: 'b', size: '4KiB' },
      { op: 'touch', pid: 'p', region: 'b', access: 'write', value: 1 },
      { op: 'pin', pid: 'p', region: 'b', write: false, longterm: true, id: 'dma' },
      { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
      { op: 'access', pid: 'p', region: 'b', access: 'write', value: 2, phase: 'write' },
      { op: 'readPin', id: 'dma', expect: 2 },
      { op: 'access', pid: 'c', region: 'b', access: 'read', expect: 1 },
    ],
  };

  it('fork.page copy for a maybe-pinned exclusive page: the parent keeps it writable and the pin coherent', () => {
    const r = run(pinThenFork, { policies: [pinSafe] });
    expect(ctrs(r, 'fork', ['fork_page_copy', 'fork_pte_copy'])).toEqual({ fork_page_copy: 1, fork_pte_copy: 1 });
    expect(ctrs(r, 'write', ['pgfault', 'cow_copy'])).toEqual({ pgfault: 0, cow_copy: 0 });
    expect(r.checks).toEqual({ passed: 2, failed: 0, failures: [] });
  });

  it('without it the shared pinned page is copied on the parent’s write and the pin goes stale', () => {
    const r = run(pinThenFork);
    expect(ctrs(r, 'fork', ['fork_page_copy', 'fork_pte_copy'])).toEqual({ fork_page_copy: 0, fork_pte_copy: 1 });
    expect(ctrs(r, 'write', ['pgfault', 'cow_copy'])).toEqual({ pgfault: 1, cow_copy: 1 });
    expect(r.checks.failed).toBe(1);
    expect(r.checks.failures[0]!.message).toBe('read 1, expected 2');
  });
});
