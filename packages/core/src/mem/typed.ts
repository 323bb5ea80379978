/**
 * Growth of the machine's typed arrays (frames, page tables, swap slots).
 *
 * Element access stays a plain typed-array index (V8 11.3 reads a resizable ArrayBuffer's
 * length-tracking views several times slower), so growing means a new array. To make that
 * rare and cheap, capacities double (log2 of the final size replacements, at most the final
 * size copied in all) and only the used prefix is copied, in OS-page blocks that skip the
 * all-zero ones: a large zero-filled ArrayBuffer is committed by the OS page by page as it is
 * written, so the spare tail and never-written blocks cost address space, not RSS.
 */
export type GrowableArray = Int32Array | Uint32Array | Uint16Array | Uint8Array | Float64Array;

/** Bytes per copy block: one 4 KiB OS page. */
const BLOCK_BYTES = 4096;

/**
 * A typed array of the same kind with `capacity` elements: the first `used` elements of `a`
 * copied in, everything else zero (optionally `fill` from `used` on, which commits it).
 */
export function grown<T extends GrowableArray>(a: T, capacity: number, used: number = a.length, fill?: number): T {
  const n = new (a.constructor as { new (n: number): T })(capacity);
  const end = Math.min(used, a.length, capacity);
  // zero test on the bits (a Float64Array's -0 is not a zero block)
  const w = a.BYTES_PER_ELEMENT < 4 ? 1 : a.BYTES_PER_ELEMENT / 4;
  const bits = w === 1 ? a : new Uint32Array(a.buffer, a.byteOffset, a.length * w);
  const step = BLOCK_BYTES / a.BYTES_PER_ELEMENT;
  for (let s = 0; s < end; s += step) {
    const e = Math.min(s + step, end);
    let i = s * w;
    while (i < e * w && bits[i] === 0) i++;
    if (i < e * w) n.set(a.subarray(Math.floor(i / w), e), Math.floor(i / w));
  }
  if (fill !== undefined) n.fill(fill, end);
  return n;
}

/**
 * The capacity to grow to for at least `min` elements: `current` doubled (from `floor`) until
 * it holds `min`, then clipped to `limit` (the most that can be needed) when `min` fits in it;
 * a multiple of `align`.
 */
export function nextCapacity(current: number, min: number, floor: number, align: number, limit = Infinity): number {
  let cap = Math.max(floor, current);
  while (cap < min) cap *= 2;
  if (min <= limit) cap = Math.min(cap, limit);
  return Math.ceil(cap / align) * align;
}
