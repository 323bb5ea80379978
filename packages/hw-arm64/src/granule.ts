/**
 * Translation granules. The simulator's base page stays 4 KiB; a larger granule changes how
 * many base pages one leaf translation covers, the contiguous-bit span and the walk depth
 * (48-bit VA). README "Granules" explains the approximation.
 */
export type Granule = '4K' | '16K' | '64K';

export interface GranuleGeometry {
  readonly granule: Granule;
  /** base (4 KiB) pages per granule: 1, 4, 16 */
  readonly granulePages: number;
  /** base pages per contiguous-bit block: 16 × 4K = 64 KiB, 128 × 16K = 2 MiB, 32 × 64K = 2 MiB */
  readonly contPages: number;
  /** CONT_PTES in the granule's own pages: 16, 128, 32 */
  readonly contPtes: number;
  /** levels of a full walk to a last-level entry (48-bit VA): 4, 4, 3 */
  readonly walkLevels: number;
}

export const GRANULES: Readonly<Record<Granule, GranuleGeometry>> = Object.freeze({
  '4K': Object.freeze({ granule: '4K', granulePages: 1, contPages: 16, contPtes: 16, walkLevels: 4 }),
  '16K': Object.freeze({ granule: '16K', granulePages: 4, contPages: 512, contPtes: 128, walkLevels: 4 }),
  '64K': Object.freeze({ granule: '64K', granulePages: 16, contPages: 512, contPtes: 32, walkLevels: 3 }),
});
