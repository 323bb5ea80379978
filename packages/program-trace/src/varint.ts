/**
 * LEB128 varints (7 bits a byte, low group first, high bit = more) and zigzag-signed deltas,
 * exact for every value the trace holds (unsigned < 2^53; signed deltas of them, |d| < 2^53,
 * whose zigzag form needs up to 54 bits: encoded and decoded through BigInt past 2^49).
 */
export class ByteSink {
  buf: Uint8Array;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
  u8(v: number): void {
    this.buf[this.pos++] = v;
  }
  uvar(v: number): void {
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p++] = v;
    this.pos = p;
  }
  svar(d: number): void {
    if (d >= -0x40000000 && d < 0x40000000) {
      this.uvar(((d << 1) ^ (d >> 31)) >>> 0);
      return;
    }
    let z = d >= 0 ? BigInt(d) * 2n : BigInt(-d) * 2n - 1n;
    while (z >= 0x80n) {
      this.buf[this.pos++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.pos++] = Number(z);
  }
  bytes(data: Uint8Array): void {
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }
}

/** Thrown when a record runs past the end of the payload. */
export class Truncated extends Error {}

export class ByteSource {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  u8(): number {
    if (this.pos >= this.end) throw new Truncated();
    return this.buf[this.pos++] as number;
  }
  uvar(): number {
    const b = this.buf;
    let p = this.pos;
    if (p >= this.end) throw new Truncated();
    let x = b[p++] as number;
    if (x < 0x80) {
      this.pos = p;
      return x;
    }
    let v = x & 0x7f;
    let scale = 0x80;
    for (;;) {
      if (p >= this.end) throw new Truncated();
      x = b[p++] as number;
      v += (x & 0x7f) * scale;
      if (x < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new RangeError('varint too long');
    }
    this.pos = p;
    return v;
  }
  svar(): number {
    const start = this.pos;
    const b = this.buf;
    let p = start;
    let z = 0;
    let shift = 0;
    for (;;) {
      if (p >= this.end) throw new Truncated();
      const x = b[p++] as number;
      if (shift < 28) z |= (x & 0x7f) << shift;
      else break;
      if (x < 0x80) {
        this.pos = p;
        return (z >>> 1) ^ -(z & 1);
      }
      shift += 7;
    }
    // long form (|d| >= 2^27): exact through BigInt
    p = start;
    let big = 0n;
    let s = 0n;
    for (;;) {
      if (p >= this.end) throw new Truncated();
      const x = b[p++] as number;
      big |= BigInt(x & 0x7f) << s;
      if (x < 0x80) break;
      s += 7n;
      if (s > 63n) throw new RangeError('varint too long');
    }
    this.pos = p;
    return big & 1n ? -Number((big + 1n) >> 1n) : Number(big >> 1n);
  }
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.end) throw new Truncated();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
