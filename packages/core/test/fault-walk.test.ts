/**
 * The fault path's fast paths against the reference: userAccess (one MMU walk with constant
 * levels, the PMD table handed to the fault, the VMA lookup cache, ...) and a copy of the
 * access loop as it was before (a loop over the levels, handleMmFault walking from the PGD
 * again) run the same random operations on two systems; every modelled result must be equal.
 */
import { describe, expect, it } from 'vitest';
import {
  AccessResult,
  createSystem,
  definePlugin,
  exitProcess,
  FaultResult,
  FlatHardware,
  forkProcess,
  handleMmFault,
  madvise,
  mmapAnon,
  mprotect,
  munmap,
  PTE,
  SimError,
  tableIndex,
  userAccess,
  type Kernel,
  type MmSystem,
  type Process,
  type Thread,
} from '../src/index.js';

/** userAccess() before the fast paths: a loop over the levels, and a fault that walks again. */
function referenceAccess(k: Kernel, t: Thread, vpn: number, write: boolean, value: number): AccessResult {
  k.runOn(t);
  const mm = t.proc.mm;
  const pt = k.pt;
  const hit = k.hw.tlbLookup(k.cpu, mm, vpn, write);
  if (hit >= 0) {
    if (write) k.f.data[hit] = value;
    else k.lastValue = k.f.data[hit]!;
    return AccessResult.OK;
  }
  for (let tries = 0; tries < 4; tries++) {
    let tbl = mm.pgd;
    let w = PTE.write;
    let fl = 0;
    let k0 = -1;
    let level = 3;
    for (; level >= 0; level--) {
      k0 = pt.slot(tbl, tableIndex(vpn, level));
      fl = pt.fl[k0]!;
      if ((fl & PTE.present) === 0) break;
      w &= fl;
      if ((fl & PTE.table) === 0) break;
      tbl = pt.val[k0]!;
    }
    if ((fl & PTE.present) !== 0 && (fl & PTE.protNone) === 0 && (!write || (w & PTE.write) !== 0)) {
      const span = level * 9;
      const pfn = pt.val[k0]! + (span === 0 ? 0 : vpn & ((1 << span) - 1));
      if (
        level === 0 &&
        k.hw.managesAccessFlags === false &&
        ((fl & PTE.young) === 0 || (write && (fl & PTE.dirty) === 0))
      ) {
        handleMmFault(k, mm, vpn, write, false);
        continue;
      }
      pt.fl[k0] = fl | PTE.young | (write ? PTE.dirty : 0);
      k.hw.tlbFill(k.cpu, mm, vpn, pfn, (w & PTE.write) !== 0 && (fl & PTE.write) !== 0, 12 + span, k0);
      if (write) k.f.data[pfn] = value;
      else k.lastValue = k.f.data[pfn]!;
      return AccessResult.OK;
    }
    const r = handleMmFault(k, mm, vpn, write, false);
    if (r === FaultResult.OK) continue;
    if (r === FaultResult.SEGV) {
      throw new SimError(
        `segmentation fault: ${write ? 'write' : 'read'} at page 0x${vpn.toString(16)} of "${t.proc.pid}"`,
        'segv',
      );
    }
    return AccessResult.BLOCKED;
  }
  throw new SimError('fault loop', 'internal');
}

/** Flat hardware without hardware A/D bits: every first access or write is an access-flag fault. */
class NoAdHardware extends FlatHardware {
  readonly managesAccessFlags = false;
}

type Access = typeof userAccess;

interface Variant {
  /** fault.anonOrders answers these orders (and every call is logged); none: untapped */
  orders?: number;
  /** fault.entered / fault.handled are tapped (logged) */
  notify?: boolean;
  noAd?: boolean;
}

/** A deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bytes = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** Random mmap / access / fork / munmap / mprotect / madvise / exit on one system; returns what it saw. */
function drive(v: Variant, access: Access, seed: number) {
  const log: unknown[] = [];
  const policies = [];
  if (v.orders !== undefined || v.notify) {
    policies.push(
      definePlugin({
        name: 'fault-walk-log',
        api: '^1.0.0',
        apply(ctx) {
          if (v.orders !== undefined) {
            const orders = v.orders;
            ctx.hooks.fault.anonOrders.tap('log', (o, f) => {
              log.push(['anonOrders', o, f.address, f.level, f.entry.present]);
              return o | orders;
            });
          }
          if (v.notify) {
            ctx.hooks.fault.entered.tap('log', (e) => {
              log.push(['entered', e.vpn, e.write]);
            });
            ctx.hooks.fault.handled.tap('log', (e) => {
              log.push(['handled', e.vpn, e.kind, e.order]);
            });
          }
        },
      }),
    );
  }
  const sys: MmSystem = createSystem({
    hardware: v.noAd ? new NoAdHardware(2) : new FlatHardware(2),
    policies,
    config: { swap: { slots: 1 << 14 } },
  });
  const k = sys.kernel;
  const rnd = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const procs: Process[] = [k.spawn('p0', 0)];
  let nextPid = 1;
  let value = 1;
  for (let step = 0; step < 4000; step++) {
    const p = pick(procs);
    const mm = p.mm;
    const x = rnd();
    try {
      if (mm.vmas.length === 0 || x < 0.02) {
        const pages = pick([1, 7, 64, 512, 1024, 1536]);
        const vma = mmapAnon(k, mm, pages, `r${step}`);
        log.push(['mmap', vma.start, vma.end]);
      } else if (x < 0.9) {
        const vma = pick(mm.vmas);
        // runs of neighbouring pages (sequential touches) as well as single pages
        const run = rnd() < 0.3 ? 1 + Math.floor(rnd() * 40) : 1;
        const at = vma.start + Math.floor(rnd() * (vma.end - vma.start));
        const write = rnd() < 0.7;
        const t = pick(p.threads);
        for (let i = 0; i < run && at + i < vma.end; i++) {
          const r = access(k, t, at + i, write, value++);
          log.push(['access', at + i, write, r, write ? 0 : k.lastValue]);
        }
      } else if (x < 0.92 && procs.length < 4) {
        const c = forkProcess(k, p, `c${nextPid++}`, Math.floor(rnd() * 2));
        procs.push(c);
        log.push(['fork', c.pid]);
      } else if (x < 0.94 && procs.length > 1) {
        exitProcess(k, p);
        procs.splice(procs.indexOf(p), 1);
        log.push(['exit', p.pid]);
      } else {
        const vma = pick(mm.vmas);
        const a = vma.start + Math.floor(rnd() * (vma.end - vma.start));
        const b = Math.min(vma.end, a + 1 + Math.floor(rnd() * 600));
        const y = rnd();
        if (y < 0.25) munmap(k, mm, a, b);
        else if (y < 0.5) mprotect(k, mm, a, b, pick(['r', 'rw', 'none'] as const));
        else madvise(k, mm, a, b, pick(['dontneed', 'pageout', 'cold'] as const));
        log.push(['op', a, b, y]);
      }
    } catch (e) {
      if (!(e instanceof SimError)) throw e;
      log.push(['error', e.code, e.message]);
    }
  }
  return {
    log,
    counters: sys.stats.toRecord(),
    cycles: [k.clock.cycles, ...k.clock.byCpu],
    // whole arrays, compared as bytes (their length included)
    tables: [k.pt.fl, k.pt.val, k.pt.refcount, k.pt.used].map(bytes),
    frames: [k.f.data, k.f.ref, k.f.mapcount, k.f.largeMapcount, k.f.flags, k.f.order, k.f.anonVma].map(bytes),
    vmas: procs.map((p) => p.mm.vmas.map((v2) => [v2.start, v2.end, v2.flags, v2.anonVma])),
  };
}

describe('the fault fast paths give the reference results', () => {
  const variants: Array<[string, Variant]> = [
    ['untapped', {}],
    [
      'fault.anonOrders tapped (mTHP 64K and PMD THP), notifications tapped',
      { orders: (1 << 4) | (1 << 9), notify: true },
    ],
    ['fault.anonOrders tapped with order 0 only', { orders: 1 }],
    ['no hardware access flags (access-flag faults)', { noAd: true, orders: 1 << 2 }],
  ];
  for (const [name, v] of variants) {
    it(name, () => {
      for (const seed of [1, 2]) {
        const fast = drive(v, userAccess, seed);
        const ref = drive(v, referenceAccess, seed);
        expect(fast.log.length).toBeGreaterThan(4000);
        expect(fast.counters.pgfault).toBeGreaterThan(1000);
        expect(fast.log).toEqual(ref.log);
        expect(fast).toEqual(ref);
        if (seed === 1) console.log(name, JSON.stringify(fast.counters));
      }
    });
  }
});
