/**
 * Mappings for a trace without OS events (ChampSim, a lackey log without syscalls): one
 * anonymous private rw mapping per 2 MiB-aligned chunk of the address space (a PMD's reach on
 * x86-64 and arm64 4K), emitted just before the first access into the chunk. The rule needs no
 * lookahead, is deterministic, and gives the replay one VMA per touched chunk (adjacent chunks
 * are separate mappings: replay does not merge them); docs/trace-format.md "Importers".
 */
import type { MmapRecord } from '../records.js';

export const CHUNK_SHIFT = 21;
export const CHUNK_SIZE = 2 ** CHUNK_SHIFT;

export class ChunkMapper {
  private readonly mapped = new Set<number>();
  private readonly pagesPerChunk: number;
  constructor(
    readonly pid: number,
    pageShift = 12,
  ) {
    this.pagesPerChunk = 2 ** (CHUNK_SHIFT - pageShift);
  }
  /** number of chunks mapped so far */
  get size(): number {
    return this.mapped.size;
  }
  /** The mmap of the page's chunk when the page is the chunk's first touch, else undefined. */
  first(page: number): MmapRecord | undefined {
    const chunk = Math.floor(page / this.pagesPerChunk);
    if (this.mapped.has(chunk)) return undefined;
    this.mapped.add(chunk);
    return { t: 'mmap', pid: this.pid, addr: chunk * CHUNK_SIZE, len: CHUNK_SIZE, prot: 'rw' };
  }
}
