/**
 * Intent → scenario step, valid for the driver's current state, or null (skip). Validity
 * comes from the reference model (what is mapped, with which protection and userfaultfd
 * registration) and, where the answer is an implementation detail rather than semantics,
 * from the kernel (VMA boundaries for mremap, empty PTEs for UFFDIO_COPY, blocked threads).
 * A valid step never makes core's runner fail by itself: if the kernel throws on one, that is
 * a finding.
 */
import { PAGE_SIZE, PTRS_PER_TABLE, type Step } from '@mmsim/core';
import type { StepDriver } from '../driver/driver.js';
import { PIDS, PIN_IDS, REGIONS, type Intent } from './intents.js';

export class Concretizer {
  private seq = 0;
  constructor(
    private readonly d: StepDriver,
    private readonly ncpus: number,
    /** the most pages one `touch` writes (more under memory pressure: whole regions fill RAM) */
    private readonly maxTouch = 8,
  ) {}

  /** A fresh value for a write: every write in a run stores a distinct value. */
  private value(): number {
    return 0x1000 + ++this.seq;
  }

  /** The `cpu` field naming one of pid's threads: -1 the main thread, else the i-th thread. */
  private cpuOf(pid: string, i: number): number | undefined {
    if (i < 0) return undefined;
    const p = this.d.alive(pid)!;
    const t = p.threads[i % p.threads.length]!;
    return t === p.main ? undefined : t.cpu;
  }

  /** [a, b) in pages and the step's offset/size in bytes, clamped to the region. */
  private range(
    pid: string,
    r: string,
    off: number,
    len: number,
  ): { a: number; b: number; offset: number; size: number } | null {
    const reg = this.d.region(pid, r);
    if (!reg) return null;
    const o = off % reg.pages;
    const n = Math.max(1, Math.min(len, reg.pages - o));
    return { a: reg.start + o, b: reg.start + o + n, offset: o * PAGE_SIZE, size: n * PAGE_SIZE };
  }

  private pagesOk(
    pid: string,
    a: number,
    b: number,
    ok: (at: NonNullable<ReturnType<StepDriver['model']['attrs']>>) => boolean,
  ): boolean {
    for (let v = a; v < b; v++) {
      const at = this.d.model.attrs(pid, v);
      if (!at || !ok(at)) return false;
    }
    return true;
  }

  private anyMapped(pid: string, a: number, b: number): boolean {
    for (let v = a; v < b; v++) if (this.d.model.attrs(pid, v)) return true;
    return false;
  }

  private blockedIn(pid: string, a: number, b: number): boolean {
    return this.d.blocked().some((t) => t.proc.pid === pid && t.pending!.vpn >= a && t.pending!.vpn < b);
  }

  /** i-th of `xs` (modulo), or undefined when empty: intents name existing things by index. */
  private pick<T>(xs: readonly T[], i: number): T | undefined {
    return xs.length ? xs[i % xs.length] : undefined;
  }

  /** Regions of `pid` that still have a mapped page. */
  private liveRegions(pid: string): string[] {
    return REGIONS.filter((r) => {
      const rg = this.d.region(pid, r);
      return rg !== undefined && this.anyMapped(pid, rg.start, rg.start + rg.pages);
    });
  }

  step(i: Intent): Step | null {
    const d = this.d;
    if (i.t === 'drain') return i.cpu < 0 || i.cpu >= this.ncpus ? { op: 'drain' } : { op: 'drain', cpu: i.cpu };
    if (i.t === 'khugepaged') return { op: 'khugepaged', passes: 1 };
    if (i.t === 'ksmd') {
      // a whole full scan when an mm is registered (else full_scans would never advance)
      const ksm = d.k.ksm;
      if (i.full && ksm !== null && ksm.knobs.run === 1 && ksm.slots.length > 0) return { op: 'ksmd', fullScans: 1 };
      return { op: 'ksmd', pages: i.pages };
    }
    if (i.t === 'unpin' || i.t === 'readPin') {
      const id = this.pick([...d.pins.keys()].sort(), i.id);
      return id ? { op: i.t, id } : null;
    }
    const live = PIDS.filter((x) => d.alive(x));
    if (i.t === 'spawn') {
      const pid = this.pick(
        PIDS.filter((x) => !d.alive(x)),
        i.p,
      );
      return pid ? { op: 'spawn', pid, cpu: i.cpu % this.ncpus } : null;
    }
    const pid = this.pick(live, i.p);
    if (!pid) return null;
    const p = d.alive(pid)!;
    switch (i.t) {
      case 'thread': {
        // one thread per CPU: another thread on a CPU already used adds nothing
        const free = Array.from({ length: this.ncpus }, (_, c) => c).filter((c) => !p.threads.some((t) => t.cpu === c));
        const cpu = this.pick(free, i.cpu);
        if (cpu === undefined) return null;
        return { op: 'thread', pid, cpu, ...(i.spin ? { spin: true } : {}) };
      }
      case 'fork': {
        const child = this.pick(
          PIDS.filter((x) => !d.alive(x)),
          i.c,
        );
        if (!child) return null;
        const cpu = this.cpuOf(pid, i.cpu);
        return { op: 'fork', pid, child, ...(cpu !== undefined ? { cpu } : {}) };
      }
      case 'exit':
        return { op: 'exit', pid };
      case 'mmap': {
        const name = this.pick(
          REGIONS.filter((r) => !d.region(pid, r)),
          i.r,
        );
        if (!name) return null;
        return { op: 'mmap', pid, name, size: i.pages * PAGE_SIZE, ...(i.adv !== 'none' ? { advice: i.adv } : {}) };
      }
      default:
        break;
    }
    const region = this.pick(this.liveRegions(pid), i.r);
    if (!region) return null;
    if (i.t === 'write' || i.t === 'read') {
      const rg = this.range(pid, region, i.off, 1);
      if (!rg) return null;
      const cpu = this.cpuOf(pid, i.cpu);
      const t = d.thread(p, cpu)!;
      if (t.pending) return null;
      const at = d.model.attrs(pid, rg.a);
      if (!at || at.prot === 'none' || (i.t === 'write' && at.prot !== 'rw')) return null;
      const base = { op: 'access' as const, pid, region, offset: rg.offset, ...(cpu !== undefined ? { cpu } : {}) };
      return i.t === 'write' ? { ...base, access: 'write', value: this.value() } : { ...base, access: 'read' };
    }
    let rg = this.range(pid, region, i.off, i.len);
    if (!rg) return null;
    if (i.t === 'pin') {
      // pins of pages that hold data are the interesting ones: start at one when there is one
      const reg = d.region(pid, region)!;
      const pm = d.model.procs.get(pid)!;
      const valued: number[] = [];
      for (let v = reg.start; v < reg.start + reg.pages; v++) if (pm.values.has(v)) valued.push(v - reg.start);
      const o = this.pick(valued, i.off);
      if (o !== undefined) rg = this.range(pid, region, o, i.len)!;
    }
    const { a, b, offset, size } = rg;
    const r = { region, offset, size };
    switch (i.t) {
      case 'munmap':
        return { op: 'munmap', pid, ...r };
      case 'touch': {
        if (p.main.pending || b - a > this.maxTouch) return null;
        if (!this.pagesOk(pid, a, b, (at) => at.prot === 'rw' && !at.uffdMissing && !at.uffdWp)) return null;
        return { op: 'touch', pid, ...r, access: 'write', value: this.value() };
      }
      case 'madvise':
        if (!this.anyMapped(pid, a, b)) return null;
        return { op: 'madvise', pid, ...r, advice: i.advice };
      case 'migrate':
        if (!this.anyMapped(pid, a, b)) return null;
        return { op: 'migrate', pid, ...r };
      case 'ksmMerge':
        if (!this.anyMapped(pid, a, b)) return null;
        return { op: 'madvise', pid, ...r, advice: i.merge ? 'mergeable' : 'unmergeable' };
      case 'mprotect':
        if (!this.anyMapped(pid, a, b) || this.blockedIn(pid, a, b)) return null;
        return { op: 'mprotect', pid, ...r, prot: i.prot };
      case 'mremap': {
        const to = this.pick(
          REGIONS.filter((x) => !d.region(pid, x)),
          i.to,
        );
        if (!to) return null;
        if (!this.pagesOk(pid, a, b, () => true)) return null;
        const vmas = p.mm.vmasIn(a, b);
        if (vmas.length !== 1 || vmas[0]!.start > a || vmas[0]!.end < b) return null;
        return { op: 'mremap', pid, ...r, to };
      }
      case 'maps':
        return { op: 'maps', pid, ...r };
      case 'mremapResize': {
        // do_mremap() with new_len: the old range inside one VMA (vma_to_resize(): EFAULT
        // otherwise), all mapped; a grow only over pages with the mapping's default attributes
        // (the grown tail is a fresh part of the VMA: the model gives it those)
        const vmas = p.mm.vmasIn(a, b);
        if (vmas.length !== 1 || vmas[0]!.start > a || vmas[0]!.end < b) return null;
        if (!this.pagesOk(pid, a, b, () => true)) return null;
        if (i.grow < 0) {
          if (b - a + i.grow < 1) return null;
          return { op: 'mremap', pid, ...r, newSize: size + i.grow * PAGE_SIZE };
        }
        const prot = d.model.attrs(pid, a)!.prot;
        if (
          !this.pagesOk(
            pid,
            a,
            b,
            (at) => at.prot === prot && !at.dontfork && !at.wipeonfork && !at.uffdMissing && !at.uffdWp,
          )
        )
          return null;
        const newSize = size + i.grow * PAGE_SIZE;
        const vma = vmas[0]!;
        if (b === vma.end && p.mm.vmasIn(b, b + i.grow).length === 0) return { op: 'mremap', pid, ...r, newSize };
        const to = this.pick(
          REGIONS.filter((x) => !d.region(pid, x)),
          i.to,
        );
        if (!to) return null;
        return { op: 'mremap', pid, ...r, newSize, mayMove: true, to };
      }
      case 'pin': {
        const id = this.pick(
          PIN_IDS.filter((x) => !d.pins.has(x)),
          i.id,
        );
        if (!id) return null;
        if (
          !this.pagesOk(
            pid,
            a,
            b,
            (at) => (i.write ? at.prot === 'rw' : at.prot !== 'none') && !at.uffdMissing && !at.uffdWp,
          )
        )
          return null;
        const cpu = this.cpuOf(pid, -1);
        return {
          op: 'pin',
          pid,
          ...r,
          write: i.write,
          ...(i.longterm ? { longterm: true } : {}),
          id,
          ...(cpu !== undefined ? { cpu } : {}),
        };
      }
      case 'uffdRegister':
        if (!this.anyMapped(pid, a, b)) return null;
        return { op: 'uffdRegister', pid, ...r, mode: i.mode };
      case 'uffdCopy': {
        // mfill_atomic(): the copy stays inside the one VMA at a (ENOENT otherwise), which is
        // registered with userfaultfd (ENOENT), in wp mode for a wp copy (EINVAL)
        const vma = p.mm.findVma(a);
        if (!vma) return null;
        const e = Math.min(b, vma.end);
        const registered = (at: { uffdMissing: boolean; uffdWp: boolean }) =>
          i.wp ? at.uffdWp : at.uffdMissing || at.uffdWp;
        if (!this.pagesOk(pid, a, e, (at) => at.prot !== 'none' && registered(at))) return null;
        const k = d.k;
        for (let v = a; v < e; v++) {
          const t = k.pteTable(p.mm, v);
          if (t === -2 || (t >= 0 && k.pt.fl[t * PTRS_PER_TABLE + (v & 511)] !== 0)) return null;
        }
        return {
          op: 'uffdCopy',
          pid,
          region,
          offset,
          size: (e - a) * PAGE_SIZE,
          ...(i.wp ? { wp: true } : {}),
          value: this.value(),
        };
      }
      case 'uffdWriteProtect': {
        // the range must be registered in wp mode: use the run of wp-registered pages at or after a
        const rgn = d.region(pid, region)!;
        let s0 = -1;
        for (let k = 0; k < rgn.pages && s0 < 0; k++) {
          const v = rgn.start + ((a - rgn.start + k) % rgn.pages);
          if (d.model.attrs(pid, v)?.uffdWp) s0 = v;
        }
        if (s0 < 0) return null;
        let e0 = s0;
        while (e0 < rgn.start + rgn.pages && e0 - s0 < b - a && d.model.attrs(pid, e0)?.uffdWp) e0++;
        return {
          op: 'uffdWriteProtect',
          pid,
          region,
          offset: (s0 - rgn.start) * PAGE_SIZE,
          size: (e0 - s0) * PAGE_SIZE,
          enable: i.enable,
        };
      }
    }
    return null;
  }
}
