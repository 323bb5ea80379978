/** ChampSim `input_instr` records (64 bytes, little-endian) built with a DataView, for the importer's tests. */
export interface Instr {
  ip?: number;
  /** destination_memory (at most 2): writes */
  dst?: number[];
  /** source_memory (at most 4): reads */
  src?: number[];
}

export function champsimBytes(instrs: Instr[]): Buffer {
  const buf = Buffer.alloc(instrs.length * 64);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.length);
  instrs.forEach((ins, k) => {
    const at = k * 64;
    v.setBigUint64(at, BigInt(ins.ip ?? 0x400000 + 4 * k), true);
    (ins.dst ?? []).forEach((a, i) => v.setBigUint64(at + 16 + 8 * i, BigInt(a), true));
    (ins.src ?? []).forEach((a, i) => v.setBigUint64(at + 32 + 8 * i, BigInt(a), true));
  });
  return buf;
}

export const HEAP = 0x10000000;
export const STACK = 0x7ffe00001000;

/**
 * 3000 instructions: 1000 reads striding 8 bytes from HEAP (pages 0x10000 ×512, 0x10001 ×488);
 * 1000 writes into the next 2 MiB chunk, 250 per page on 4 pages; 10 instructions reading
 * STACK+8 and writing STACK+16 (alternating r/w on one page), one of them also reading 2 more
 * pages through source_memory[1..2]; then 990 instructions without memory operands.
 */
export function champsimSample(): Buffer {
  const ins: Instr[] = [];
  for (let i = 0; i < 1000; i++) ins.push({ src: [HEAP + 8 * i] });
  for (let i = 0; i < 1000; i++) ins.push({ dst: [HEAP + 0x200000 + 4096 * Math.floor(i / 250) + (i % 250)] });
  for (let i = 0; i < 10; i++)
    ins.push(
      i === 5
        ? { src: [STACK + 8, STACK + 4096, STACK + 8192], dst: [STACK + 16] }
        : { src: [STACK + 8], dst: [STACK + 16] },
    );
  for (let i = 0; i < 990; i++) ins.push({});
  return champsimBytes(ins);
}
