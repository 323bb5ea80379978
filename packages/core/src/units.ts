/** Base page geometry (x86-64 / arm64 with the 4K granule). */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Entries per page-table page (PTRS_PER_PTE). */
export const PTRS_PER_TABLE = 512;
export const PMD_ORDER = 9;
export const HPAGE_PMD_NR = 1 << PMD_ORDER;
/** Largest folio order the allocator hands out (MAX_PAGE_ORDER is 10 in Linux; we need PMD order). */
export const MAX_FOLIO_ORDER = 9;

const UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4,
};

/** Parse `4096`, `"4KiB"`, `"2MiB"`, `"1GiB"`, `"64K"` into bytes. Returns NaN when malformed. */
export function parseSize(v: number | string): number {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : NaN;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  if (!m) return NaN;
  const mult = UNITS[m[2]!.toLowerCase()];
  if (mult === undefined) return NaN;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : NaN;
}

/** Bytes → pages, rounding up. */
export const bytesToPages = (bytes: number): number => Math.ceil(bytes / PAGE_SIZE);
