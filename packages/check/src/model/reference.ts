/**
 * The reference model: what every read must return, independent of any kernel mechanism.
 *
 * Each process is a plain map page → value (absent = 0) plus, per mapped page, the attributes
 * that decide what an access may do (protection, userfaultfd registration, fork advice).
 * Writes update the writer's map; fork copies it (minus MADV_DONTFORK pages, with
 * MADV_WIPEONFORK pages empty); exit drops it; munmap / MADV_DONTNEED make pages absent (0);
 * mremap moves them; UFFDIO_COPY writes the copied value.
 *
 * Pins (kernel-notes §6). A pin page is bound to (owner process, address) while the owner
 * still maps that address with the page it pinned:
 *  - strict pins (every write pin; a read-only pin of a page that held data, i.e. an anonymous
 *    page) must read what the owner reads there, including the owner's later writes;
 *  - once the owner unmaps the address (munmap, MADV_DONTNEED, exit), the pin is frozen: it
 *    keeps the value it had, whatever anyone writes afterwards (the vmsplice case);
 *  - mremap moves the binding with the page; fork leaves it with the owner;
 *  - a read-only pin of a page that was never written may pin the shared zero page (core
 *    pins the zero page; Linux ≥ 6.2 unshares it only for FOLL_LONGTERM): such a pin is
 *    lenient, it may read its value at pin time or any value the owner wrote there while bound,
 *    but never another process's write.
 */

export type Prot = 'r' | 'w' | 'rw' | 'none';

export interface PageAttrs {
  prot: Prot;
  dontfork: boolean;
  wipeonfork: boolean;
  uffdMissing: boolean;
  uffdWp: boolean;
}

export interface ProcModel {
  values: Map<number, number>;
  pages: Map<number, PageAttrs>;
  /** this process's incarnation and its ancestors', each with the time its line split off */
  lineage: Array<{ inc: number; until: number }>;
}

export interface PinPage {
  /** owner and address while bound; pid null once frozen */
  pid: string | null;
  /** the owner's lineage (for telling a stale value from another process's data) */
  lineage: ProcModel['lineage'];
  vpn: number;
  strict: boolean;
  /** strict & frozen: the value it keeps */
  frozen: number;
  /** lenient: every value it may show */
  allowed: Set<number>;
}

/** What a read through one pinned page must return. */
export type PinExpectation = { exact: number } | { oneOf: number[] };

export class ReferenceModel {
  readonly procs = new Map<string, ProcModel>();
  readonly pins = new Map<string, PinPage[]>();
  /** who wrote each value (values are unique within a run) and when */
  private readonly origin = new Map<number, { inc: number; time: number }>();
  private time = 0;
  private incs = 0;

  private proc(pid: string): ProcModel {
    const p = this.procs.get(pid);
    if (!p) throw new Error(`reference model: no process ${pid}`);
    return p;
  }

  spawn(pid: string): void {
    this.procs.set(pid, { values: new Map(), pages: new Map(), lineage: [{ inc: ++this.incs, until: Infinity }] });
  }

  mmap(pid: string, start: number, pages: number, prot: Prot = 'rw'): void {
    const p = this.proc(pid);
    for (let v = start; v < start + pages; v++)
      p.pages.set(v, { prot, dontfork: false, wipeonfork: false, uffdMissing: false, uffdWp: false });
  }

  attrs(pid: string, vpn: number): PageAttrs | undefined {
    return this.procs.get(pid)?.pages.get(vpn);
  }

  read(pid: string, vpn: number): number {
    return this.proc(pid).values.get(vpn) ?? 0;
  }

  write(pid: string, vpn: number, value: number): void {
    const p = this.proc(pid);
    p.values.set(vpn, value >>> 0);
    if (!this.origin.has(value >>> 0))
      this.origin.set(value >>> 0, { inc: p.lineage[p.lineage.length - 1]!.inc, time: ++this.time });
    for (const pages of this.pins.values()) {
      for (const pp of pages) if (pp.pid === pid && pp.vpn === vpn && !pp.strict) pp.allowed.add(value >>> 0);
    }
  }

  /** Pages [a, b) of `pid` stop being mapped with their current contents. */
  private drop(pid: string, a: number, b: number, unmap: boolean): void {
    const p = this.proc(pid);
    this.unbind(pid, (vpn) => vpn >= a && vpn < b);
    for (let v = a; v < b; v++) {
      p.values.delete(v);
      if (unmap) p.pages.delete(v);
    }
  }

  private unbind(pid: string, which: (vpn: number) => boolean): void {
    for (const pages of this.pins.values()) {
      for (const pp of pages) {
        if (pp.pid !== pid || !which(pp.vpn)) continue;
        if (pp.strict) pp.frozen = this.read(pid, pp.vpn);
        pp.pid = null;
      }
    }
  }

  munmap(pid: string, a: number, b: number): void {
    this.drop(pid, a, b, true);
  }

  dontneed(pid: string, a: number, b: number): void {
    this.drop(pid, a, b, false);
  }

  exit(pid: string): void {
    this.unbind(pid, () => true);
    this.procs.delete(pid);
  }

  fork(parent: string, child: string): void {
    const p = this.proc(parent);
    const split = ++this.time;
    const lineage = p.lineage.map((l) => ({ inc: l.inc, until: Math.min(l.until, split) }));
    lineage.push({ inc: ++this.incs, until: Infinity });
    const c: ProcModel = { values: new Map(), pages: new Map(), lineage };
    for (const [vpn, a] of p.pages) {
      if (a.dontfork) continue;
      c.pages.set(vpn, { ...a, uffdMissing: false, uffdWp: false });
      if (a.wipeonfork) continue;
      const v = p.values.get(vpn);
      if (v !== undefined) c.values.set(vpn, v);
    }
    this.procs.set(child, c);
  }

  /** mremap: [a, b) moves to [to, to + (b - a)). */
  mremap(pid: string, a: number, b: number, to: number): void {
    const p = this.proc(pid);
    const vals: Array<[number, number]> = [];
    const attrs: Array<[number, PageAttrs]> = [];
    for (let v = a; v < b; v++) {
      const x = p.values.get(v);
      if (x !== undefined) vals.push([v - a + to, x]);
      const at = p.pages.get(v);
      if (at) attrs.push([v - a + to, at]);
      p.values.delete(v);
      p.pages.delete(v);
    }
    for (const [v, x] of vals) p.values.set(v, x);
    for (const [v, at] of attrs) p.pages.set(v, at);
    for (const pages of this.pins.values()) {
      for (const pp of pages) if (pp.pid === pid && pp.vpn >= a && pp.vpn < b) pp.vpn = pp.vpn - a + to;
    }
  }

  setAttrs(pid: string, a: number, b: number, change: (at: PageAttrs) => void): void {
    const p = this.proc(pid);
    for (let v = a; v < b; v++) {
      const at = p.pages.get(v);
      if (at) change(at);
    }
  }

  pin(id: string, pid: string, a: number, b: number, write: boolean): void {
    const pages: PinPage[] = [];
    for (let v = a; v < b; v++) {
      const value = this.read(pid, v);
      const strict = write || value !== 0;
      pages.push({ pid, lineage: this.proc(pid).lineage, vpn: v, strict, frozen: value, allowed: new Set([value]) });
    }
    this.pins.set(id, pages);
  }

  unpin(id: string): void {
    this.pins.delete(id);
  }

  /**
   * Whether `value` is data the process (of this lineage) could ever have seen: written by
   * itself, or by an ancestor before their lines split. A value that is not is another
   * process's data, an isolation breach rather than a stale read.
   */
  mayHaveSeen(lineage: ProcModel['lineage'], value: number): boolean {
    if (value === 0) return true;
    const o = this.origin.get(value >>> 0);
    if (!o) return false;
    return lineage.some((l) => l.inc === o.inc && o.time < l.until);
  }

  lineageOf(pid: string): ProcModel['lineage'] {
    return this.proc(pid).lineage;
  }

  pinLineage(id: string, page: number): ProcModel['lineage'] {
    return this.pins.get(id)![page]!.lineage;
  }

  pinExpectations(id: string): PinExpectation[] {
    const pages = this.pins.get(id);
    if (!pages) throw new Error(`reference model: no pin ${id}`);
    return pages.map((pp) => {
      if (pp.strict) return { exact: pp.pid !== null ? this.read(pp.pid, pp.vpn) : pp.frozen };
      return { oneOf: [...pp.allowed] };
    });
  }
}
