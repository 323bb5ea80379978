import * as zlib from 'node:zlib';

/**
 * CRC-32 (IEEE, the zlib/gzip polynomial 0xEDB88320), incremental: crc32(chunk, previous).
 * node:zlib has it natively since Node 20.15 / 22.2; on an older Node 20 a table-driven
 * fallback gives the same values (same polynomial, init and final xor as zlib's crc32()).
 */
const native = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

let table: Uint32Array | undefined;
function fallback(data: Uint8Array, value = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = (table[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

export const crc32: (data: Uint8Array, value?: number) => number = native ?? fallback;
export const crc32Fallback = fallback;
