import { decodeRecord, F5, F6, F7, TID, type ThreadDeltas } from './codec.js';
import { KINDS, type TraceRecord } from './records.js';
import { type ByteSource, Truncated } from './varint.js';

/** The kind index of `access` in KINDS (its binary tag). */
export const ACCESS = KINDS.indexOf('access');
/** Rows of a RecordColumns batch unless the caller asks otherwise. */
export const COLUMN_ROWS = 1 << 14;
/** The longest access record the fast path decodes: tag, pid and tid of 3 bytes, delta and n of 4. */
const FAST_ACCESS_MAX = 16;

/**
 * Decoded records as columns (docs/trace-format.md "Reading fast"): row i is the i-th record
 * of the batch. Accesses are numbers only; any other kind keeps its record object in `others`
 * (row i's is `others[ref[i]]`). The arrays are reused: a batch is valid until the next one.
 */
export class RecordColumns {
  length = 0;
  /** the kind's index in KINDS (ACCESS = 10 for an access) */
  readonly kind: Uint8Array;
  readonly pid: Uint32Array;
  /** -1: absent (= pid) */
  readonly tid: Int32Array;
  /** accesses: the page */
  readonly page: Float64Array;
  /** accesses: -1 `w` absent, 0 read, 1 write */
  readonly w: Int8Array;
  /** accesses: the repeat count, 0 when absent (= 1) */
  readonly n: Float64Array;
  /** other kinds: the index of the row's record in `others` */
  readonly ref: Int32Array;
  readonly others: TraceRecord[] = [];
  constructor(readonly capacity = COLUMN_ROWS) {
    this.kind = new Uint8Array(capacity);
    this.pid = new Uint32Array(capacity);
    this.tid = new Int32Array(capacity);
    this.page = new Float64Array(capacity);
    this.w = new Int8Array(capacity);
    this.n = new Float64Array(capacity);
    this.ref = new Int32Array(capacity);
  }
  clear(): void {
    this.length = 0;
    this.others.length = 0;
  }
  /** row i as a record object (the object decodeRecord() gives; for tests and slow consumers) */
  record(i: number): TraceRecord {
    if (this.kind[i] !== ACCESS) return this.others[this.ref[i] as number] as TraceRecord;
    const pid = this.pid[i] as number;
    const tid = this.tid[i] as number;
    const page = this.page[i] as number;
    const r: TraceRecord = tid < 0 ? { t: 'access', pid, page } : { t: 'access', pid, tid, page };
    const w = this.w[i] as number;
    if (w >= 0) r.w = w === 1;
    const n = this.n[i] as number;
    if (n > 0) r.n = n;
    return r;
  }
}

/**
 * Decode records from `src` into `cols` while `src.pos < limit` and the batch has room. An
 * access of the common shape (short varints) is decoded inline from the bytes, with the
 * thread's last page in a local; anything else (other kinds, long varints, the last bytes of
 * the payload) goes through decodeRecord(). A record cut by the end of `src` (Truncated)
 * leaves `src.pos` at its start. Throws BadRecord / RangeError as decodeRecord() does.
 */
export function decodeColumns(src: ByteSource, st: ThreadDeltas, cols: RecordColumns, limit: number): void {
  const b = src.buf;
  const fastEnd = src.end - FAST_ACCESS_MAX;
  const { kind, pid: pidCol, tid: tidCol, page: pageCol, w: wCol, n: nCol, capacity } = cols;
  let i = cols.length;
  let p = src.pos;
  // the threads' last pages live in st's table while the loop runs (park / resume)
  let curPid = st.lastPid;
  let curTid = st.lastTid;
  let slot = st.park();
  let pages = st.pageTable();
  let page = st.lastPage;
  while (p < limit && i < capacity) {
    const tag = b[p] as number;
    // biome-ignore lint/suspicious/noConfusingLabels: `break fast` falls back to the general path below
    fast: if ((tag & 0x0f) === ACCESS && p < fastEnd) {
      let q = p + 1;
      // pid: up to 3 bytes (< 2^21)
      let x = b[q++] as number;
      let pid = x & 0x7f;
      if (x & 0x80) {
        x = b[q++] as number;
        pid |= (x & 0x7f) << 7;
        if (x & 0x80) {
          x = b[q++] as number;
          if (x & 0x80) break fast;
          pid |= x << 14;
        }
      }
      let tid = -1;
      if (tag & TID) {
        x = b[q++] as number;
        tid = x & 0x7f;
        if (x & 0x80) {
          x = b[q++] as number;
          tid |= (x & 0x7f) << 7;
          if (x & 0x80) {
            x = b[q++] as number;
            if (x & 0x80) break fast;
            tid |= x << 14;
          }
        }
      }
      // the zigzag page delta: up to 4 bytes (28 bits)
      x = b[q++] as number;
      let z = x & 0x7f;
      if (x & 0x80) {
        x = b[q++] as number;
        z |= (x & 0x7f) << 7;
        if (x & 0x80) {
          x = b[q++] as number;
          z |= (x & 0x7f) << 14;
          if (x & 0x80) {
            x = b[q++] as number;
            if (x & 0x80) break fast;
            z |= x << 21;
          }
        }
      }
      let n = 0;
      if (tag & F7) {
        x = b[q++] as number;
        n = x & 0x7f;
        if (x & 0x80) {
          x = b[q++] as number;
          n |= (x & 0x7f) << 7;
          if (x & 0x80) {
            x = b[q++] as number;
            n |= (x & 0x7f) << 14;
            if (x & 0x80) {
              x = b[q++] as number;
              if (x & 0x80) break fast;
              n |= x << 21;
            }
          }
        }
      }
      const t = tid < 0 ? pid : tid;
      if (pid !== curPid || t !== curTid) {
        if (slot >= 0) pages[slot] = page;
        slot = st.slotOf(pid, t);
        pages = st.pageTable();
        curPid = pid;
        curTid = t;
        page = pages[slot] as number;
      }
      page += (z >>> 1) ^ -(z & 1);
      kind[i] = ACCESS;
      pidCol[i] = pid;
      tidCol[i] = tid;
      pageCol[i] = page;
      wCol[i] = tag & F5 ? (tag & F6 ? 1 : 0) : -1;
      nCol[i] = n;
      i++;
      p = q;
      continue;
    }
    // the general path: decodeRecord() on the shared delta state
    if (slot >= 0) pages[slot] = page;
    st.resume(slot);
    src.pos = p;
    let r: TraceRecord;
    try {
      r = decodeRecord(src, st);
    } catch (e) {
      if (!(e instanceof Truncated)) {
        cols.length = i;
        throw e;
      }
      // (only at the end of the payload: an error there; decodeRecord() may have switched threads)
      src.pos = p;
      slot = st.park();
      pages = st.pageTable();
      page = st.lastPage;
      break;
    }
    p = src.pos;
    curPid = st.lastPid;
    curTid = st.lastTid;
    page = st.lastPage;
    slot = st.park();
    pages = st.pageTable();
    row(cols, i++, r);
  }
  if (slot >= 0) pages[slot] = page;
  st.resume(slot);
  src.pos = p;
  cols.length = i;
}

const KIND_OF: Record<string, number> = Object.fromEntries(KINDS.map((k, i) => [k, i]));

function row(cols: RecordColumns, i: number, r: TraceRecord): void {
  cols.pid[i] = r.pid;
  cols.tid[i] = r.tid ?? -1;
  if (r.t === 'access') {
    cols.kind[i] = ACCESS;
    cols.page[i] = r.page;
    cols.w[i] = r.w === undefined ? -1 : r.w ? 1 : 0;
    cols.n[i] = r.n ?? 0;
    return;
  }
  cols.kind[i] = KIND_OF[r.t] as number;
  cols.ref[i] = cols.others.length;
  cols.others.push(r);
}
