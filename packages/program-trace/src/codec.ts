import { KINDS, PATH_LIMIT, PID_LIMIT, PROTS, type Prot, type TraceRecord } from './records.js';
import { type ByteSink, type ByteSource, Truncated } from './varint.js';

/**
 * Record bytes of the binary form (docs/trace-format.md "Records"): a tag byte (bits 0-3 the
 * kind's index in KINDS, bit 4 = tid present, bits 5-7 kind flags), pid, [tid], the fields.
 * Addresses and pages are zigzag deltas from the previous one of the same thread (pid, tid).
 */
export const TID = 0x10;
export const F5 = 0x20;
export const F6 = 0x40;
export const F7 = 0x80;
const MMAP_SHARED = 1;
const MMAP_SHARED_VALUE = 2;
const MMAP_PATH = 4;
const MMAP_OFFSET = 8;

/** Upper bound of one encoded record (a path of PATH_LIMIT bytes plus every varint at its longest). */
export const MAX_RECORD = PATH_LIMIT * 3 + 128;

const KIND_INDEX: Record<string, number> = Object.fromEntries(KINDS.map((k, i) => [k, i]));
const PROT_INDEX: Record<string, number> = Object.fromEntries(PROTS.map((p, i) => [p, i]));

/**
 * Per-thread delta state: last address and last page of each thread (pid, tid), in an
 * open-addressing table of typed arrays (a thread switch costs a probe, no Map work). The
 * current thread's values are the public `lastAddr` / `lastPage`.
 */
export class ThreadDeltas {
  private pids = new Int32Array(16).fill(-1);
  private tids = new Int32Array(16);
  private addrs = new Float64Array(16);
  private pages = new Float64Array(16);
  private used = 0;
  private slot = -1;
  /** the current thread (-1: none yet); `tid` is the pid when the record has none */
  lastPid = -1;
  lastTid = -1;
  lastAddr = 0;
  lastPage = 0;
  /** switch to the thread (pid, tid), saving the current one */
  select(pid: number, tid: number): void {
    if (pid === this.lastPid && tid === this.lastTid) return;
    if (this.slot >= 0) {
      this.addrs[this.slot] = this.lastAddr;
      this.pages[this.slot] = this.lastPage;
    }
    const h = this.slotOf(pid, tid);
    this.slot = h;
    this.lastPid = pid;
    this.lastTid = tid;
    this.lastAddr = this.addrs[h] as number;
    this.lastPage = this.pages[h] as number;
  }
  /**
   * For a decoder that switches threads itself (decodeColumns): write the current thread's
   * values back to the table and return its slot (-1: none); then slotOf() / pageTable() /
   * resume() until it calls select() again.
   */
  park(): number {
    if (this.slot >= 0) {
      this.addrs[this.slot] = this.lastAddr;
      this.pages[this.slot] = this.lastPage;
    }
    return this.slot;
  }
  /** the slot of (pid, tid), added when new (the table may grow: read pageTable() again) */
  slotOf(pid: number, tid: number): number {
    let h = this.probe(pid, tid);
    if (this.pids[h] !== pid) {
      if ((this.used + 1) * 2 > this.pids.length) {
        this.grow();
        h = this.probe(pid, tid);
      }
      this.pids[h] = pid;
      this.tids[h] = tid;
      this.addrs[h] = 0;
      this.pages[h] = 0;
      this.used++;
    }
    return h;
  }
  /** the last page of every slot */
  pageTable(): Float64Array {
    return this.pages;
  }
  /** make the thread of `slot` current (after park()) */
  resume(slot: number): void {
    this.slot = slot;
    if (slot < 0) return;
    this.lastPid = this.pids[slot] as number;
    this.lastTid = this.tids[slot] as number;
    this.lastAddr = this.addrs[slot] as number;
    this.lastPage = this.pages[slot] as number;
  }
  /** the slot of (pid, tid), or the empty slot where it goes */
  private probe(pid: number, tid: number): number {
    const { pids, tids } = this;
    const mask = pids.length - 1;
    const x = Math.imul(pid, 0x9e3779b1) ^ Math.imul(tid, 0x85ebca77);
    let h = (x ^ (x >>> 16)) & mask;
    for (;;) {
      const p = pids[h] as number;
      if (p === -1 || (p === pid && tids[h] === tid)) return h;
      h = (h + 1) & mask;
    }
  }
  private grow(): void {
    const { pids, tids, addrs, pages } = this;
    const size = pids.length * 2;
    this.pids = new Int32Array(size).fill(-1);
    this.tids = new Int32Array(size);
    this.addrs = new Float64Array(size);
    this.pages = new Float64Array(size);
    this.slot = -1; // select() sets it again
    for (let i = 0; i < pids.length; i++) {
      const p = pids[i] as number;
      if (p === -1) continue;
      const h = this.probe(p, tids[i] as number);
      this.pids[h] = p;
      this.tids[h] = tids[i] as number;
      this.addrs[h] = addrs[i] as number;
      this.pages[h] = pages[i] as number;
    }
  }
  addrDelta(a: number): number {
    const d = a - this.lastAddr;
    this.lastAddr = a;
    return d;
  }
  addrFrom(d: number): number {
    this.lastAddr += d;
    return this.lastAddr;
  }
  pageDelta(p: number): number {
    const d = p - this.lastPage;
    this.lastPage = p;
    return d;
  }
  pageFrom(d: number): number {
    this.lastPage += d;
    return this.lastPage;
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

function str(out: ByteSink, s: string): void {
  const b = enc.encode(s);
  out.uvar(b.length);
  out.bytes(b);
}

export function encodeRecord(out: ByteSink, st: ThreadDeltas, r: TraceRecord): void {
  const tagAt = out.pos++;
  let tag = KIND_INDEX[r.t] as number;
  if (r.tid !== undefined) tag |= TID;
  out.uvar(r.pid);
  if (r.tid !== undefined) out.uvar(r.tid);
  st.select(r.pid, r.tid ?? r.pid);
  switch (r.t) {
    case 'access':
      if (r.w !== undefined) tag |= r.w ? F5 | F6 : F5;
      if (r.n !== undefined) tag |= F7;
      out.svar(st.pageDelta(r.page));
      if (r.n !== undefined) out.uvar(r.n);
      break;
    case 'mmap': {
      let f = 0;
      if (r.shared !== undefined) f |= r.shared ? MMAP_SHARED | MMAP_SHARED_VALUE : MMAP_SHARED;
      if (r.path !== undefined) f |= MMAP_PATH;
      if (r.offset !== undefined) f |= MMAP_OFFSET;
      out.u8(f);
      out.svar(st.addrDelta(r.addr));
      out.uvar(r.len);
      out.u8(PROT_INDEX[r.prot] as number);
      if (r.path !== undefined) str(out, r.path);
      if (r.offset !== undefined) out.uvar(r.offset);
      break;
    }
    case 'munmap':
      out.svar(st.addrDelta(r.addr));
      out.uvar(r.len);
      break;
    case 'mprotect':
      out.svar(st.addrDelta(r.addr));
      out.uvar(r.len);
      out.u8(PROT_INDEX[r.prot] as number);
      break;
    case 'mremap':
      out.svar(st.addrDelta(r.addr));
      out.uvar(r.oldLen);
      out.uvar(r.newLen);
      if (r.newAddr !== undefined) {
        tag |= F5;
        out.svar(r.newAddr - r.addr);
      }
      break;
    case 'madvise':
      out.svar(st.addrDelta(r.addr));
      out.uvar(r.len);
      str(out, r.advice);
      break;
    case 'brk':
      out.svar(st.addrDelta(r.addr));
      break;
    case 'fork':
      out.uvar(r.child);
      break;
    case 'clone':
      out.uvar(r.newTid);
      break;
    case 'exit':
      break;
    case 'cpu':
      out.uvar(r.cpu);
      break;
    case 'exec':
      break;
    case 'end':
      if (r.truncated !== undefined) tag |= F5 | (r.truncated ? F6 : 0);
      out.uvar(r.status === undefined ? 0 : r.status + 1); // 0: no status
      if (r.signal !== undefined) {
        tag |= F7;
        str(out, r.signal);
      }
      break;
  }
  out.buf[tagAt] = tag;
}

/** A payload byte sequence that is not a valid record. */
export class BadRecord extends Error {
  constructor(
    readonly field: string | undefined,
    detail: string,
  ) {
    super(detail);
  }
}

function prot(i: number): Prot {
  const p = PROTS[i];
  if (p === undefined) throw new BadRecord('prot', `bad protection index ${i}`);
  return p;
}

function text(src: ByteSource, field: string): string {
  const n = src.uvar();
  if (n > PATH_LIMIT * 3) throw new BadRecord(field, `string of ${n} bytes is too long`);
  try {
    return dec.decode(src.bytes(n));
  } catch (e) {
    if (e instanceof Truncated) throw e;
    throw new BadRecord(field, 'not UTF-8');
  }
}

export function decodeRecord(src: ByteSource, st: ThreadDeltas): TraceRecord {
  const tag = src.u8();
  const kind = tag & 0x0f;
  const pid = src.uvar();
  const tid = tag & TID ? src.uvar() : undefined;
  if (pid >= PID_LIMIT) throw new BadRecord('pid', `pid ${pid} out of range`);
  if (tid !== undefined && tid >= PID_LIMIT) throw new BadRecord('tid', `tid ${tid} out of range`);
  st.select(pid, tid ?? pid);
  switch (kind) {
    case 10: {
      const page = st.pageFrom(src.svar());
      const r: TraceRecord = tid === undefined ? { t: 'access', pid, page } : { t: 'access', pid, tid, page };
      if (tag & F5) r.w = (tag & F6) !== 0;
      if (tag & F7) r.n = src.uvar();
      return r;
    }
    case 0: {
      const f = src.u8();
      const addr = st.addrFrom(src.svar());
      const len = src.uvar();
      const p = prot(src.u8());
      const r: TraceRecord = withTid({ t: 'mmap', pid, addr, len, prot: p }, tid);
      if (f & MMAP_SHARED) r.shared = (f & MMAP_SHARED_VALUE) !== 0;
      if (f & MMAP_PATH) r.path = text(src, 'path');
      if (f & MMAP_OFFSET) r.offset = src.uvar();
      return r;
    }
    case 1: {
      const addr = st.addrFrom(src.svar());
      return withTid({ t: 'munmap', pid, addr, len: src.uvar() }, tid);
    }
    case 2: {
      const addr = st.addrFrom(src.svar());
      const len = src.uvar();
      return withTid({ t: 'mprotect', pid, addr, len, prot: prot(src.u8()) }, tid);
    }
    case 3: {
      const addr = st.addrFrom(src.svar());
      const oldLen = src.uvar();
      const newLen = src.uvar();
      const r: TraceRecord = withTid({ t: 'mremap', pid, addr, oldLen, newLen }, tid);
      if (tag & F5) r.newAddr = addr + src.svar();
      return r;
    }
    case 4: {
      const addr = st.addrFrom(src.svar());
      const len = src.uvar();
      return withTid({ t: 'madvise', pid, addr, len, advice: text(src, 'advice') }, tid);
    }
    case 5:
      return withTid({ t: 'brk', pid, addr: st.addrFrom(src.svar()) }, tid);
    case 6:
      return withTid({ t: 'fork', pid, child: src.uvar() }, tid);
    case 7:
      return withTid({ t: 'clone', pid, newTid: src.uvar() }, tid);
    case 8:
      return withTid({ t: 'exit', pid }, tid);
    case 9:
      return withTid({ t: 'cpu', pid, cpu: src.uvar() }, tid);
    case 11:
      return withTid({ t: 'exec', pid }, tid);
    case 12: {
      const r: TraceRecord = withTid({ t: 'end', pid }, tid);
      if (tag & F5) r.truncated = (tag & F6) !== 0;
      const status = src.uvar();
      if (status > 0) r.status = status - 1;
      if (tag & F7) r.signal = text(src, 'signal');
      return r;
    }
    default:
      throw new BadRecord('t', `unknown record kind tag ${kind}`);
  }
}

function withTid<R extends TraceRecord>(r: R, tid: number | undefined): R {
  if (tid === undefined) return r;
  const { t, pid, ...rest } = r as TraceRecord;
  return { t, pid, tid, ...rest } as R;
}

/** Receives decoded records: accesses as plain numbers (no allocation), the rest as objects. */
export interface RecordSink {
  /** `tid` -1 when absent; `w` -1 absent, 0 read, 1 write; `n` 0 when absent (= 1) */
  access(pid: number, tid: number, page: number, w: number, n: number): void;
  record(r: TraceRecord): void;
}
