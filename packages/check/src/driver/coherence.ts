/**
 * Coherence with the reference model, checked after every step without touching the kernel:
 *  - every mapped page of every live process holds the model's value (read through the page
 *    table: the mapped frame, the swap cache, or the swap slot; nothing mapped reads 0);
 *  - every strict pin that is still bound is the same page as its owner's mapping (§6: "the
 *    pin and the mapping must stay the same page"), and every pin reads what the model says.
 * A mismatch comes with witness steps (a read, or a write by the owner followed by a readPin)
 * that the driver runs next, so that the recorded scenario fails visibly when replayed.
 */
import { PAGE_SIZE, PTE, type Kernel, type MmStruct, type Step } from '@mmsim/core';
import type { Violation } from '../invariants/index.js';
import type { StepDriver } from './driver.js';
import { isAuditable } from '../hardware/strict-tlb.js';

export type Resolved = { kind: 'page'; pfn: number } | { kind: 'swap'; slot: number } | { kind: 'none' };

const T_TABLE = PTE.table;
const T_PRESENT = PTE.present;
const T_SWAP = PTE.swap;
const idx = (vpn: number, level: number): number =>
  level === 0
    ? vpn & 511
    : level === 1
      ? (vpn >>> 9) & 511
      : level === 2
        ? (vpn >>> 18) & 511
        : Math.floor(vpn / 134217728) & 511;

/** What mm maps at vpn, from the page tables (no fault, no TLB). */
export function resolve(k: Kernel, mm: MmStruct, vpn: number): Resolved {
  const fls = k.pt.fl;
  const vals = k.pt.val;
  let t = mm.pgd;
  for (let level = 3; level >= 0; level--) {
    const kk = t * 512 + idx(vpn, level);
    const fl = fls[kk]!;
    if (fl === 0) return NONE;
    if ((fl & T_TABLE) !== 0 && level > 0) {
      t = vals[kk]!;
      continue;
    }
    if ((fl & T_PRESENT) !== 0) {
      const span = level * 9;
      return { kind: 'page', pfn: vals[kk]! + (span === 0 ? 0 : vpn & ((1 << span) - 1)) };
    }
    if ((fl & T_SWAP) !== 0 && level === 0) return { kind: 'swap', slot: vals[kk]! };
    return NONE;
  }
  return NONE;
}
const NONE: Resolved = { kind: 'none' };

/** The data a read of vpn would see. */
export function valueAt(k: Kernel, mm: MmStruct, vpn: number): number {
  const r = resolve(k, mm, vpn);
  if (r.kind === 'page') return k.f.data[r.pfn]! >>> 0;
  if (r.kind === 'swap') {
    const c = k.swap.cache[r.slot];
    return (c !== undefined && c >= 0 ? k.f.data[c]! : k.swap.contents(r.slot)) >>> 0;
  }
  return 0;
}

export interface Incoherence {
  /** identifies the problem (a pin page and what is wrong with it, a page, a TLB entry) */
  key: string;
  violation: Violation;
  /** steps that make a replay fail visibly (empty when none can be built) */
  witness: Step[];
}

export class CoherenceChecker {
  private seq = 0x4000_0000;
  constructor(private readonly d: StepDriver) {}

  private where(pid: string, vpn: number): { region: string; offset: number } | undefined {
    for (const [name, r] of this.d.regions.get(pid) ?? [])
      if (vpn >= r.start && vpn < r.start + r.pages) return { region: name, offset: (vpn - r.start) * PAGE_SIZE };
    return undefined;
  }

  /** A thread of pid that can act (not blocked), as the `cpu` field of a step. */
  private actor(pid: string): { cpu?: number } | undefined {
    const p = this.d.alive(pid);
    if (!p) return undefined;
    if (!p.main.pending) return {};
    const t = p.threads.find(
      (x) => !x.pending && !p.threads.slice(0, p.threads.indexOf(x)).some((y) => y.cpu === x.cpu),
    );
    return t ? { cpu: t.cpu } : undefined;
  }

  private readWitness(pid: string, vpn: number, want: number): Step[] {
    const at = this.d.model.attrs(pid, vpn);
    const w = this.where(pid, vpn);
    const who = this.actor(pid);
    if (!at || !w || !who || at.prot === 'none') return [];
    if (at.uffdMissing && resolve(this.d.k, this.d.alive(pid)!.mm, vpn).kind === 'none') return [];
    void want;
    return [{ op: 'access', pid, ...w, ...who, access: 'read' }];
  }

  /** Every incoherence now, most specific first. */
  check(): Incoherence[] {
    const found: Incoherence[] = [];
    const d = this.d;
    const k = d.k;
    const m = d.model;
    const step = d.steps.length - 1;
    // TLBs at rest: every flush owed has been issued
    const hw = d.sys.hardware;
    if (isAuditable(hw)) {
      const stale = hw.audit();
      for (const e of stale) {
        const owner = [...k.procs.values()].find((p) => p.alive && p.mm === e.mm);
        found.push({
          key: `tlb:${e.cpu}:${e.mm.id}:${e.vpn}`,
          violation: {
            kind: 'tlb',
            message:
              `after step ${step}: cpu ${e.cpu} caches page 0x${e.vpn.toString(16)} of "${owner?.pid ?? `mm ${e.mm.id}`}" → pfn ${e.pfn}${e.writable ? ' (writable)' : ''}, ` +
              `but the page table ${e.now < 0 ? `no longer allows a ${e.access}` : `maps pfn ${e.now}`}: a TLB flush is missing`,
          },
          witness: owner ? this.tlbWitness(owner.pid, e.cpu, e.vpn, e.access) : [],
        });
      }
    }
    // pins: the subtle part
    for (const id of [...d.pins.keys()].sort()) {
      const pin = d.pins.get(id)!;
      const exps = m.pinExpectations(id);
      const pages = m.pins.get(id)!;
      for (let i = 0; i < pin.pfns.length; i++) {
        const pp = pages[i]!;
        const pfn = pin.pfns[i]!;
        if (pp.strict && pp.pid !== null) {
          const owner = d.alive(pp.pid);
          const r = owner ? resolve(k, owner.mm, pp.vpn) : ({ kind: 'none' } as const);
          const same = (r.kind === 'page' && r.pfn === pfn) || (r.kind === 'swap' && k.swap.cache[r.slot] === pfn);
          if (!same) {
            const now =
              r.kind === 'page'
                ? `pfn ${r.pfn}`
                : r.kind === 'swap'
                  ? `swap slot ${r.slot}${(k.swap.cache[r.slot] ?? -1) >= 0 ? ` (cached pfn ${k.swap.cache[r.slot]})` : ''}`
                  : 'nothing';
            found.push({
              key: `pin-page:${id}:${i}`,
              violation: {
                kind: 'pin',
                message: `after step ${step}: pin "${id}" page ${i} holds pfn ${pfn}, but its owner "${pp.pid}" now maps ${now} at 0x${pp.vpn.toString(16)}: the pin no longer sees the owner's writes`,
              },
              witness: this.pinWitness(id, pp.pid, pp.vpn),
            });
          }
        }
        const got = k.f.data[pfn]! >>> 0;
        const e = exps[i]!;
        const ok = 'exact' in e ? got === e.exact : e.oneOf.includes(got);
        if (!ok) {
          const leak = !m.mayHaveSeen(pp.lineage, got);
          found.push({
            key: `pin-value:${id}:${i}:${got}`,
            violation: {
              kind: leak ? 'pin-leak' : 'pin',
              message: `after step ${step}: pin "${id}" page ${i} reads ${got}, the reference model says ${'exact' in e ? e.exact : e.oneOf.join(' or ')}${leak ? ` (${got} is another process's data: the pin leaks it)` : ''}`,
            },
            witness: [{ op: 'readPin', id }],
          });
        }
      }
    }
    // every mapped page of every live process
    for (const [pid, pm] of m.procs) {
      const p = d.alive(pid);
      if (!p) continue;
      for (const [vpn] of pm.pages) {
        const want = pm.values.get(vpn) ?? 0;
        const got = valueAt(k, p.mm, vpn);
        if (got === want) continue;
        const leak = !m.mayHaveSeen(pm.lineage, got);
        found.push({
          key: `page:${pid}:${vpn}:${got}`,
          violation: {
            kind: leak ? 'read-leak' : 'read',
            message: `after step ${step}: page 0x${vpn.toString(16)} of "${pid}" holds ${got}, the reference model says ${want}${leak ? ` (${got} is another process's data)` : ''}`,
          },
          witness: this.readWitness(pid, vpn, want),
        });
      }
    }
    return found;
  }

  /** An access on the stale CPU hits the stale entry (the hardware's coherence check throws). */
  private tlbWitness(pid: string, cpu: number, vpn: number, access: 'read' | 'write'): Step[] {
    const p = this.d.alive(pid)!;
    const t = p.threads.find((x) => x.cpu === cpu);
    const w = this.where(pid, vpn);
    if (!t || t.pending || !w) return [];
    const who = t === p.main ? {} : { cpu };
    return access === 'read'
      ? [{ op: 'access', pid, ...w, ...who, access: 'read' }]
      : [{ op: 'access', pid, ...w, ...who, access: 'write', value: ++this.seq }];
  }

  /** The owner writes the page; reading through the pin must then show the write. */
  private pinWitness(id: string, pid: string, vpn: number): Step[] {
    const at = this.d.model.attrs(pid, vpn);
    const w = this.where(pid, vpn);
    const who = this.actor(pid);
    if (!at || !w || !who || at.prot !== 'rw' || at.uffdMissing || at.uffdWp) return [];
    const value = ++this.seq;
    return [
      { op: 'access', pid, ...w, ...who, access: 'write', value },
      { op: 'readPin', id },
    ];
  }
}
