/** A typed array of the same kind with a larger capacity, the old contents copied in. */
export function grown<T extends Int32Array | Uint32Array | Uint16Array | Uint8Array | Float64Array>(
  a: T,
  capacity: number,
  fill?: number,
): T {
  const n = new (a.constructor as { new (n: number): T })(capacity);
  n.set(a);
  if (fill !== undefined) n.fill(fill, a.length);
  return n;
}
