/** Base page geometry (x86-64 / arm64 with the 4K granule). */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Entries per page-table page (PTRS_PER_PTE). */
export const PTRS_PER_TABLE = 512;
export const PMD_ORDER = 9;
export const HPAGE_PMD_NR = 1 << PMD_ORDER;
/** Pages covered by one entry at `level` (0 = PTE ... 3 = PGD). */
export const LEVEL_SPAN = [1, 512, 512 * 512, 512 * 512 * 512] as const;

/** pte_index(): index of `vpn` in its PTE table. */
export const pteIndex = (vpn: number): number => vpn & (PTRS_PER_TABLE - 1);
/** pmd_index(): index of `vpn`'s entry in its PMD table. */
export const pmdIndex = (vpn: number): number => (vpn >>> 9) & (PTRS_PER_TABLE - 1);
/** First page of the 2 MiB (one PTE table, one PMD entry) containing `vpn` (addr & PMD_MASK). */
export const pmdStart = (vpn: number): number => vpn - (vpn & (PTRS_PER_TABLE - 1));

/** Index of `vpn` in a table of `level` (0 = PTE table ... 3 = PGD). */
export function tableIndex(vpn: number, level: number): number {
  switch (level) {
    case 0:
      return vpn & 511;
    case 1:
      return (vpn >>> 9) & 511;
    case 2:
      return (vpn >>> 18) & 511;
    default:
      return Math.floor(vpn / 134217728) & 511;
  }
}

/** Largest folio order the allocator hands out (MAX_PAGE_ORDER is 10 in Linux; we need PMD order). */
export const MAX_FOLIO_ORDER = 9;

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
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
